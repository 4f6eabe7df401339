"""The development path of Ren et al. 2023 (figure 9d) with the homogenised (P2D) model: the
specific energy of an NMC811 | LLZO | Li cell as its composite cathode is improved step by step.

Y. Ren et al., Adv. Energy Mater. 2023, Table 3: 75 vol% NMC811 in LLZO, a 50 or 100 um composite
cathode on a 10 um dense LLZO separator, Li metal, discharged at 1 and 10 mA/cm2. The base config
(demos/configs/ren2023_nmc811_llzo.toml) is the cell at the end of the path; each step of the path
is that config with the state-of-the-art values (Table 3) of the parameters not yet improved:

1. state of the art;
2. grain-boundary exponent beta_GB 1.39 -> 0;
3. secondary-phase resistance 2600 -> 0 and charge-transfer resistance 2600 -> 150 ohm cm2;
4. tortuosity exponent beta_tort 2.31 -> 1.5;
5. NMC811 diffusivity 2.54e-12 -> 2.54e-11 cm2/s;
6. d50 10 -> 0.1 um (and, beside the path, 5 + d50 2.5 um: "5b");
7. LLZO conductivity sigma0 8e-4 -> 2e-3 S/cm;
8. sigma0 -> 1e-2 S/cm.

The NMC811's electronic conductivity stays at its state-of-the-art 4.54e-2 S/cm (the path does
not change it). The NMC811 OCP is Chen2020's fit (Ren2023's U(x), D(x) are in a supplement not
available), x from 0.27 (the library's initial stoichiometry). Each discharge runs to 3.5 V: the
paper gives no cut-off, and Chen2020's OCP does not fall below 3.487 V (at x = 1), so a 3.0 V
cut-off is out of reach at a low rate (the surface would be driven past x = 1).

Specific energy = the energy delivered per footprint (the time series' ``energy_mWh_cm2`` at the
end) over the mass per footprint of the composite's NMC811 and LLZO and the dense LLZO layer (Li
and the collector left out, as in Ren2023's theoretical 519 / 567 Wh/kg); the theoretical is the
whole capacity from x0 to 1 at the OCP, int U dx. A cell whose voltage is below the cut-off as soon
as the current is applied (steps 1 and 2 at 10 mA/cm2) delivers nothing: its discharge ends where
it starts, energy 0, with a note.

Writes ``ren2023.csv`` (one row per step, thickness and current), ``ren2023.png`` (specific energy
per step beside Ren2023's printed values), ``resolution.csv`` (with ``--check``: every case again on
a mesh twice as fine in x and r) and ``ren2023.md`` (the tables of docs/studies/ren2023.md) to the
output folder.

Cost on a 2-core VM, one core beside other jobs: 1.5-4 minutes for the 36 discharges; ``--check``
adds up to half an hour (the 160 radial elements of steps 1-4).

Run: ``python demos/ren2023.py [--output results/ren2023] [--check]``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from ssbfem.config import load_config
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.materials.library import get_material
from ssbfem.materials.ocp import OCP_FUNCTIONS
from ssbfem.results import _pyplot
from ssbfem.runner import run

CONFIG = Path(__file__).resolve().parent / "configs" / "ren2023_nmc811_llzo.toml"
CUT_OFF_V = 3.5  # Chen2020's OCP ends at 3.487 V (x = 1); Ren2023 gives no cut-off
THICKNESSES_UM = (50.0, 100.0)  # Ren2023 T3
CURRENTS_MA_CM2 = (1.0, 10.0)  # Ren2023 T3


def exchange_current(resistance_ohm_cm2: float, temperature_K: float = 298.15) -> float:
    """i0 (A/m2) of a linearised charge-transfer resistance R_CT: i0 = RT / (F R_CT)."""
    return GAS_CONSTANT * temperature_K / (FARADAY * resistance_ohm_cm2 * 1e-4)


#: Ren2023 Table 3, state-of-the-art column: the values the base config's improved ones replace.
STATE_OF_THE_ART = {
    "homogenised.grain_boundary_exponent_electrolyte": 1.39,  # Ren2023 T3: beta_GB
    "cell.positive.film_resistance_ohm_cm2": 2600.0,  # Ren2023 T3: R_SP
    "cell.positive.exchange_current_A_m2": exchange_current(2600.0),  # Ren2023 T3: R_CT 2600 ohm cm2
    "homogenised.tortuosity_exponent_electrolyte": 2.31,  # Ren2023 T3: beta_tort
    "cell.positive.diffusivity_m2_s": 2.54e-16,  # Ren2023 T3: 2.54e-12 cm2/s
    "cell.composite.particle_diameter_um": 10.0,  # Ren2023 T3: d50
    "cell.electrolyte.conductivity_S_m": 8e-2,  # Ren2023 T3: sigma0 8e-4 S/cm
}

#: Ren2023 figure 9d: (step, what it improves, the state-of-the-art keys it releases, values it sets
#: on the way to the base config's).
STEPS = (
    ("1", "state of the art", (), {}),
    ("2", "beta_GB -> 0", ("homogenised.grain_boundary_exponent_electrolyte",), {}),
    (
        "3",
        "R_SP -> 0, R_CT -> 150 ohm cm2",
        ("cell.positive.film_resistance_ohm_cm2", "cell.positive.exchange_current_A_m2"),
        {},
    ),
    ("4", "beta_tort -> 1.5", ("homogenised.tortuosity_exponent_electrolyte",), {}),
    ("5", "D -> 2.54e-11 cm2/s", ("cell.positive.diffusivity_m2_s",), {}),
    ("5b", "5 with d50 -> 2.5 um", (), {"cell.composite.particle_diameter_um": 2.5}),  # Ren2023: above 90 %
    ("6", "d50 -> 0.1 um", ("cell.composite.particle_diameter_um",), {}),
    ("7", "sigma0 -> 2e-3 S/cm", (), {"cell.electrolyte.conductivity_S_m": 0.2}),  # Ren2023 fig. 9d
    ("8", "sigma0 -> 1e-2 S/cm", ("cell.electrolyte.conductivity_S_m",), {}),
)

#: Ren2023's printed results (Wh/kg, or a fraction of the theoretical), keyed (step, um, mA/cm2).
PAPER = {
    ("1", 50.0, 1.0): "about 24 Wh/kg",
    ("1", 100.0, 1.0): "about 15 Wh/kg",
    ("1", 50.0, 10.0): "falls below cut-off at once",
    ("1", 100.0, 10.0): "falls below cut-off at once",
    ("2", 50.0, 1.0): "above 200 Wh/kg",
    ("2", 100.0, 1.0): "above 300 Wh/kg",
    ("2", 50.0, 10.0): "moderate gain",
    ("2", 100.0, 10.0): "moderate gain",
    ("3", 50.0, 1.0): "minor gain",
    ("3", 100.0, 1.0): "minor gain",
    ("3", 50.0, 10.0): "3-5 %",
    ("3", 100.0, 10.0): "3-5 %",
    ("4", 100.0, 10.0): "doubles, up to 11 %",
    ("5", 50.0, 1.0): "up to 78 %",
    ("5", 100.0, 1.0): "up to 78 %",
    ("5b", 50.0, 1.0): "above 90 %",
    ("5b", 100.0, 1.0): "above 90 %",
    ("6", 50.0, 1.0): "close to 100 %",
    ("6", 100.0, 1.0): "close to 100 %",
    ("7", 50.0, 10.0): "above 97 %",
    ("7", 100.0, 10.0): "above 97 %",
    ("8", 50.0, 10.0): "the last few %",
    ("8", 100.0, 10.0): "the last few %",
}
#: The paper's numbers that a figure can show: (step, um, mA/cm2) -> Wh/kg (approximate, or a bound).
PAPER_WH_KG = {("1", 50.0, 1.0): 24.0, ("1", 100.0, 1.0): 15.0, ("2", 50.0, 1.0): 200.0, ("2", 100.0, 1.0): 300.0}
PAPER_THEORETICAL_WH_KG = {50.0: 519.2, 100.0: 567.8}  # Ren2023, the theoretical specific energy
#: The paper's printed fractions of the theoretical (%), for the figure: "3-5 %" as 4, "up to",
#: "above" and "close to" as the number printed (100 for "close to the theoretical").
PAPER_PERCENT = {
    **{(s, t, c): 100.0 * v / PAPER_THEORETICAL_WH_KG[t] for (s, t, c), v in PAPER_WH_KG.items()},
    **{("3", t, 10.0): 4.0 for t in THICKNESSES_UM},
    ("4", 100.0, 10.0): 11.0,
    **{(s, t, 1.0): v for s, v in (("5", 78.0), ("5b", 90.0), ("6", 100.0)) for t in THICKNESSES_UM},
    **{("7", t, 10.0): 97.0 for t in THICKNESSES_UM},
}

#: Radial elements per particle by step (the config's 10 otherwise): with the state-of-the-art
#: diffusivity and 10 um particles (steps 1-4) a 10 mA/cm2 discharge lasts seconds and the
#: lithium piles up in a surface layer far thinner than a tenth of the radius (measured: step 4 at
#: 10 mA/cm2, 50 um gives 17.7, 10.9, 8.1, 7.4, 7.2 Wh/kg on 10, 20, 40, 80, 160 elements).
RADIAL_ELEMENTS = {"1": 80, "2": 80, "3": 80, "4": 80, "5": 20, "5b": 20}


def set_key(cfg: dict, key: str, value) -> None:
    """cfg[a][b][c] = value for key 'a.b.c'."""
    *path, last = key.split(".")
    node = cfg
    for name in path:
        node = node.setdefault(name, {})
    node[last] = value


def step_values(step: str) -> dict:
    """The values that turn the base config into the cell at `step` of the path."""
    values = dict(STATE_OF_THE_ART)
    for name, _, released, set_here in STEPS:
        for key in released:
            values.pop(key)
        values.update(set_here)
        if name == step:
            return values
    raise KeyError(step)


def case_config(step: str, thickness_um: float, current_mA_cm2: float, refine: int = 1) -> dict:
    """The base config at `step`, `thickness_um` thick, discharged at `current_mA_cm2` to the cut-off;
    `refine` multiplies the elements in x (separator and composite) and in r."""
    cfg = load_config(CONFIG, [])
    for key, value in step_values(step).items():
        set_key(cfg, key, value)
    cfg["cell"]["positive"]["thickness_um"] = thickness_um
    cfg["mesh"]["positive_elements"] *= refine * round(thickness_um / 50.0)
    cfg["mesh"]["electrolyte_elements"] *= refine
    cfg["homogenised"]["radial_elements"] = refine * RADIAL_ELEMENTS.get(step, cfg["homogenised"]["radial_elements"])
    cfg["experiment"]["steps"] = [f"Discharge at {10.0 * current_mA_cm2:g} A/m2 until {CUT_OFF_V} V"]
    return cfg


def positive_property(cfg: dict, key: str):
    """A property of the positive material: the config's value, else the library's."""
    positive = cfg["cell"]["positive"]
    return positive.get(key, get_material(positive["material"]).defaults()[key])


def mass_kg_m2(cfg: dict) -> float:
    """Mass per footprint of the composite's active material and electrolyte and the dense
    electrolyte layer (Li, pores and the collector left out); densities from the library."""
    cell = cfg["cell"]
    active = cell["composite"]["volume_fraction"]
    electrolyte = 1.0 - active - cell["composite"].get("porosity", 0.0)
    rho_am = positive_property(cfg, "density_kg_m3")
    rho_se = get_material(cell["electrolyte"]["material"]).defaults()["density_kg_m3"]
    composite = 1e-6 * cell["positive"]["thickness_um"] * (active * rho_am + electrolyte * rho_se)
    return composite + 1e-6 * cell["electrolyte"]["thickness_um"] * rho_se


def ocp_integral_V(cfg: dict, x_end: float = 1.0, x_start: float | None = None, points: int = 400) -> float:
    """int U dx from the initial stoichiometry (or `x_start`) to `x_end` (Gauss-Legendre)."""
    x0 = positive_property(cfg, "initial_stoichiometry") if x_start is None else x_start
    ocp = OCP_FUNCTIONS[positive_property(cfg, "ocp")]
    nodes, weights = np.polynomial.legendre.leggauss(points)
    x = x0 + 0.5 * (x_end - x0) * (nodes + 1.0)
    return 0.5 * (x_end - x0) * float(weights @ ocp(x, np))


def bisect(f, a: float, b: float, tol: float = 1e-10) -> float:
    """The root of f in [a, b] (f(a), f(b) of opposite signs)."""
    fa = f(a)
    while b - a > tol:
        m = 0.5 * (a + b)
        if (f(m) > 0) == (fa > 0):
            a, fa = m, f(m)
        else:
            b = m
    return 0.5 * (a + b)


def cut_off_stoichiometry(cfg: dict) -> float:
    """The stoichiometry at which the OCP falls to the cut-off (between 0.9 and 1)."""
    ocp = OCP_FUNCTIONS[positive_property(cfg, "ocp")]
    return bisect(lambda x: ocp(x, np) - CUT_OFF_V, 0.9, 1.0)


def ocp_notes(cfg: dict) -> list[str]:
    """The OCP's end, where it meets the cut-off, and the start that the paper's theoretical
    specific energy would need with this OCP."""
    ocp = OCP_FUNCTIONS[positive_property(cfg, "ocp")]
    x_cut, full = cut_off_stoichiometry(cfg), ocp_integral_V(cfg)
    slope = (ocp(1.0, np) - ocp(0.98, np)) / 0.02
    needed = full * PAPER_THEORETICAL_WH_KG[cfg["cell"]["positive"]["thickness_um"]] / theoretical_Wh_kg(cfg)
    x0 = bisect(lambda start: ocp_integral_V(cfg, x_start=start) - needed, 0.0, 0.27)
    return [
        f"- U(1) = {ocp(1.0, np):.3f} V; U = {CUT_OFF_V} V at x = {x_cut:.3f}; dU/dx = {slope:.2f} V (x 0.98 to 1).",
        f"- int U dx from x0 to 1 = {full:.4f} V; to x = {x_cut:.3f}: {ocp_integral_V(cfg, x_cut) / full:.2%} of it.",
        f"- Ren2023's {PAPER_THEORETICAL_WH_KG[cfg['cell']['positive']['thickness_um']]} Wh/kg would need "
        f"int U dx = {needed:.4f} V: x from {x0:.3f} to 1 with this OCP.",
    ]


def theoretical_energy_Wh_m2(cfg: dict) -> float:
    """Energy per footprint of the composite's whole active material, x0 -> 1, at the OCP."""
    cell = cfg["cell"]
    active = cell["composite"]["volume_fraction"] * 1e-6 * cell["positive"]["thickness_um"]  # m3/m2
    c_max = positive_property(cfg, "max_concentration_mol_m3")
    return active * c_max * FARADAY * ocp_integral_V(cfg) / 3600.0


