"""Benchmark: a 1D homogenised (P2D) discharge of the NMC811 | LLZO | Li cell of Ren et al. 2023.

The state-of-the-art column of Ren2023 Table 3 (Y. Ren et al., Adv. Energy Mater. 2023; see
../shared/reference/materials.md): 75 vol% NMC811 (d50 10 um, D 2.54e-12 cm2/s, 4.54e-2 S/cm:
the material library's NMC811), cathode 50 um, dense LLZO separator 10 um with sigma0 8e-4 S/cm,
sigma_eff = eps^(beta_tort + beta_GB) sigma0 with beta_tort 2.31 and beta_GB 1.39 (electrolyte;
the active phase keeps Bruggeman 1.5, the paper gives no exponent for it), charge-transfer
resistance 2600 ohm cm2 (i0 = RT / (F R_ct)) and secondary-phase resistance 2600 ohm cm2 (a film
in series). The NMC811 OCP is Chen2020's fit (the paper's is in a supplement not available),
298.15 K (the paper gives no temperature).

Each case runs once to compile its forms (warm-up), then is timed: the whole run() (model set-up
included) and its time loop alone, accepted steps, Newton iterations and the capacity at cut-off.
Cases:

* state of the art at 1C (3.67 mA/cm2, the capacity from x0 = 0.27 to 1 in one hour) until 3.0 V:
  the composite's electrolyte (sigma_eff 4.8e-6 S/cm) carries it at 3.24 V, and the cut-off comes
  after about 0.3 % of the capacity (Ren: "the voltage falls below cut-off almost at once" at
  10 mA/cm2); from rest Newton reaches this state through fractions of the current
  (:data:`ssbfem.integrator.CONTINUATION`);
* state of the art at 1 mA/cm2 (the paper's rate) until 3.5 V: Chen2020's OCP does not fall
  below 3.49 V (U(1) = 3.487 V), so a 3.0 V cut-off is out of reach at a low rate;
* Ren's development step 2 (beta_GB -> 0) at 1C until 3.0 V;

then, for scale, PyBaMM's DFN at 1C in the same process, and a 50-case design sweep (cathode
thickness x active fraction at step 2, 1C).

Run: ``python benchmarks/homogenised.py``.
"""

from __future__ import annotations

import contextlib
import platform
import time

from ssbfem.config import resolve
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.errors import SimulationError
from ssbfem.observers import Observer
from ssbfem.runner import run

T = 298.15
R_CT_OHM_M2 = 2600e-4  # Ren2023 T3, state of the art
I0_A_M2 = GAS_CONSTANT * T / (FARADAY * R_CT_OHM_M2)

CONFIG = {
    "model": "homogenised",
    "cell": {
        "architecture": "composite",
        "dimension": 3,
        "temperature_K": T,
        "negative": {"material": "Li"},
        "electrolyte": {"material": "LLZO", "thickness_um": 10.0, "conductivity_S_m": 8e-2},  # Ren2023 T3
        "positive": {
            "material": "NMC811",
            "thickness_um": 50.0,  # Ren2023 T3
            "exchange_current_A_m2": I0_A_M2,  # from R_ct, Ren2023 T3
            "exchange_current_law": "constant",
            "film_resistance_ohm_cm2": 2600.0,  # secondary phase, Ren2023 T3
        },
        "positive_current_collector": {"material": "Al", "thickness_um": 10.0},
        "composite": {"volume_fraction": 0.75, "particle_diameter_um": 10.0},  # Ren2023 T3
    },
    "homogenised": {
        "tortuosity_exponent_electrolyte": 2.31,  # Ren2023 T3
        "grain_boundary_exponent_electrolyte": 1.39,  # Ren2023 T3
        "radial_elements": 10,
    },
    "mesh": {"degree": 1, "electrolyte_elements": 4, "positive_elements": 16},
    "output": {"fields": False, "plot": False},
}


class Stopwatch(Observer):
    """The wall time of the time loop."""

    def on_start(self, sim) -> None:
        self.start = time.perf_counter()

    def on_stop(self, sim, status: str) -> None:
        self.seconds = time.perf_counter() - self.start


