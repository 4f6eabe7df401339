"""Benchmark: cost of the coupled thermal model against the isothermal run of the same cell.

The thermal demo cell (`demos/configs/thin_film_thermal.toml`, 1D) discharged at 1C to 3.0 V,
isothermal, lumped and full, each timed (best of three after a warm-up that compiles the forms).
Target: the coupled (full) run costs at most 1.5 times the isothermal one.

Run: ``python benchmarks/thermal.py``.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

from ssbfem.config import load_config
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh, parse_steps
from ssbfem.simulation import Simulation, StepperSettings

CONFIG = Path(__file__).resolve().parents[1] / "demos" / "configs" / "thin_film_thermal.toml"


def discharge(model_name: str, repeats: int = 3) -> tuple[float, Simulation]:
    cfg = load_config(CONFIG, [f"thermal.model='{model_name}'", "experiment.steps=['Discharge at 1C until 3.0 V']"])
    model = CellModel(build_mesh(cfg), cfg["cell"], degree=cfg["mesh"]["degree"], thermal=cfg["thermal"])
    times = []
    for _ in range(repeats + 1):
        sim = Simulation(model, parse_steps(cfg), StepperSettings.from_config(cfg["solver"]))
        start = time.perf_counter()
        sim.run()
        times.append(time.perf_counter() - start)
        sim.close()
    return min(times[1:]), sim


def main() -> None:
    print(f"machine: {platform.node()} {platform.machine()}, python {platform.python_version()}")
    base, _ = discharge("isothermal")
    for name in ("isothermal", "lumped", "full"):
        wall, sim = discharge(name)
        print(
            f"{name:10s} {wall:.3f} s  ({wall / base:.2f} x isothermal), {sim.accepted_steps} steps, "
            f"{sim.newton_iterations} Newton iterations"
        )


if __name__ == "__main__":
    main()