def theoretical_Wh_kg(cfg: dict) -> float:
    return theoretical_energy_Wh_m2(cfg) / mass_kg_m2(cfg)


def discharge(cfg: dict) -> dict:
    """A discharge of `cfg`: energy (Wh/m2), capacity (mAh/cm2), the mean stoichiometry, the
    positive's OCP and the voltage lost (OCP - V) at the end, and a note when the voltage is below
    the cut-off as soon as the current is applied (the step ends where it starts: no energy)."""
    result = run(cfg, None)
    if result.status != "complete":  # stopped by a signal: the study stops too
        raise SystemExit(f"{result.status}: {result.message}")
    step, last = result.steps[-1], result.series.rows[-1]
    if step["end_s"] == step["start_s"]:
        nan = float("nan")
        note = f"below the cut-off as soon as the current is applied ({step['end_voltage_V']:.2f} V)"
        nothing = {"energy_Wh_m2": 0.0, "capacity_mAh_cm2": 0.0, "x_end": nan, "ocp_end_V": nan, "loss_end_V": nan}
        return {**nothing, "loss_li_end_V": nan, "note": note}
    return {
        "energy_Wh_m2": 10.0 * last["energy_mWh_cm2"],
        "capacity_mAh_cm2": last["capacity_mAh_cm2"],
        "x_end": last["mean_stoichiometry"],
        "ocp_end_V": last["ocp_positive_V"],
        "loss_end_V": last["ocp_positive_V"] - last["ocp_negative_V"] - last["voltage_V"],
        "loss_li_end_V": abs(last["loss_charge_transfer_negative_V"]),
        "note": "",
    }


