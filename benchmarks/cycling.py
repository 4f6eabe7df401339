"""Benchmark: 50 CCCV cycles of the default 1D thin-film cell, with summaries and plots.

Each cycle: "Charge at 1C until 4.2 V", "Hold at 4.2 V until C/20", "Discharge at 1C until 3.0 V"
after a first discharge from the as-built state. Times the whole run (model set-up included,
form compilation excluded by a warm-up run) writing timeseries, step and cycle tables and plots
(fields off). Target: under 2 minutes on one core.

Run: ``python benchmarks/cycling.py [--cycles 50]``.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from ssbfem.config import load_config
from ssbfem.runner import run

CONFIG = Path(__file__).resolve().parents[1] / "demos" / "configs" / "thin_film.toml"
CYCLE = ["Charge at 1C until 4.2 V", "Hold at 4.2 V until C/20", "Discharge at 1C until 3.0 V"]


def cycling(cycles: int, output: Path) -> tuple[float, object]:
    steps = f"experiment.steps=['Discharge at 1C until 3.0 V', {{cycle = {CYCLE!r}, repeat = {cycles}}}]"
    cfg = load_config(CONFIG, [steps.replace('"', "'"), "output.fields=false"])
    start = time.perf_counter()
    result = run(cfg, output)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=50)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        cycling(1, Path(tmp) / "warm-up")
        wall, result = cycling(args.cycles, Path(tmp) / "run")
        last = result.cycles[-1]
        sim = result.simulation
        jacobians = sim.problem.jacobian_callback.assemblies
        print(
            f"{args.cycles} CCCV cycles: {wall:.1f} s wall, {sim.accepted_steps} time steps "
            f"({sim.rejected_steps} rejected), {sim.newton_iterations} Newton iterations "
            f"({jacobians} Jacobians assembled); "
            f"last cycle: discharge {last['discharge_capacity_mAh_cm2']:.5f} mAh/cm2, "
            f"coulombic efficiency {last['coulombic_efficiency']:.6f}; "
            f"plots: {sorted(p.name for p in (Path(tmp) / 'run').glob('*.png'))}"
        )


if __name__ == "__main__":
    main()
