"""Benchmark: constriction resistance of patchy Li contact under mesh refinement.

The default thin-film cell (`demos/configs/thin_film.toml`) with a 2 um positive electrode, fast
diffusion (1e-10 m2/s) and fast Li kinetics (i0 = 1e4 A/m2), discharged at 0.2 A/m2 for 1 s,
with full contact (1D) and with contact spots of area fraction f on a square pitch of 2 um (3D,
`[cell.contact]`). The extra resistance (V_full - V_patchy)/I is set beside the constriction
resistance of an equipotential disk on a long circular flux tube of the same area fraction,
pitch^2 psi(sqrt f)/(4 kappa a) (Roess series, Yovanovich and Marotta 2003), at three mesh levels
(element sizes 0.25/s um, edge a/(20 s)) with a Richardson extrapolation of the order observed.
First, case G (the disk electrode of tests/test_contact.py) at four levels of edge refinement.

Run: ``python benchmarks/contact.py``.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from pathlib import Path

from ssbfem.config import load_config
from ssbfem.runner import build_mesh, run

CONFIG = Path(__file__).resolve().parents[1] / "demos" / "configs" / "thin_film.toml"
CURRENT = 0.2  # A/m2
PITCH_UM = 2.0
COMMON = [
    "cell.negative.exchange_current_A_m2=1e4",
    "cell.positive.thickness_um=2.0",
    "cell.positive.diffusivity_m2_s=1e-10",
    f"experiment.steps=['Discharge at {CURRENT} A/m2 for 1 second']",
    "solver.initial_step_s=0.5",
    "output.fields=false",
    "output.plot=false",
]


def roess(f: float) -> float:
    eps = math.sqrt(f)
    return 1 - 1.40925 * eps + 0.29591 * eps**3 + 0.05254 * eps**5 + 0.02105 * eps**7


def final_voltage(overrides: list[str]) -> tuple[float, int, float]:
    cfg = load_config(CONFIG, COMMON + overrides)
    cells = build_mesh(cfg).mesh.topology.index_map(cfg["cell"]["dimension"]).size_global
    run(cfg)  # compiles the forms
    start = time.perf_counter()
    result = run(cfg)
    return float(result.series.column("voltage_V")[-1]), cells, time.perf_counter() - start


def case_g() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_contact import COUNTER, KAPPA, RADIUS, _solve_disk

    from ssbfem.geometry.tags import MESH_UNIT_M

    a, b = RADIUS * MESH_UNIT_M, COUNTER * MESH_UNIT_M
    reference = 1.0 / (4 * KAPPA * a) - 1.0 / (2 * math.pi * KAPPA * b)
    print("| edge size / a | resistance error | i/i_avg at r/a in [0, 0.1) | in [0.45, 0.55) | mesh + solve (s) |")
    print("|---|---|---|---|---|")
    for level in range(4):
        start = time.perf_counter()
        resistance, bands = _solve_disk(0.1 * RADIUS / 2**level, 0.6 / 2**level)
        print(
            f"| {0.1 / 2**level:g} | {resistance / reference - 1:+.3%} | {bands[0.0]:.4f} (0.5013) "
            f"| {bands[0.45]:.4f} (0.5786) | {time.perf_counter() - start:.1f} |",
            flush=True,
        )


def main() -> None:
    print(f"{time.strftime('%Y-%m-%d')}, {platform.python_version()}")
    case_g()
    v_full, _, _ = final_voltage([])
    kappa = load_config(CONFIG)["cell"]["electrolyte"]["conductivity_S_m"]
    print("| f | a (um) | level s | cells | R_extra (ohm cm2) | Roess (ohm cm2) | ratio - 1 | run (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for f in (0.1, 0.2, 0.4):
        a = PITCH_UM * math.sqrt(f / math.pi)
        reference = (PITCH_UM * 1e-6) ** 2 * roess(f) / (4 * kappa * a * 1e-6)
        extras = []
        for s in (1, 2, 3):
            contact = f"{{spot_radius_um = {a}, area_fraction = {f}, element_size_um = {0.25 / s}, "
            contact += f"edge_element_size_um = {a / 20 / s}}}"
            v, cells, seconds = final_voltage(["cell.dimension=3", f"cell.contact={contact}"])
            extras.append((v_full - v) / CURRENT)
            print(
                f"| {f} | {a:.4f} | {s} | {cells} | {extras[-1] * 1e4:.5f} | {reference * 1e4:.5f} "
                f"| {extras[-1] / reference - 1:+.2%} | {seconds:.1f} |",
                flush=True,
            )
        # error ~ C s^-p: (e1 - e2)/(e2 - e3) = (1 - 2^-p)/(2^-p - 3^-p), solved for p by bisection
        d12, d23 = extras[1] - extras[0], extras[2] - extras[1]
        lo, hi = 0.1, 4.0
        for _ in range(60):
            p = 0.5 * (lo + hi)
            lo, hi = (p, hi) if (1 - 2**-p) / (2**-p - 3**-p) < d12 / d23 else (lo, p)
        limit = extras[2] + d23 * 3**-p / (2**-p - 3**-p)
        print(f"| {f} | | extrapolated (p = {p:.2f}) | | {limit * 1e4:.5f} | | {limit / reference - 1:+.2%} | |")


if __name__ == "__main__":
    main()