def study_case(step: str, thickness_um: float, current_mA_cm2: float, refine: int = 1) -> dict:
    """One step, thickness and current: specific energy, fraction of the theoretical."""
    cfg = case_config(step, thickness_um, current_mA_cm2, refine)
    out = discharge(cfg)
    theoretical = theoretical_Wh_kg(cfg)
    specific = out["energy_Wh_m2"] / mass_kg_m2(cfg)
    return {
        "step": step,
        "change": next(change for name, change, _, _ in STEPS if name == step),
        "thickness_um": thickness_um,
        "current_mA_cm2": current_mA_cm2,
        "radial_elements": cfg["homogenised"]["radial_elements"],
        "positive_elements": cfg["mesh"]["positive_elements"],
        "capacity_mAh_cm2": out["capacity_mAh_cm2"],
        "energy_mWh_cm2": out["energy_Wh_m2"] / 10.0,
        "specific_energy_Wh_kg": specific,
        "theoretical_Wh_kg": theoretical,
        "fraction_of_theoretical": specific / theoretical,
        "mean_stoichiometry_end": out["x_end"],
        "ocp_positive_end_V": out["ocp_end_V"],
        "loss_end_V": out["loss_end_V"],
        "loss_li_interface_end_V": out["loss_li_end_V"],
        "paper": PAPER.get((step, thickness_um, current_mA_cm2), ""),
        "note": out["note"],
    }


