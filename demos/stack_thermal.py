"""Heat in a stack of 10 thin-film cells (demos/configs/stack_thermal.toml).

Discharges the stack at 0.5C and 5C with convection on one face, for a LiPON thermal
conductivity of 1.4 W/(m K) (the library value) and 0.47 W/(m K), and reports the temperature
rise, each heat source's share of the heat generated during the discharge, and the capacity.
Writes ``stack_thermal.png`` and ``stack_thermal.csv`` to the output folder.

Run: ``python demos/stack_thermal.py [--output results/stack_thermal]``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from ssbfem.config import load_config
from ssbfem.results import _pyplot
from ssbfem.runner import run

CONFIG = Path(__file__).resolve().parent / "configs" / "stack_thermal.toml"
SOURCES = ("joule", "reaction", "reversible")


def discharge(rate: float, conductivity: float) -> dict:
    cfg = load_config(
        CONFIG,
        [
            f"experiment.steps=['Discharge at {rate}C until 3.0 V']",
            f"cell.electrolyte.thermal_conductivity_W_m_K={conductivity}",
            "output.fields=false",
        ],
    )
    series = run(cfg, None).series
    t = series["time_s"]
    heat = {name: np.trapezoid(series[f"heat_{name}_W"], t) for name in SOURCES}
    total = sum(heat.values())
    return {
        "rate_C": rate,
        "electrolyte_k_W_m_K": conductivity,
        "capacity_mAh_cm2": series["capacity_mAh_cm2"][-1],
        "temperature_rise_K": series["temperature_max_K"].max() - 298.15,
        "temperature_spread_K": (series["temperature_max_K"] - series["temperature_min_K"]).max(),
        **{f"share_{name}": heat[name] / total for name in SOURCES},
        "series": series,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", type=Path, default=Path("results") / "stack_thermal")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    cases = [discharge(rate, k) for rate in (0.5, 5.0) for k in (1.4, 0.47)]
    rows = [{k: v for k, v in c.items() if k != "series"} for c in cases]
    with open(args.output / "stack_thermal.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        print(
            f"{r['rate_C']:>4}C, k_SE {r['electrolyte_k_W_m_K']:.2f}: rise {r['temperature_rise_K']:.3f} K "
            f"(spread {r['temperature_spread_K'] * 1e3:.3f} mK), capacity {r['capacity_mAh_cm2']:.4f} mAh/cm2, "
            + ", ".join(f"{name} {100 * r[f'share_{name}']:.1f} %" for name in SOURCES)
        )
    plt = _pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for c in cases:
        s = c["series"]
        ax0.plot(
            s["time_s"] / 60, s["temperature_max_K"] - 298.15, label=f"{c['rate_C']}C, k = {c['electrolyte_k_W_m_K']}"
        )
    ax0.set_xlabel("Time (min)")
    ax0.set_ylabel("Temperature rise (K)")
    ax0.set_yscale("log")
    ax0.legend(fontsize=8)
    ax0.grid(alpha=0.3)
    shown = [c for c in cases if c["electrolyte_k_W_m_K"] == 1.4]
    bottom = np.zeros(len(shown))
    for i, name in enumerate(SOURCES):
        share = np.array([c[f"share_{name}"] for c in shown]) * 100
        ax1.bar([f"{c['rate_C']}C" for c in shown], share, bottom=bottom, color=f"C{i}", label=name)
        bottom += share
    ax1.set_ylabel("Share of the heat generated (%)")
    ax1.legend(fontsize=8)
    fig.savefig(args.output / "stack_thermal.png", dpi=120)
    print(f"-> {args.output}")


if __name__ == "__main__":
    main()
