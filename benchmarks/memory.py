"""Benchmark: the memory of a coupled 3D cell, phase by phase.

Usage (serial or under mpiexec; the figures are summed over the ranks):

    python benchmarks/memory.py CONFIG [--set key=value ...]

Builds the cell of CONFIG (typically a composite from a ``mesh.file``), its model, its nonlinear
solver, and takes one backward-Euler step of 1 s at 1C from rest, recording the resident memory
after each phase and its peak within the phase: the interpreter with ssbfem and DOLFINx
imported, the mesh, the model (forms compiled), the solver (vectors and the Jacobian matrix),
the step (preconditioner or factorisation set up, Krylov or LU work). Each rank's peak starts
again at each phase (:func:`ssbfem.heap.reset_peak`, Linux): the ranks work in step within a
phase, so the sum of their phase peaks is the memory the run needed at once, where the sum of
each rank's peak over the whole run would add rank 0's reading of the mesh file to another
rank's solve (printed too, "whole run"). Prints the resident and peak memory of each phase and
the largest phase peak per unknown, over everything and above the imports (what grows with the
problem), and then the matrices the step holds, from their nonzeros (8 bytes a value, 4 a column
index, 8 a row): the Jacobian, the matrices of its constant integrals, the block sweep's
diagonal blocks and couplings, each multigrid's coarse operators and interpolations.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mpi4py import MPI

from ssbfem._dolfinx import PETSc
from ssbfem.block_preconditioner import BlockGaussSeidel
from ssbfem.heap import peak_resident_mib, reset_peak, resident_mib
from ssbfem.model import CellModel
from ssbfem.petsc_c import shares_pattern
from ssbfem.runner import build_mesh
from ssbfem.settings import load_settings
from ssbfem.solvers import create_solver, number_of_dofs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import prepare_step_from_rest


def matrix_mib(matrix: PETSc.Mat | None, values_only: bool = False) -> float:
    """A matrix's values, column indices and row offsets on this rank (MiB), from its nonzeros
    (`values_only`: its values and row offsets, its pattern another matrix's)."""
    if matrix is None:
        return 0.0
    info = matrix.getInfo(PETSc.Mat.InfoType.LOCAL)
    if values_only:  # made on another matrix's arrays: PETSc counts no allocation
        return (info["nz_used"] * 8 + matrix.getLocalSize()[0] * 8) / 2**20
    return (info["nz_allocated"] * 12 + matrix.getLocalSize()[0] * 8) / 2**20


def held_matrices(problem) -> dict[str, float]:
    """MiB on this rank of the matrices a solve holds, by what they are."""
    held = {"Jacobian": matrix_mib(problem.A)}
    constant = problem.jacobian_callback.constant
    if constant is not None:
        shared = shares_pattern(constant.K, problem.A)  # K's diagonal block reads the Jacobian's pattern
        held["constant integrals (K, M)"] = matrix_mib(constant.K, values_only=shared) + matrix_mib(constant.M)
    pc = problem.solver.getKSP().getPC()
    sweep = pc.getPythonContext() if pc.getType() == PETSc.PC.Type.PYTHON else None
    if not isinstance(sweep, BlockGaussSeidel):
        return held
    held["sweep: diagonal blocks"] = sum(matrix_mib(m) for m in sweep._diagonal)
    held["sweep: couplings"] = sum(matrix_mib(m) for m in sweep._lower)
    for name, solver in zip(sweep.names, sweep._solvers, strict=True):
        multigrid = solver.getPC()
        if multigrid.getType() != PETSc.PC.Type.GAMG:
            continue
        levels = multigrid.getMGLevels()
        coarse = sum(matrix_mib(multigrid.getMGSmoother(k).getOperators()[0]) for k in range(levels - 1))
        interpolation = sum(matrix_mib(multigrid.getMGInterpolation(k)) for k in range(1, levels))
        held[f"GAMG {name} ({levels} levels): coarse operators, interpolations"] = coarse + interpolation
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    phases = [("imports", resident_mib(), peak_resident_mib())]
    reset_peak()

    def mark(name: str) -> None:
        comm.barrier()
        phases.append((name, resident_mib(), peak_resident_mib()))
        reset_peak()

    settings = load_settings(args.config, args.overrides)
    cellmesh = build_mesh(settings, comm)
    mark("mesh")
    model = CellModel(cellmesh, settings.cell, degree=settings.mesh.degree, thermal=settings.thermal)
    model.set_initial_state()
    mark("model (forms compiled)")
    problem = create_solver(model, settings.solver.petsc_options, settings.solver.linear_solver)
    mark("solver (vectors, Jacobian matrix)")
    prepare_step_from_rest(model, settings)
    problem.solve()
    mark("one time step")
    dofs = number_of_dofs(model)
    nonzeros = problem.A.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)["nz_used"]
    summed = [(name, comm.allreduce(rss), comm.allreduce(peak)) for name, rss, peak in phases]
    whole_run = comm.allreduce(max(peak for _, _, peak in phases))  # each rank's own largest
    held = {name: comm.allreduce(mib) for name, mib in held_matrices(problem).items()}
    if comm.rank == 0:
        snes = problem.solver
        print(f"ranks {comm.size}; unknowns {dofs}; Jacobian nonzeros {nonzeros:.0f}")
        print(f"step: {snes.getIterationNumber()} Newton, {snes.getLinearSolveIterations()} {snes.getKSP().getType()}")
        print(f"{'phase':36s} {'resident MiB':>12s} {'phase peak MiB':>14s}")
        for name, rss, peak in summed:
            print(f"{name:36s} {rss:12.1f} {peak:14.1f}")
        peak, base = max(p for _, _, p in summed), summed[0][1]
        per_unknown, above = peak * 2**20 / dofs, (peak - base) * 2**20 / dofs
        print(f"largest phase peak per unknown: {per_unknown:.0f} B; above the imports: {above:.0f} B")
        print(f"whole run, each rank's peak summed: {whole_run:.1f} MiB, {whole_run * 2**20 / dofs:.0f} B per unknown")
        print(f"resident after the step per unknown: {summed[-1][1] * 2**20 / dofs:.0f} B")
        print("matrices held after the step (MiB, summed over the ranks):")
        for name, mib in held.items():
            print(f"  {name:60s} {mib:9.1f}")


if __name__ == "__main__":
    main()