def study(refine: int = 1) -> list[dict]:
    return [
        study_case(step, thickness, current, refine)
        for current in CURRENTS_MA_CM2
        for thickness in THICKNESSES_UM
        for step, *_ in STEPS
    ]


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def plot(path: Path, rows: list[dict]) -> None:
    """Specific energy and fraction of the theoretical per step: one column per current, one bar
    per thickness (x: below the cut-off at once), the paper's printed numbers as black markers."""
    plt = _pyplot()
    steps = [name for name, *_ in STEPS]
    fig, axes = plt.subplots(2, len(CURRENTS_MA_CM2), figsize=(12, 7.5), sharey="row", sharex=True)
    width = 0.38
    for column, current in enumerate(CURRENTS_MA_CM2):
        energy, percent = axes[0, column], axes[1, column]
        for k, thickness in enumerate(THICKNESSES_UM):
            mine = [r for r in rows if r["current_mA_cm2"] == current and r["thickness_um"] == thickness]
            x = np.arange(len(steps)) + (k - 0.5) * width
            label = f"{thickness:g} um, ssbfem P2D"
            energy.bar(x, [r["specific_energy_Wh_kg"] for r in mine], width, color=f"C{k}", label=label)
            energy.axhline(mine[0]["theoretical_Wh_kg"], color=f"C{k}", ls=":", lw=1)
            for xi, r in zip(x, mine, strict=True):
                if r["note"]:  # below the cut-off at once
                    energy.text(xi, 5.0, "x", ha="center", color=f"C{k}")
            percent.bar(x, [100 * r["fraction_of_theoretical"] for r in mine], width, color=f"C{k}", label=label)
            for ax, printed in ((energy, PAPER_WH_KG), (percent, PAPER_PERCENT)):
                shown = [
                    (x[i], printed[s, thickness, current])
                    for i, s in enumerate(steps)
                    if (s, thickness, current) in printed
                ]
                if shown:
                    ax.plot(*zip(*shown, strict=True), "k" + "v^"[k], label=f"{thickness:g} um, Ren2023 (printed)")
        energy.set(title=f"{current:g} mA/cm2 to {CUT_OFF_V} V")
        percent.set(xlabel="development step (Ren2023 fig. 9d)")
        percent.set_xticks(np.arange(len(steps)), steps)
    axes[0, 0].set_ylabel("specific energy, Wh/kg (NMC811 + LLZO)")
    axes[1, 0].set_ylabel("% of the theoretical")
    axes[0, 0].legend(fontsize="small", loc="upper left")
    axes[1, 1].legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def results_table(rows: list[dict]) -> list[str]:
    """The study as a Markdown table: steps down, thickness and current across."""
    cases = [(t, c) for c in CURRENTS_MA_CM2 for t in THICKNESSES_UM]
    head = "| step | change | " + " | ".join(f"{t:g} um, {c:g} mA/cm2 | Ren2023" for t, c in cases) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(cases))]
    for step, change, *_ in STEPS:
        cells = []
        for t, c in cases:
            r = next(r for r in rows if (r["step"], r["thickness_um"], r["current_mA_cm2"]) == (step, t, c))
            mine = f"{r['specific_energy_Wh_kg']:.1f} ({100 * r['fraction_of_theoretical']:.1f} %)"
            cells += [mine + (" *" if r["note"] else ""), r["paper"]]
        lines.append(f"| {step} | {change} | " + " | ".join(cells) + " |")
    return lines


