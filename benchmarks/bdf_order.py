"""Benchmark: time steps against accuracy for the BDF orders and the local error tolerances.

Usage (serial or under mpiexec):

    python benchmarks/bdf_order.py CONFIG [--set key=value ...] [-o OUT]
        [--orders 2 3 4 5] [--scales 1 3 10] [--reference-order 2] [--reference-scale 0.01]

Runs the discharge of CONFIG (:func:`discharge_cost.discharge`: accepted and rejected steps,
Newton iterations, wall time) with ``solver.max_order`` = each of ORDERS and every local error
tolerance multiplied by each of SCALES, and once as the fine reference (REFERENCE_ORDER, the
tolerances multiplied by REFERENCE_SCALE) on the same mesh. Each is compared with the reference
as in ``discharge_cost.py --reference``: the relative error of the capacity and the largest
voltage error over the first 90 % of the discharge. A run already in OUT is read, not rerun, so
that several processes can share the cases; the table is printed (markdown) and written to
OUT/table.json once the reference is there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parent))
from discharge_cost import discharge

from ssbfem.settings import load_settings

TOLERANCES = ("voltage_tolerance_V", "stoichiometry_tolerance", "temperature_tolerance_K")


def case(config: str, overrides: list[str], order: int, scale: float, out: Path) -> dict:
    """The discharge at `order` with the tolerances times `scale` (read from `out` if run)."""
    name = f"order{order}_scale{scale:g}"
    stored = out / f"{name}.npz"
    if stored.exists():
        data = np.load(stored, allow_pickle=True)
        return {**data["summary"].item(), "time_s": data["time_s"], "voltage_V": data["voltage_V"]}
    solver = load_settings(config, overrides).solver
    extra = [f"solver.max_order={order}", *(f"solver.{k}={getattr(solver, k) * scale}" for k in TOLERANCES)]
    result = discharge(config, [*overrides, *extra], out / name)
    summary = {k: v for k, v in result.items() if k not in ("time_s", "voltage_V")}
    summary.update(order=order, scale=scale)
    if MPI.COMM_WORLD.rank == 0:
        np.savez(
            stored, summary=np.array(summary, dtype=object), time_s=result["time_s"], voltage_V=result["voltage_V"]
        )
    return {**summary, "time_s": result["time_s"], "voltage_V": result["voltage_V"]}


def compare(run: dict, ref: dict) -> dict:
    """Capacity error (relative) and the largest voltage error (V) on the first 90 %."""
    flat = run["time_s"] <= 0.9 * min(run["time_s"][-1], ref["time_s"][-1])
    dv = np.abs(np.interp(run["time_s"][flat], ref["time_s"], ref["voltage_V"]) - run["voltage_V"][flat])
    return {
        "capacity_error": run["capacity_mAh_cm2"] / ref["capacity_mAh_cm2"] - 1.0,
        "voltage_error_V": float(dv.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("-o", "--output", type=Path, default=Path("results/bdf_order"))
    parser.add_argument("--orders", type=int, nargs="*", default=[2, 3, 4, 5])
    parser.add_argument("--scales", type=float, nargs="*", default=[1.0, 3.0, 10.0])
    parser.add_argument("--reference-order", type=int, default=2)
    parser.add_argument("--reference-scale", type=float, default=0.01)
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    overrides = [*args.overrides, "output.fields=false", "output.plot=false"]
    runs = [case(args.config, overrides, k, s, args.output) for s in args.scales for k in args.orders]
    ref = case(args.config, overrides, args.reference_order, args.reference_scale, args.output)
    rows = []
    for run in runs:
        keys = ("order", "scale", "steps", "rejected", "newton", "jacobians", "wall_s")
        rows.append({**{k: run[k] for k in keys}, **compare(run, ref)})
    if MPI.COMM_WORLD.rank == 0:
        (args.output / "table.json").write_text(json.dumps({"reference_steps": ref["steps"], "rows": rows}, indent=1))
        print(f"reference: order {args.reference_order}, tolerances x {args.reference_scale:g}: {ref['steps']} steps")
        print("| max_order | tolerances | steps (rejected) | Newton its | capacity error | voltage error (mV) |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['order']} | x{r['scale']:g} | {r['steps']} ({r['rejected']}) | {r['newton']} | "
                f"{r['capacity_error']:.1e} | {1e3 * r['voltage_error_V']:.3f} |"
            )


if __name__ == "__main__":
    main()
