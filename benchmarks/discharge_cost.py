"""Benchmark: the cost of a whole discharge in Poisson solves of the same mesh.

Usage (serial or under mpiexec):

    python benchmarks/discharge_cost.py CONFIG [--set key=value ...] [-o OUT] [--reference]

Runs the experiment of CONFIG (typically "Discharge at 1C until ...") with the settings a user
gets, counting the accepted and rejected time steps, the Newton iterations, the Krylov
iterations and the Jacobian assemblies, then times one scalar Poisson solve -div(grad u) = 1
(CG + GAMG, rtol 1e-8, assembly included; :func:`scale.poisson_seconds`, best of three) on the
same mesh, same degree, same ranks, in the same process, and reports the discharge's wall time in Poisson solves.
With ``--reference`` the same discharge is run again with tolerances 100 times tighter and its
capacity and voltage are compared (the accuracy the step count buys). ``--against DIR`` compares
with the run of an earlier call instead (its OUT/run): the same discharge on another number of
ranks, for example.

The run directory (OUT, default results/discharge_cost) holds the run's own files; the summary is
printed and written to OUT/cost.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import poisson_seconds

from ssbfem.observers import Observer
from ssbfem.results import read_table
from ssbfem.runner import build_mesh, run
from ssbfem.settings import load_settings
from ssbfem.solvers import number_of_dofs


class SolverCounter(Observer):
    """Counts the Krylov iterations and Jacobian assemblies of a run's nonlinear solver."""

    def __init__(self):
        self.krylov = 0
        self.jacobians = 0
        self.jacobian_s = 0.0
        self.dofs = 0

    def on_start(self, sim) -> None:
        self.problem = sim.integrator.problem
        snes = self.problem.solver
        self.dofs = number_of_dofs(sim.model)
        snes.getKSP().setMonitor(self._krylov)
        J, P, (assemble, args, kargs) = snes.getJacobian()

        def counted(*a, **k):
            start = time.perf_counter()
            assemble(*a, **k)
            self.jacobian_s += time.perf_counter() - start

        snes.setJacobian(counted, J, P, args=args, kargs=kargs)

    def on_stop(self, sim, status: str) -> None:
        self.jacobians = self.problem.jacobian_callback.assemblies  # modified Newton skips some

    def _krylov(self, _ksp, iteration: int, _rnorm: float) -> None:
        self.krylov += iteration > 0


def discharge(config: str, overrides: list[str], out: Path) -> dict:
    """Run the config into `out`; its counts, wall time and curve."""
    settings = load_settings(config, overrides)
    counter = SolverCounter()
    comm = MPI.COMM_WORLD
    comm.barrier()
    start = time.perf_counter()
    result = run(settings, out, comm, observers=[counter])
    comm.barrier()
    wall = time.perf_counter() - start
    info = json.loads((out / "run.json").read_text())
    rows = read_table(out / "timeseries.csv")
    return {
        "status": result.status,
        "unknowns": counter.dofs,
        "wall_s": wall,
        "steps": info["accepted_steps"],
        "rejected": info["rejected_steps"],
        "newton": info["newton_iterations"],
        "krylov": comm.allreduce(counter.krylov, op=MPI.MAX),
        "jacobians": counter.jacobians,
        "jacobian_s": counter.jacobian_s,
        "capacity_mAh_cm2": info["final_capacity_mAh_cm2"],
        "time_s": np.array([float(r["time_s"]) for r in rows]),
        "voltage_V": np.array([float(r["voltage_V"]) for r in rows]),
    }


def curve(run_dir: Path) -> dict:
    """An earlier run's capacity and voltage curve."""
    info = json.loads((run_dir / "run.json").read_text())
    rows = read_table(run_dir / "timeseries.csv")
    return {
        "capacity_mAh_cm2": info["final_capacity_mAh_cm2"],
        "time_s": np.array([float(r["time_s"]) for r in rows]),
        "voltage_V": np.array([float(r["voltage_V"]) for r in rows]),
    }


def difference(case: dict, ref: dict) -> dict:
    """Relative capacity difference, and the largest voltage difference over the first 90 % of
    the shorter discharge (the reference interpolated at the case's times; the last 10 % is the
    knee, where a time shift of a step shows as volts)."""
    flat = case["time_s"] <= 0.9 * min(case["time_s"][-1], ref["time_s"][-1])
    dv = np.abs(np.interp(case["time_s"][flat], ref["time_s"], ref["voltage_V"]) - case["voltage_V"][flat])
    capacity = case["capacity_mAh_cm2"] / ref["capacity_mAh_cm2"] - 1.0
    return {"capacity_error": capacity, "voltage_error_V": float(dv.max())}


def tightened(overrides: list[str], config: str) -> list[str]:
    """The overrides with every local error tolerance 100 times tighter."""
    solver = load_settings(config, overrides).solver
    keys = ("voltage_tolerance_V", "stoichiometry_tolerance", "temperature_tolerance_K")
    return [*overrides, *(f"solver.{k}={getattr(solver, k) / 100}" for k in keys)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("-o", "--output", type=Path, default=Path("results/discharge_cost"))
    parser.add_argument("--reference", action="store_true", help="compare with tolerances 100x tighter")
    parser.add_argument("--against", type=Path, help="compare with the run in this directory")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    overrides = [*args.overrides, "output.fields=false", "output.plot=false"]
    case = discharge(args.config, overrides, args.output / "run")
    settings = load_settings(args.config, overrides)
    cellmesh = build_mesh(settings, comm)
    # best of three: one solve is short beside the noise of a shared machine
    poisson_s, cg_its, poisson_dofs = min(poisson_seconds(cellmesh, settings.mesh.degree) for _ in range(3))
    summary = {k: v for k, v in case.items() if k not in ("time_s", "voltage_V")}
    summary.update(
        ranks=comm.size,
        poisson_s=poisson_s,
        poisson_cg_iterations=cg_its,
        poisson_unknowns=poisson_dofs,
        poisson_solves=case["wall_s"] / poisson_s,
    )
    if args.reference:
        ref = discharge(args.config, tightened(overrides, args.config), args.output / "reference")
        summary.update(reference_steps=ref["steps"], **difference(case, ref))
    if args.against:
        summary.update({f"against_{k}": v for k, v in difference(case, curve(args.against)).items()})
    if comm.rank == 0:
        (args.output / "cost.json").write_text(json.dumps(summary, indent=1, default=float))
        for key, value in summary.items():
            print(f"{key:24s} {value:.6g}" if isinstance(value, float) else f"{key:24s} {value}")


if __name__ == "__main__":
    main()
