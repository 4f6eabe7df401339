"""Cost of one coupled Newton step against one scalar Poisson solve on the same mesh.

Usage (serial and on 2 ranks, for the speed-up):

    python benchmarks/scale.py CONFIG [--set key=value ...]
    mpiexec -n 2 python benchmarks/scale.py CONFIG [--set key=value ...]

Builds the cell of CONFIG, takes one backward-Euler step of 1 s at 1C from rest with the solver
the config selects (the iterative field-split preset above 20k unknowns), and times it beside
one Poisson solve -div(grad u) = 1 (u = 0 on the positive terminal) with CG + GAMG, rtol 1e-8,
in the same polynomial degree on the whole mesh, assembly included (best of three). A Newton step is one
iteration of Newton's method (assemble the residual and the Jacobian, solve the linear system);
the script reports its mean over the time step, the time spent assembling Jacobians, and the
whole time step. Prints unknowns, times, Krylov iterations and the peak memory per unknown
(maximum resident set over the ranks, summed).
"""

from __future__ import annotations

import argparse
import resource
import time

import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh, one_c_current
from ssbfem.settings import load_settings
from ssbfem.solvers import create_solver, number_of_dofs

fem = dolfinx.fem


def poisson_seconds(cellmesh, degree: int) -> tuple[float, int, int]:
    """(solve time, CG iterations, unknowns) of one Poisson solve with GAMG: PETSc's defaults,
    and if they fail, with GAMG's smoother eigenvalue estimate over 50 Krylov iterations instead
    of 10 (a mesh with one nearly flat tetrahedron made the default indefinite)."""
    msh = cellmesh.mesh
    V = fem.functionspace(msh, ("Lagrange", degree))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    tdim = msh.topology.dim
    dofs = fem.locate_dofs_topological(V, tdim - 1, cellmesh.facets("positive_terminal"))
    bc = fem.dirichletbc(0.0, dofs, V)
    for extra in ({}, {"pc_gamg_esteig_ksp_max_it": 50}):
        options = {"ksp_type": "cg", "ksp_rtol": 1e-8, "pc_type": "gamg", **extra}
        problem = fem.petsc.LinearProblem(
            ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx,
            1.0 * v * ufl.dx,
            bcs=[bc],
            petsc_options=options,
            petsc_options_prefix="poisson_",
        )
        msh.comm.barrier()
        start = time.perf_counter()
        problem.solve()
        msh.comm.barrier()
        elapsed = time.perf_counter() - start
        reason = problem.solver.getConvergedReason()
        if reason > 0:
            return elapsed, problem.solver.getIterationNumber(), V.dofmap.index_map.size_global
        if msh.comm.rank == 0:
            print(
                f"the Poisson solve did not converge (KSP reason {reason}) with {extra or 'the defaults'}", flush=True
            )
    # A failed solve's time and iterations are no yardstick
    raise RuntimeError("the Poisson solve did not converge")


def prepare_step_from_rest(model: CellModel, settings) -> None:
    """Set up one backward-Euler step of 1 s at 1C from the model's initial state (a0 = 1)."""
    model.set_control("current", one_c_current(settings.cell))
    model.inv_dt.value = 1.0
    for u, u_hist, _ in model.dynamic:
        u_hist.x.array[:] = -u.x.array


def _time_jacobian(snes) -> list[float]:
    """Wrap the SNES Jacobian callback; the returned list accumulates its wall time."""
    total = [0.0]
    J, P, (assemble, args, kargs) = snes.getJacobian()

    def timed(*a, **k):
        start = time.perf_counter()
        assemble(*a, **k)
        total[0] += time.perf_counter() - start

    snes.setJacobian(timed, J, P, args=args, kargs=kargs)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    settings = load_settings(args.config, args.overrides)
    start = time.perf_counter()
    cellmesh = build_mesh(settings, comm)
    mesh_s = time.perf_counter() - start
    model = CellModel(cellmesh, settings.cell, degree=settings.mesh.degree, thermal=settings.thermal)
    model.set_initial_state()
    problem = create_solver(model, settings.solver.petsc_options, settings.solver.linear_solver)
    prepare_step_from_rest(model, settings)
    snes = problem.solver
    jacobian_s = _time_jacobian(snes)
    comm.barrier()
    start = time.perf_counter()
    problem.solve()
    comm.barrier()
    newton_s = time.perf_counter() - start
    # Best of three, as discharge_cost.py: each solve sets GAMG up afresh, and the timing of one
    # solve moves with the machine's state by more than the coupled step's does.
    poisson_s, cg_its, poisson_dofs = min(poisson_seconds(cellmesh, settings.mesh.degree) for _ in range(3))
    peak_kib = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, op=MPI.SUM)
    dofs = number_of_dofs(model)
    if comm.rank == 0:
        ksp_type = snes.getKSP().getType()
        cells = cellmesh.mesh.topology.index_map(cellmesh.dimension).size_global
        its = snes.getIterationNumber()
        print(f"ranks {comm.size}; unknowns {dofs}; cells {cells}")
        print(f"mesh (build + distribute) {mesh_s:.1f} s")
        print(
            f"time step: {newton_s:.2f} s, {its} Newton iterations, {snes.getLinearSolveIterations()} "
            f"{ksp_type} iterations, converged reason {snes.getConvergedReason()}; Jacobian assembly "
            f"{jacobian_s[0]:.2f} s in all"
        )
        print(f"one Poisson solve ({poisson_dofs} unknowns, CG + GAMG): {poisson_s:.2f} s, {cg_its} iterations")
        print(f"Newton step (mean): {newton_s / its:.2f} s; / Poisson solve: {newton_s / its / poisson_s:.2f}")
        print(f"time step / Poisson solve: {newton_s / poisson_s:.2f}")
        print(f"peak memory {peak_kib / 2**20:.2f} GiB, {peak_kib * 1024 / dofs:.0f} B per unknown")


if __name__ == "__main__":
    main()
