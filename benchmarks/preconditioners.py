"""The coupled Jacobian's linear solve under variants of the preset's preconditioner.

Usage (serial or under mpiexec):

    python benchmarks/preconditioners.py CONFIG [--dt 1,30] [--rtol 3e-3] [--set key=value ...]

Builds the cell of CONFIG, takes one backward-Euler step of 1 s at 1C from rest (as
benchmarks/scale.py) and, at that state, for each time step of ``--dt``, assembles the Jacobian
and the residual and solves the Newton system as the iterative preset does (GMRES, right
preconditioning, the preset's rtol unless ``--rtol``, restart 30) with one block Gauss-Seidel sweep
(:class:`ssbfem.block_preconditioner.BlockGaussSeidel`) whose blocks and block solvers vary:
the preset (lithium, voltage, phi_e, psi_pos; GAMG with three Chebyshev smoothing steps), the
lithium block by SOR, block-Jacobi ILU(0) or Jacobi, fewer smoothing steps, psi_pos before
phi_e, both potentials in one GAMG block, SOR inside the potentials' Chebyshev smoothing.
Prints per variant the GMRES iterations, the set-up (every block's, from scratch) and the solve's
wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from ssbfem._dolfinx import PETSc
from ssbfem.block_preconditioner import BlockGaussSeidel
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh
from ssbfem.settings import load_settings
from ssbfem.solvers import create_solver, field_split_rows, gather, iterative_options

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import prepare_step_from_rest


def variants(preset: dict[str, dict]) -> dict[str, list]:
    """name -> blocks in sweep order: (block name, field-split groups in it, block solver
    options), built from the preset's block options `preset` (by field-split name)."""
    order = [("lithium", ["lithium"]), ("voltage", ["voltage"]), ("phi_e", ["phi_e"]), ("psi_pos", ["psi_pos"])]
    blocks = [(name, groups, preset[name]) for name, groups in order]

    def lithium(options: dict) -> list:
        return [("lithium", ["lithium"], options), *blocks[1:]]

    def smoothing(steps: int) -> list:
        return [(n, g, {**o, "mg_levels_ksp_max_it": steps} if o["pc_type"] == "gamg" else o) for n, g, o in blocks]

    return {
        "preset": blocks,
        "lithium SOR": lithium({"pc_type": "sor"}),
        "lithium block-Jacobi ILU(0)": lithium({"pc_type": "bjacobi", "sub_pc_type": "ilu"}),
        "lithium Jacobi": lithium({"pc_type": "jacobi"}),
        "2 smoothing steps": smoothing(2),
        "1 smoothing step": smoothing(1),
        "psi_pos before phi_e": [*blocks[:2], blocks[3], blocks[2]],
        "potentials in one block": [*blocks[:2], ("potentials", ["phi_e", "psi_pos"], preset["phi_e"])],
        "SOR in the potentials' smoothing": [
            *blocks[:2],
            *((n, g, {**o, "mg_levels_pc_type": "sor"}) for n, g, o in blocks[2:]),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--dt", default="1,30", help="comma-separated time steps, s (default 1,30)")
    parser.add_argument("--rtol", type=float, default=None, help="GMRES relative tolerance (default the preset's)")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    settings = load_settings(args.config, args.overrides)
    model = CellModel(build_mesh(settings, comm), settings.cell, degree=settings.mesh.degree, thermal=settings.thermal)
    if model.bcs:
        raise SystemExit("a cell with Dirichlet conditions (a fixed temperature) is not supported here")
    model.set_initial_state()
    problem = create_solver(model, None, "iterative")
    prepare_step_from_rest(model, settings)
    problem.solve()  # the state after one step of 1 s at 1C
    for u, u_hist, _ in model.dynamic:
        u_hist.x.array[:] = -u.x.array
    rows = field_split_rows(model, problem.A.getOwnershipRange()[0])
    options = iterative_options(model)
    preset = {  # each block's options but its KSP type (preonly)
        name: {
            key.removeprefix(f"fieldsplit_{name}_"): value
            for key, value in options.items()
            if key.startswith(f"fieldsplit_{name}_") and key != f"fieldsplit_{name}_ksp_type"
        }
        for name in rows
    }
    rtol = options["ksp_rtol"] if args.rtol is None else args.rtol

    def index_set(names: list[str]) -> PETSc.IS:
        return PETSc.IS().createGeneral(np.sort(np.concatenate([rows[name] for name in names])), comm=comm)

    db = PETSc.Options()
    for dt in (float(x) for x in args.dt.split(",")):
        model.inv_dt.value = 1.0 / dt
        gather(*problem.layout, problem.x)
        problem.jacobian_callback(problem.solver, problem.x, problem.A, None)
        problem.solver.computeFunction(problem.x, problem.b)
        for k, (label, blocks) in enumerate(variants(preset).items()):
            prefix = f"variant{k}_"
            ksp = PETSc.KSP().create(comm)
            ksp.setOptionsPrefix(prefix)
            ksp.setType(PETSc.KSP.Type.GMRES)
            ksp.setTolerances(rtol=rtol, max_it=options["ksp_max_it"])
            ksp.setGMRESRestart(options["ksp_gmres_restart"])
            ksp.setPCSide(PETSc.PC.Side.RIGHT)
            ksp.setOperators(problem.A)
            ksp.getPC().setType(PETSc.PC.Type.PYTHON)
            block_options = {
                f"{prefix}fieldsplit_{name}_{key}": value for name, _, given in blocks for key, value in given.items()
            }
            for key, value in block_options.items():
                db[key] = value
            sweep = BlockGaussSeidel()
            sweep.set_blocks([(name, index_set(names)) for name, names, _ in blocks], prefix)
            ksp.getPC().setPythonContext(sweep)
            ksp.setFromOptions()
            x = problem.A.createVecRight()
            comm.barrier()
            t0 = time.perf_counter()
            ksp.setUp()
            comm.barrier()
            t1 = time.perf_counter()
            ksp.solve(problem.b, x)
            comm.barrier()
            t2 = time.perf_counter()
            iterations = ksp.getIterationNumber()
            if comm.rank == 0:
                record = {"dt_s": dt, "variant": label, "gmres": iterations, "setup_s": t1 - t0, "solve_s": t2 - t1}
                print(json.dumps(record), flush=True)
            for key in block_options:
                del db[key]
            ksp.destroy()
            x.destroy()


if __name__ == "__main__":
    main()