def theoretical_table() -> list[str]:
    """Theoretical specific energy per thickness, ours (Chen2020 OCP, x0 -> 1) beside Ren2023's."""
    lines = ["| cathode | mass, kg/m2 | ours, Wh/kg | Ren2023, Wh/kg | ours / Ren2023 |", "|---|---|---|---|---|"]
    for t in THICKNESSES_UM:
        cfg = case_config("1", t, 1.0)
        ours, paper = theoretical_Wh_kg(cfg), PAPER_THEORETICAL_WH_KG[t]
        lines.append(f"| {t:g} um | {mass_kg_m2(cfg):.4f} | {ours:.1f} | {paper:.1f} | {ours / paper:.4f} |")
    return lines


def resolution_table(coarse: list[dict], fine: list[dict]) -> tuple[list[str], float]:
    """Each specific energy beside its value on the mesh twice as fine (x and r); the largest
    relative change."""
    largest = 0.0
    lines = ["| step | um | mA/cm2 | elements x, r | Wh/kg | Wh/kg, fine | change |", "|---|---|---|---|---|---|---|"]
    for a, b in zip(coarse, fine, strict=True):
        e, f = a["specific_energy_Wh_kg"], b["specific_energy_Wh_kg"]
        change = abs(f - e) / e if e > 0 else 0.0
        largest = max(largest, change)
        case = f"| {a['step']} | {a['thickness_um']:g} | {a['current_mA_cm2']:g} "
        mesh = f"| {a['positive_elements']}, {a['radial_elements']} "
        lines.append(case + mesh + f"| {e:.2f} | {f:.2f} | {100 * change:.2f} % |")
    return lines, largest