def case(name: str, step: str, grain_boundary_exponent: float = 1.39) -> dict:
    raw = {**CONFIG, "experiment": {"steps": [step]}}
    raw["homogenised"] = {**CONFIG["homogenised"], "grain_boundary_exponent_electrolyte": grain_boundary_exponent}
    cfg = resolve(raw)
    run(cfg, None)  # warm-up: compiles the forms
    t, loop = time.perf_counter(), Stopwatch()
    result = run(cfg, None, observers=[loop])
    wall = time.perf_counter() - t
    sim, series = result.simulation, result.series
    return {
        "case": name,
        "wall_s": wall,
        "loop_s": loop.seconds,
        "steps": sim.accepted_steps,
        "rejected": sim.rejected_steps,
        "newton": sim.newton_iterations,
        "capacity_mAh_cm2": float(series.column("capacity_mAh_cm2")[-1]),
        "final_V": float(series.column("voltage_V")[-1]),
    }


CASES = [
    ("state of the art, 1C to 3.0 V", "Discharge at 1C until 3.0 V", 1.39),
    ("state of the art, 1 mA/cm2 to 3.5 V", "Discharge at 10 A/m2 until 3.5 V", 1.39),
    ("beta_GB = 0 (Ren step 2), 1C to 3.0 V", "Discharge at 1C until 3.0 V", 0.0),
]


def pybamm_dfn() -> dict:
    """For scale: PyBaMM's DFN (liquid electrolyte; Chen2020 NMC811 | graphite-SiOx parameters,
    its default mesh of 20 points per domain and radius) discharged at 1C to 3.0 V with the
    IDAKLU solver, timed after a warm-up (model set-up and discretisation once, as ssbfem's
    forms are compiled once)."""
    import pybamm

    model = pybamm.lithium_ion.DFN()
    params = pybamm.ParameterValues("Chen2020")
    experiment = pybamm.Experiment(["Discharge at 1C until 3.0 V"])
    sim = pybamm.Simulation(model, parameter_values=params, experiment=experiment, solver=pybamm.IDAKLUSolver())
    sim.solve()  # warm-up
    t = time.perf_counter()
    solution = sim.solve()
    wall = time.perf_counter() - t
    return {"wall_s": wall, "capacity_Ah": float(solution["Discharge capacity [A.h]"].entries[-1])}


def sweep(points: int = 50) -> tuple[float, int]:
    """A design sweep at Ren's step 2 and 1C: cathode thickness 30-120 um x active fraction
    0.55-0.80 (``points`` cases, each model built and run in this process). Returns the wall time
    and the cases that reached the cut-off."""
    thicknesses = [30.0, 50.0, 75.0, 100.0, 120.0]
    fractions = [0.55 + 0.25 * k / max(points // len(thicknesses) - 1, 1) for k in range(points // len(thicknesses))]
    t, complete = time.perf_counter(), 0
    for thickness in thicknesses:
        for fraction in fractions:
            raw = {**CONFIG, "experiment": {"steps": ["Discharge at 1C until 3.0 V"]}}
            raw["cell"] = {**CONFIG["cell"], "positive": {**CONFIG["cell"]["positive"], "thickness_um": thickness}}
            raw["cell"]["composite"] = {**CONFIG["cell"]["composite"], "volume_fraction": fraction}
            raw["homogenised"] = {**CONFIG["homogenised"], "grain_boundary_exponent_electrolyte": 0.0}
            with contextlib.suppress(SimulationError):  # a design that fails is counted out
                complete += run(resolve(raw), None).status == "complete"
    return time.perf_counter() - t, complete


def main() -> None:
    print(f"homogenised P2D, Ren2023 T3; {platform.processor() or platform.machine()}, one core")
    columns = ("run s", 7), ("loop s", 7), ("steps", 6), ("rej", 4), ("newton", 7), ("mAh/cm2", 8), ("V end", 6)
    print(f"{'case':40s} " + " ".join(f"{name:>{width}s}" for name, width in columns))
    for name, step, beta_gb in CASES:
        r = case(name, step, beta_gb)
        print(
            f"{r['case']:40s} {r['wall_s']:7.3f} {r['loop_s']:7.3f} {r['steps']:6d} {r['rejected']:4d} "
            f"{r['newton']:7d} {r['capacity_mAh_cm2']:8.4f} {r['final_V']:6.3f}"
        )
    dfn = pybamm_dfn()
    print(f"PyBaMM DFN (Chen2020), 1C to 3.0 V: {dfn['wall_s']:.3f} s, {dfn['capacity_Ah']:.4f} Ah")
    wall, complete = sweep()
    print(f"design sweep, 50 cases (thickness x active fraction), 1C: {wall:.1f} s, {complete} complete")


if __name__ == "__main__":
    main()
