"""A LiCoO2-LLZO composite cathode (demos/configs/composite_cathode.toml) at scale.

1. Microstructure against the active-material fraction: for each fraction, a 20 x 20 x 20 um
   composite of 5 um particles (100+ at 60 vol%) is packed and meshed; the electronic and ionic
   utilisation (percolating fractions) and the effective conductivities of both phases across the
   layer are measured and set beside Bruggeman's eps^1.5.
2. Discharge of the 60 vol% composite at two C-rates to 3.5 V: capacity and voltage, with the
   reaction current density at the particle surfaces written as a field (``reaction_current.bp``,
   A/m2 on the electrolyte cells touching a particle, positive on discharge) at the end.

Writes ``microstructure.csv``, ``microstructure.png``, ``discharge.csv``, ``discharge.png`` and
one run directory per rate to the output folder. ``--edge`` shrinks the sample and ``--seconds``
cuts the discharges short, for a quick look. Cost on a 2-core VM, one rank: with ``--seconds 60``
the whole demo took 10 minutes beside another job (the first 60 s at 0.5C: 53k unknowns at P1,
32 time steps, 75 Newton iterations, 3 minutes); full discharges take longer (run them under
mpiexec).

Run: ``python demos/composite_cathode.py [--output results/composite_cathode] [--edge 20] [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.config import load_config
from ssbfem.geometry import tags
from ssbfem.geometry.io import mesh_from_model
from ssbfem.microstructure import effective_conductivity, utilisations
from ssbfem.model import interface_measure
from ssbfem.results import _pyplot
from ssbfem.runner import mesh_builder, run

CONFIG = Path(__file__).resolve().parent / "configs" / "composite_cathode.toml"
FRACTIONS = (0.35, 0.45, 0.55, 0.65)
RATES = (0.5, 2.0)


def sample(edge: float, fraction: float, extra: list[str] = ()) -> dict:
    """The demo config as a cube of `edge` um of 5 um particles at `fraction`."""
    return load_config(
        CONFIG,
        [
            f"cell.positive.thickness_um={edge}",
            f"cell.composite.length_um={edge}",
            f"cell.composite.width_um={edge}",
            f"cell.composite.volume_fraction={fraction}",
            "cell.composite.particle_diameter_um=5.0",
            *extra,
        ],
    )


def microstructure(edge: float, fraction: float) -> dict:
    cfg = sample(edge, fraction)
    stats: dict = {}
    build = mesh_builder(cfg)
    cm = mesh_from_model(MPI.COMM_WORLD, lambda: stats.update(build()))
    separator = cfg["cell"]["electrolyte"]["thickness_um"]
    slab = (separator, separator + edge)
    ionic = effective_conductivity(cm, (tags.ELECTROLYTE,), bounds=slab)
    electronic = effective_conductivity(cm, (tags.POSITIVE,), bounds=slab)
    return {
        "volume_fraction": fraction,
        "volume_fraction_mesh": stats["volume_fraction"],
        "cells": cm.mesh.topology.index_map(3).size_global,
        **utilisations(cm),
        "electronic_sigma_rel": electronic["relative_conductivity"],
        "electronic_bruggeman": electronic["bruggeman"],
        "electronic_tortuosity": electronic["tortuosity"],
        "ionic_sigma_rel": ionic["relative_conductivity"],
        "ionic_bruggeman": ionic["bruggeman"],
        "ionic_tortuosity": ionic["tortuosity"],
    }


def reaction_current_field(model, path: Path) -> None:
    """Mean reaction current density (A/m2) over each electrolyte cell's particle-facing facets."""
    fem = dolfinx.fem
    cm = model.cellmesh
    V = fem.functionspace(cm.mesh, ("DG", 0))
    v = ufl.TestFunction(V)
    dS = interface_measure(cm, [tags.POSITIVE_INTERFACE], model.electrolyte)(cm.facet_names[tags.POSITIVE_INTERFACE])
    forms = [fem.form(f * v("+") * dS, entity_maps=model.entity_maps) for f in (model.j_pos, 1.0 + 0.0 * model.j_pos)]
    current, area = (fem.assemble_vector(f) for f in forms)
    for vec in (current, area):
        vec.scatter_reverse(dolfinx.la.InsertMode.add)
    field = fem.Function(V, name="reaction_current")
    touching = area.array > 0
    field.x.array[touching] = current.array[touching] / area.array[touching]
    field.x.scatter_forward()
    with dolfinx.io.VTXWriter(cm.mesh.comm, path, [field], engine="BP4") as writer:
        writer.write(0.0)


def discharge(edge: float, rate: float, output: Path, seconds: float | None) -> dict:
    limit = f"for {seconds} s" if seconds else "until 3.5 V"
    cfg = sample(edge, 0.6, [f"experiment.steps=['Discharge at {rate}C {limit}']", "output.fields=false"])
    result = run(cfg, output / f"{rate}C")
    reaction_current_field(result.simulation.model, output / f"{rate}C" / "reaction_current.bp")
    series = result.series
    return {
        "rate_C": rate,
        "capacity_mAh_cm2": series["capacity_mAh_cm2"][-1],
        "time_s": series["time_s"][-1],
        "series": series,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("results/composite_cathode"))
    parser.add_argument("--edge", type=float, default=20.0, help="edge of the composite cube, um")
    parser.add_argument("--seconds", type=float, help="discharge for this long instead of to 3.5 V")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    rank0 = MPI.COMM_WORLD.rank == 0

    rows = [microstructure(args.edge, f) for f in FRACTIONS]
    runs = [discharge(args.edge, rate, args.output, args.seconds) for rate in RATES]
    if not rank0:
        return
    with open(args.output / "microstructure.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(args.output / "discharge.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["rate_C", "capacity_mAh_cm2", "time_s"])
        writer.writeheader()
        writer.writerows([{k: r[k] for k in writer.fieldnames} for r in runs])
    for row in rows:
        print(", ".join(f"{k}={v:.4g}" for k, v in row.items()))
    for r in runs:
        print(f"{r['rate_C']}C: {r['capacity_mAh_cm2']:.5f} mAh/cm2 in {r['time_s']:.0f} s")

    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    phi = np.array([r["volume_fraction_mesh"] for r in rows])
    left.plot(phi, [r["utilisation_electronic"] for r in rows], "o-", label="electronic (active material)")
    left.plot(phi, [r["utilisation_ionic"] for r in rows], "s-", label="ionic (electrolyte)")
    left.set(xlabel="active volume fraction", ylabel="percolating fraction", title="Utilisation")
    left.legend()
    for name, eps, marker in (("electronic", phi, "o"), ("ionic", 1 - phi, "s")):
        right.plot(phi, [r[f"{name}_sigma_rel"] for r in rows], marker, label=f"{name}, FEM")
        right.plot(phi, eps**1.5, "--", label=f"{name}, Bruggeman")
    right.set(xlabel="active volume fraction", ylabel="sigma_eff / sigma0", title="Effective conductivity")
    right.legend()
    fig.tight_layout()
    fig.savefig(args.output / "microstructure.png", dpi=120)
    fig, ax = plt.subplots(figsize=(5, 4))
    for r in runs:
        ax.plot(r["series"]["capacity_mAh_cm2"], r["series"]["voltage_V"], label=f"{r['rate_C']}C")
    ax.set(xlabel="capacity, mAh/cm2", ylabel="voltage, V", title="Composite discharge")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.output / "discharge.png", dpi=120)


if __name__ == "__main__":
    main()