def end_state_table(rows: list[dict]) -> list[str]:
    """Where each discharge stopped: the mean stoichiometry, the positive's OCP, the voltage lost
    to transport and kinetics (OCP - V) at the cut-off and the part of it lost at the Li interface."""
    head = "| step | um | mA/cm2 | mean x at the end | OCP at the end, V | OCP - V, V | of which Li interface, V |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["note"]:
            continue
        lines.append(
            f"| {r['step']} | {r['thickness_um']:g} | {r['current_mA_cm2']:g} | {r['mean_stoichiometry_end']:.3f} "
            f"| {r['ocp_positive_end_V']:.3f} | {r['loss_end_V']:.3f} | {r['loss_li_interface_end_V']:.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("results/ren2023"))
    parser.add_argument("--check", action="store_true", help="repeat every case on a mesh twice as fine")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    rows = study()
    write_csv(args.output / "ren2023.csv", rows)
    plot(args.output / "ren2023.png", rows)
    markdown = ["## Theoretical", "", *theoretical_table(), "", *ocp_notes(case_config("1", 50.0, 1.0)), ""]
    markdown += ["## Results", "", *results_table(rows), ""]
    markdown += ["## End states", "", *end_state_table(rows), ""]
    if args.check:
        fine = study(refine=2)
        write_csv(args.output / "resolution.csv", fine)
        lines, largest = resolution_table(rows, fine)
        markdown += ["## Resolution", "", f"largest change: {100 * largest:.2f} %", "", *lines, ""]
    (args.output / "ren2023.md").write_text("\n".join(markdown))
    print("\n".join(markdown))


if __name__ == "__main__":
    main()
