"""Cost of one coupled Newton step against one scalar Poisson solve on the same mesh.

Usage (serial and on 2 ranks, for the speed-up):

    python benchmarks/scale.py CONFIG [--set key=value ...]
    mpiexec -n 2 python benchmarks/scale.py CONFIG [--set key=value ...]

Builds the cell of CONFIG, takes one backward-Euler step of 1 s at 1C from rest with the solver
the config selects (the iterative field-split preset above 300k unknowns), and times it beside
one Poisson solve -div(grad u) = 1 (u = 0 on the positive terminal) with CG + GAMG, rtol 1e-8,
in the same polynomial degree on the whole mesh. Prints unknowns, times, Krylov iterations and
the peak memory per unknown (maximum resident set over the ranks, summed).
"""

from __future__ import annotations

import argparse
import resource
import time

import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.config import load_config
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh, one_c_current
from ssbfem.solvers import create_solver, number_of_dofs

fem = dolfinx.fem


def poisson_seconds(cellmesh, degree: int) -> tuple[float, int, int]:
    """(solve time, CG iterations, unknowns) of one Poisson solve with GAMG."""
    msh = cellmesh.mesh
    V = fem.functionspace(msh, ("Lagrange", degree))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    tdim = msh.topology.dim
    dofs = fem.locate_dofs_topological(V, tdim - 1, cellmesh.facets("positive_terminal"))
    bc = fem.dirichletbc(0.0, dofs, V)
    options = {"ksp_type": "cg", "ksp_rtol": 1e-8, "pc_type": "gamg"}
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
    return elapsed, problem.solver.getIterationNumber(), V.dofmap.index_map.size_global


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    cfg = load_config(args.config, args.overrides)
    start = time.perf_counter()
    cellmesh = build_mesh(cfg, comm)
    mesh_s = time.perf_counter() - start
    model = CellModel(cellmesh, cfg["cell"], degree=cfg["mesh"]["degree"], thermal=cfg["thermal"])
    model.set_initial_state()
    problem = create_solver(model, cfg["solver"]["petsc_options"], cfg["solver"]["linear_solver"])
    model.set_control("current", one_c_current(cfg["cell"]))
    model.inv_dt.value = 1.0
    for u, u_n, u_nm1, _ in model.dynamic:
        u_n.x.array[:] = u.x.array
        u_nm1.x.array[:] = u.x.array
    comm.barrier()
    start = time.perf_counter()
    problem.solve()
    comm.barrier()
    newton_s = time.perf_counter() - start
    snes = problem.solver
    poisson_s, cg_its, poisson_dofs = poisson_seconds(cellmesh, cfg["mesh"]["degree"])
    peak_kib = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, op=MPI.SUM)
    dofs = number_of_dofs(model)
    if comm.rank == 0:
        ksp_type = snes.getKSP().getType()
        cells = cellmesh.mesh.topology.index_map(cellmesh.dimension).size_global
        print(f"ranks {comm.size}; unknowns {dofs}; cells {cells}")
        print(f"mesh (build + distribute) {mesh_s:.1f} s")
        print(
            f"one Newton step: {newton_s:.2f} s, {snes.getIterationNumber()} Newton iterations, "
            f"{snes.getLinearSolveIterations()} {ksp_type} iterations, converged reason {snes.getConvergedReason()}"
        )
        print(f"one Poisson solve ({poisson_dofs} unknowns, CG + GAMG): {poisson_s:.2f} s, {cg_its} iterations")
        print(f"Newton step / Poisson solve: {newton_s / poisson_s:.2f}")
        print(f"peak memory {peak_kib / 2**20:.2f} GiB, {peak_kib * 1024 / dofs:.0f} B per unknown")


if __name__ == "__main__":
    main()
