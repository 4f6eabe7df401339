"""Benchmark: a full discharge of the default 1D thin-film cell to its cut-off.

Times ssbfem's discharge (mesh, model and form compilation excluded: the model is built and run
once before the timed runs) and, in the same process, PyBaMM's IDAKLU solver on the same 1D
equations discretised with 400 finite volumes (``pybamm_thin_film.py``). Also reports how far
the two voltage curves are apart up to 90 % of the discharge time, and their capacities at the
cut-off, at 0.1C, 1C and 4C: an independent check of the discretisation.

Run: ``make bench`` (installs PyBaMM through the ``bench`` extra), or
``python benchmarks/thin_film.py [--rates 1]``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from ssbfem.config import load_config
from ssbfem.model import CellModel
from ssbfem.observers import TimeSeriesRecorder
from ssbfem.results import TimeSeries
from ssbfem.runner import build_mesh, parse_steps
from ssbfem.simulation import Simulation, StepperSettings

CONFIG = Path(__file__).resolve().parents[1] / "demos" / "configs" / "thin_film.toml"
ONE_C = 2.08333  # A/m2


def ssbfem_discharge(c_rate: float, repeats: int = 3) -> dict:
    """Best wall time of `repeats` discharges, with the voltage curve of the last."""
    cfg = load_config(CONFIG, [f"experiment.steps=['Discharge at {c_rate * ONE_C} A/m2 until 3.0 V']"])
    model = CellModel(build_mesh(cfg), cfg["cell"], degree=cfg["mesh"]["degree"])
    settings = StepperSettings.from_config(cfg["solver"])
    times, sim = [], None
    for _ in range(repeats + 1):  # the first run compiles nothing new but warms caches
        series = TimeSeries(None, MPI.COMM_WORLD)
        sim = Simulation(model, parse_steps(cfg), settings, observers=[TimeSeriesRecorder(series, MPI.COMM_WORLD)])
        rows = series.rows
        start = time.perf_counter()
        sim.run()
        times.append(time.perf_counter() - start)
        sim.close()
    return {
        "time_s": np.array([r["time_s"] for r in rows]),
        "voltage_V": np.array([r["voltage_V"] for r in rows]),
        "capacity": rows[-1]["capacity_mAh_cm2"],
        "wall_s": min(times[1:]),
        "steps": sim.accepted_steps,
        "newton": sim.newton_iterations,
    }


def pybamm_discharge(c_rate: float, times: np.ndarray) -> dict | None:
    """PyBaMM's run of the same discharge; its voltage at `times` (s) from IDA's own interpolant."""
    try:
        sys.path.insert(0, str(Path(__file__).parent))
        import pybamm_thin_film as reference
    except ImportError:
        return None
    # Cold: model building, discretisation, solver set-up and the first solve, as a new user sees it.
    start = time.perf_counter()
    built = reference.build(c_rate, cells=400)
    built.solver.solve(built.model, np.array([0.0, reference.end_time_bound(c_rate)]))
    cold_s = time.perf_counter() - start
    result = reference.solve(built, c_rate)  # warm: the best of three solves after a warm-up
    # The timed solves report IDA's own steps only; for the comparison, an untimed output at our
    # steps' ends (IDA's interpolant is of its step's order: no linear interpolation either side).
    end = result["time_s"][-1]
    inside = np.unique(np.clip(times, 0.0, end))
    dense = built.solver.solve(built.model, np.array([0.0, end]), t_interp=inside)
    return {
        "time_s": dense.t,
        "voltage_V": dense["Voltage [V]"].data,
        "capacity": result["capacity_mAh_cm2"][-1],
        "wall_s": result["solve_time_s"],
        "cold_s": cold_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 1.0, 4.0])
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()} {platform.processor()}, python {platform.python_version()}")
    for rate in args.rates:
        ours = ssbfem_discharge(rate)
        line = (
            f"{rate:g}C  ssbfem: {ours['wall_s']:.3f} s ({ours['steps']} steps, {ours['newton']} Newton iterations), "
            f"capacity {ours['capacity']:.6f} mAh/cm2"
        )
        ref = pybamm_discharge(rate, ours["time_s"])
        if ref is not None:
            # at our own steps' ends, where both solutions are computed rather than interpolated
            # between points (a higher-order integrator takes long steps); apart, the first second,
            # where the diffusion layer's onset is thinner than PyBaMM's 400 finite volumes resolve
            horizon = 0.9 * ref["time_s"][-1]
            t = ours["time_s"]
            dv = np.abs(ours["voltage_V"] - np.interp(t, ref["time_s"], ref["voltage_V"]))
            early = dv[(t > 0.0) & (t < 1.0)]
            dv = dv[(t >= 1.0) & (t <= horizon)]
            line += (
                f"\n      PyBaMM IDAKLU (400 FV): warm solve {ref['wall_s'] * 1e3:.1f} ms, "
                f"cold (build, set-up, first solve) {ref['cold_s']:.2f} s, "
                f"capacity {ref['capacity']:.6f} mAh/cm2\n"
                f"      difference: max |dV| from 1 s to 90 % of the time {dv.max() * 1e3:.3f} mV "
                f"(in the first second {early.max(initial=0.0) * 1e3:.3f} mV), "
                f"capacity {(ours['capacity'] / ref['capacity'] - 1) * 100:+.4f} %"
            )
        else:
            line += "  (PyBaMM not installed: pip install -e '.[bench]')"
        print(line, flush=True)


if __name__ == "__main__":
    main()
