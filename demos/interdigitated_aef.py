"""Capacity against current of interdigitated cells of area enhancement factor 1, 4 and 10.

The cell of demos/configs/interdigitated.toml (Li | 1 um LiPON | LiCoO2 pillars on a base film) is
discharged to 3.0 V at several footprint current densities for each AEF. Every cell holds the
same positive volume per footprint (8.08 um: base film plus pillars), hence the same capacity and
1C, so the curves differ by geometry alone: a higher AEF spreads the current over more interface
(the mean interface current density is the footprint's over the AEF) and shortens the diffusion
paths, and keeps its capacity to higher currents (the trend of Pearse et al., ACS Nano 12 (2018)
4286, for 3D against planar thin-film cells). Writes ``interdigitated_aef.csv`` and
``interdigitated_aef.png`` to the output folder.

Run: ``python demos/interdigitated_aef.py [--shape square|round|plate] [--dimension 3] [--degree 1]
[--rates 1 3 10] [--aefs 1 4 10] [--output results/interdigitated_aef]``; ``--quick`` runs a small
2D plate version (AEF 1 and 4, two currents) in well under a minute.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from ssbfem.config import apply_overrides, read_toml
from ssbfem.geometry.interdigitated import design_from_config
from ssbfem.results import _pyplot
from ssbfem.runner import one_c_current, run
from ssbfem.settings import Settings, validate
from ssbfem.simulation import lithium_charge_balance

CONFIG = Path(__file__).resolve().parent / "configs" / "interdigitated.toml"
#: Positive volume per footprint of every cell, micrometres (the thin-film demo's LiCoO2 film).
POSITIVE_UM = 8.08


def cell_config(aef: float, rate_C: float, shape: str, dimension: int, degree: int, coarse: bool = False) -> Settings:
    """The demo config with the given AEF and discharge rate; the base film is thinned by the
    pillars' volume so that the positive volume per footprint stays POSITIVE_UM."""
    overrides = [
        f"cell.interdigitated.aef={aef}",
        f"cell.interdigitated.shape='{shape}'",
        f"cell.dimension={dimension}",
        f"mesh.degree={degree}",
        f"experiment.steps=['Discharge at {rate_C}C until 3.0 V']",
        "output.plot=false",
    ]
    if coarse:
        overrides += ["cell.interdigitated.mesh_size_um=2.0", "cell.interdigitated.interface_mesh_size_um=0.5"]
    raw = apply_overrides(read_toml(CONFIG), [*overrides, f"cell.positive.thickness_um={POSITIVE_UM}"])
    pillars = design_from_config(validate(raw).cell).positive_thickness_um() - POSITIVE_UM
    if pillars >= POSITIVE_UM:
        raise ValueError(f"AEF {aef}: the pillars alone hold more than {POSITIVE_UM} um of positive")
    return validate(apply_overrides(raw, [f"cell.positive.thickness_um={POSITIVE_UM - pillars}"]))


def discharge(aef: float, rate_C: float, shape: str, dimension: int, degree: int, coarse: bool = False) -> Settings:
    cfg = cell_config(aef, rate_C, shape, dimension, degree, coarse)
    result = run(cfg, None)
    rows = result.series.rows
    charge, inserted = lithium_charge_balance(rows)
    one_c = one_c_current(cfg.cell)
    current = rate_C * one_c
    return {
        "shape": shape,
        "aef": aef,
        "rate_C": rate_C,
        "footprint_current_A_m2": current,
        "interface_current_A_m2": current / aef,
        "capacity_mAh_cm2": rows[-1]["capacity_mAh_cm2"],
        "utilisation": rows[-1]["capacity_mAh_cm2"] / (one_c / 10.0),  # 1C for one hour: the capacity
        "charge_balance_error": abs(charge - inserted) / charge,
        "time_steps": len(rows) - 1,
    }


def plot(rows: list[dict], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for aef in sorted({r["aef"] for r in rows}):
        case = sorted((r for r in rows if r["aef"] == aef), key=lambda r: r["rate_C"])
        ax.plot(
            [r["footprint_current_A_m2"] * 0.1 for r in case],
            [r["capacity_mAh_cm2"] for r in case],
            "o-",
            label=f"AEF {aef:g}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("footprint current density (mA/cm$^2$)")
    ax.set_ylabel("capacity to 3.0 V (mAh/cm$^2$)")
    ax.set_title(f"{rows[0]['shape']} interdigitated cells, same positive volume")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("results") / "interdigitated_aef")
    parser.add_argument("--shape", default="square", choices=("square", "round", "plate"))
    parser.add_argument("--dimension", type=int, default=3, choices=(2, 3))
    parser.add_argument("--degree", type=int, default=1, choices=(1, 2))
    parser.add_argument("--aefs", type=float, nargs="+", default=[1.0, 4.0, 10.0])
    parser.add_argument("--rates", type=float, nargs="+", default=[1.0, 3.0, 10.0], help="C-rates of the discharges")
    parser.add_argument("--quick", action="store_true", help="2D plates, AEF 1 and 4, 1C and 10C, coarse mesh")
    args = parser.parse_args(argv)
    if args.quick:
        args.shape, args.dimension, args.aefs, args.rates = "plate", 2, [1.0, 4.0], [1.0, 10.0]
    args.output.mkdir(parents=True, exist_ok=True)
    rows = [
        discharge(aef, rate, args.shape, args.dimension, args.degree, coarse=args.quick)
        for aef in args.aefs
        for rate in args.rates
    ]
    with open(args.output / "interdigitated_aef.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, args.output / "interdigitated_aef.png")
    for r in rows:
        print(
            f"AEF {r['aef']:4g}  {r['rate_C']:5g}C  {r['footprint_current_A_m2'] * 0.1:7.3f} mA/cm2  "
            f"capacity {r['capacity_mAh_cm2']:.4f} mAh/cm2 ({100 * r['utilisation']:.1f} %)"
        )
    return rows


if __name__ == "__main__":
    main()
