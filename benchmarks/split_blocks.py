"""Each field-split block of the coupled Jacobian alone: Krylov iterations per preconditioner.

Usage (serial or under mpiexec):

    python benchmarks/split_blocks.py CONFIG [--dt SECONDS] [--blocks lithium,phi_e] [--set key=value ...]

Builds the cell of CONFIG, assembles the Jacobian of one backward-Euler step of ``--dt`` seconds
at 1C from rest (as benchmarks/scale.py), takes each diagonal block the iterative preset's field
split preconditions (its rows and columns of the monolithic matrix) and solves it for a random
right-hand side with GMRES to rtol 1e-8 under several preconditioners: the iterations count how
well one application of each approximates the block's inverse, and how that changes with the
mesh. Prints per block its size, the range of its diagonal, and per preconditioner the
iterations and the wall time (set-up included).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mpi4py import MPI

from ssbfem._dolfinx import PETSc
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh
from ssbfem.settings import load_settings
from ssbfem.solvers import create_solver, field_split_rows, gather

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import prepare_step_from_rest

#: Block preconditioners compared: GAMG as the preset had it for every block, with the
#: potentials' aggregation threshold, with more smoothing, without aggressive coarsening on the
#: first level; incomplete LU on each rank's rows (block Jacobi), under GMRES and as Richardson
#: sweeps (whether a fixed number of sweeps converges); the diagonal.
VARIANTS = {
    "gamg": {"pc_type": "gamg", "mg_levels_ksp_max_it": 3},
    "gamg threshold 0.02": {"pc_type": "gamg", "mg_levels_ksp_max_it": 3, "pc_gamg_threshold": 0.02},
    "gamg 5 smoothing": {"pc_type": "gamg", "mg_levels_ksp_max_it": 5, "pc_gamg_threshold": 0.02},
    "gamg no aggressive": {
        "pc_type": "gamg",
        "mg_levels_ksp_max_it": 3,
        "pc_gamg_threshold": 0.02,
        "pc_gamg_aggressive_coarsening": 0,
    },
    "ilu(0) per rank": {"pc_type": "bjacobi", "sub_pc_type": "ilu"},
    "ilu(0), richardson": {"ksp_type": "richardson", "pc_type": "bjacobi", "sub_pc_type": "ilu"},
    "jacobi": {"pc_type": "jacobi"},
}


def solve_block(block: PETSc.Mat, rhs: PETSc.Vec, prefix: str, options: dict) -> tuple[int, float]:
    """(GMRES iterations to rtol 1e-8, wall time with set-up) for one preconditioner."""
    ksp = PETSc.KSP().create(block.comm)
    ksp.setOperators(block)
    ksp.setOptionsPrefix(prefix)
    db = PETSc.Options()
    settings = {"ksp_type": "gmres", "ksp_rtol": 1e-8, "ksp_max_it": 500, "ksp_gmres_restart": 100, **options}
    for key, value in settings.items():
        db[prefix + key] = value
    ksp.setFromOptions()
    x = block.createVecRight()
    block.comm.tompi4py().barrier()
    start = time.perf_counter()
    ksp.solve(rhs, x)
    elapsed = time.perf_counter() - start
    iterations = ksp.getIterationNumber()
    for key in settings:
        del db[prefix + key]
    ksp.destroy()
    x.destroy()
    return iterations, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--dt", type=float, default=1.0, help="time step, s (default 1)")
    parser.add_argument("--blocks", default="", help="comma-separated split names (default: all but the voltage)")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    settings = load_settings(args.config, args.overrides)
    model = CellModel(build_mesh(settings, comm), settings.cell, degree=settings.mesh.degree, thermal=settings.thermal)
    model.set_initial_state()
    problem = create_solver(model, None, "iterative")
    prepare_step_from_rest(model, settings)
    model.inv_dt.value = 1.0 / args.dt
    gather(*problem.layout, problem.x)
    problem.jacobian_callback(problem.solver, problem.x, problem.A, None)
    rows = field_split_rows(model, problem.A.getOwnershipRange()[0])
    names = args.blocks.split(",") if args.blocks else [name for name in rows if name != "voltage"]
    for name in names:
        index_set = PETSc.IS().createGeneral(rows[name], comm=comm)
        block = problem.A.createSubMatrix(index_set, index_set)
        diagonal = block.getDiagonal()
        low, high = diagonal.min()[1], diagonal.max()[1]  # collective
        rhs = block.createVecLeft()
        rhs.setRandom()
        for k, (label, options) in enumerate(VARIANTS.items()):
            iterations, elapsed = solve_block(block, rhs, f"split_{name}_{k}_", options)
            if comm.rank == 0:
                print(
                    f"{name:10s} {block.getSize()[0]:9d} rows, diagonal [{low:.3g}, {high:.3g}]  "
                    f"{label:20s} {iterations:4d} its {elapsed:7.2f} s",
                    flush=True,
                )
        for obj in (block, diagonal, rhs, index_set):
            obj.destroy()


if __name__ == "__main__":
    main()
