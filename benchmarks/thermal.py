"""Benchmark: cost of the coupled thermal model against the isothermal run of the same cell.

The thermal demo cell (`demos/configs/thin_film_thermal.toml`, 1D) discharged at 1C to 3.0 V,
isothermal, lumped and full, each timed (best of five, run in turn, after a warm-up that compiles
the forms).
Target: the coupled (full) run costs at most 1.5 times the isothermal one.

Run: ``python benchmarks/thermal.py``.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

from ssbfem.model import CellModel
from ssbfem.runner import build_mesh, parse_steps
from ssbfem.settings import load_settings
from ssbfem.simulation import Simulation, StepperSettings

CONFIG = Path(__file__).resolve().parents[1] / "demos" / "configs" / "thin_film_thermal.toml"


def prepared(model_name: str):
    """The model and settings of one thermal model, its forms compiled by a warm-up run."""
    cfg = load_settings(CONFIG, [f"thermal.model='{model_name}'", "experiment.steps=['Discharge at 1C until 3.0 V']"])
    model = CellModel(build_mesh(cfg), cfg.cell, degree=cfg.mesh.degree, thermal=cfg.thermal)
    timed(model, cfg)
    return model, cfg


def timed(model, cfg) -> tuple[float, Simulation]:
    sim = Simulation(model, parse_steps(cfg), StepperSettings.from_config(cfg.solver))
    start = time.perf_counter()
    sim.run()
    wall = time.perf_counter() - start
    sim.close()
    return wall, sim


def main(repeats: int = 5) -> None:
    """Each model's best of `repeats`, the three run in turn so that load from other jobs falls
    on all of them alike."""
    print(f"machine: {platform.node()} {platform.machine()}, python {platform.python_version()}")
    names = ("isothermal", "lumped", "full")
    models = {name: prepared(name) for name in names}
    best: dict[str, tuple[float, Simulation]] = {}
    for _ in range(repeats):
        for name in names:
            wall, sim = timed(*models[name])
            if name not in best or wall < best[name][0]:
                best[name] = (wall, sim)
    base = best["isothermal"][0]
    for name in names:
        wall, sim = best[name]
        print(
            f"{name:10s} {wall:.3f} s  ({wall / base:.2f} x isothermal), {sim.accepted_steps} steps, "
            f"{sim.newton_iterations} Newton iterations"
        )


if __name__ == "__main__":
    main()
