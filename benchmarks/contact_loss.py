"""Study: contact loss between the particles and the electrolyte of a composite cathode, resolved and homogenised.

Setup. The 55 vol% LiCoO2-in-LLZO composite of the hierarchy study (benchmarks/hierarchy.py:
demos/configs/composite_cathode.toml, Li | 2 um LLZO | 8 um composite | 1 um Al, 8 x 8 um footprint,
4 um particles with 10 % overlap, mesh size 0.8 um at the particles and 1.6 um away, P1, seed 1;
every material property from the material library, ssbfem/materials/library.py, which names each
source). A share f in {0, 0.25, 0.5, 0.75} of each particle's contact with the electrolyte is lost
(``cell.composite.contact_loss_fraction``: a spherical cap about a random axis per particle leaves
the interface and becomes an insulating gap; the caps' axes come from the packing seed, so the caps
of a smaller f lie inside those of a larger one, and every f has the same nodes and cells).

For each f:

1. the mesh is built once (``OUT/meshes/f050.msh`` ...) and its effective parameters are measured
   on the composite layer (x = 2 to 10 um, :func:`ssbfem.effective.effective_parameters`, written
   beside the mesh);
2. at each rate (0.05C, 0.5C, 1C, 2C and 3C by default; 1C is the capacity of the meshed LiCoO2 of the
   f = 0 mesh, from its initial stoichiometry to 1, in one hour: the same current density in A/m2
   for every f and model) three models discharge to 3.5 V:

   * ``resolved``: the 3D model on the contact-loss mesh;
   * ``scaled``: the homogenised model with the parameters measured on the f = 0 mesh and
     ``homogenised.contact_loss_fraction = f`` (the reacting area a_s (1 - f); spherical particles
     of the same radius, so only the charge-transfer overpotential grows);
   * ``measured``: the homogenised model with the parameters measured on the f mesh: a_s is the
     remaining contact area, and the particle radius that of the measured volume-to-surface ratio,
     r = 3 eps_AM / a_s, grows as 1 / (1 - f) (the diffusion length of a particle whose lithium
     enters through part of its surface, in a spherically symmetric model);
3. the table (``OUT/contact_loss.csv``, markdown on stdout): per model, rate and f the capacity at
   the cut-off (mAh/cm2, and % of the same model's at f = 0) and the overpotential from contact
   loss, the capacity-weighted mean voltage (integral of V dQ over Q) at f = 0 minus at f (mV);
   the overpotential split by the voltage breakdown into the change of the positive OCP at the mean
   stoichiometry (``ocp``), of the solid-diffusion loss (``diffusion``: the mean OCP at the reacting
   surface less the OCP at the mean stoichiometry), of the charge-transfer losses (``kinetic``) and
   of the ohmic losses (``ohmic``), each a capacity-weighted mean at f = 0 minus at f, summing to the
   overpotential (``OUT/losses.csv``); the measured contact area fraction and a_s of each mesh
   (``OUT/meshes.csv``); the figure ``OUT/contact_loss.png``, capacity retention against f per model
   and rate.

Runs that finished (``run.json`` says complete) are read back instead of being run again, so the
study can be resumed or split (``--rates 1 --losses 0 0.5``). ``--mesh-size 0.5`` (into another
``-o``) repeats it on a finer mesh.

Run: ``python benchmarks/contact_loss.py [--quick] [-o OUT]`` (default OUT results/contact_loss);
``--quick``: f = 0 and 0.5 at 1C only, a smoke test.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from pathlib import Path

import numpy as np
from hierarchy import CUTOFF_V, base_config, markdown, measure, one_c, run_case, summary

from ssbfem.effective import EffectiveParameters
from ssbfem.geometry.io import write_msh
from ssbfem.results import read_table, write_table
from ssbfem.runner import mesh_builder

FRACTION = 0.55  # volume fraction of LiCoO2 in the composite (packed)
SEED = 1
LOSSES = (0.0, 0.25, 0.5, 0.75)
RATES = (0.05, 0.5, 1.0, 2.0, 3.0)
MODELS = ("resolved", "scaled", "measured")


def tag(loss: float) -> str:
    return f"f{round(100 * loss):03d}"


def loss_config(loss: float, mesh_size_um: float | None = None) -> dict:
    """The hierarchy study's 55 vol% composite with a share `loss` of its contact lost (`mesh_size_um`:
    the element size at the particles instead of the demo's, twice that away from them)."""
    raw = base_config(FRACTION, SEED, mesh_size_um)
    raw["cell"]["composite"]["contact_loss_fraction"] = loss
    return raw


def mesh_with_loss(loss: float, out: Path, mesh_size_um: float | None = None) -> tuple[Path, dict]:
    """Mesh the composite with contact loss (once; reused if present). Returns the mesh and its
    builder's statistics (with the wall time)."""
    path = out / "meshes" / f"{tag(loss)}.msh"
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        t = time.perf_counter()
        stats = write_msh(mesh_builder(loss_config(loss, mesh_size_um)), path)
        meta.write_text(json.dumps({**stats, "mesh_s": time.perf_counter() - t}, indent=1, default=float))
    return path, json.loads(meta.read_text())


def model_config(model: str, loss: float, meshes: dict[float, Path], current: float, size: float | None) -> dict:
    """The config of one model at contact loss `loss` discharging at `current` A/m2 to the cut-off
    (`size`: the mesh size at the particles, default the demo's)."""
    raw = copy.deepcopy(loss_config(loss, size))
    raw["experiment"] = {"steps": [f"Discharge at {current:.8g} A/m2 until {CUTOFF_V} V"]}
    if model == "resolved":
        raw["mesh"]["file"] = str(meshes[loss].resolve())
        return raw
    raw["model"] = "homogenised"
    raw["cell"]["composite"]["contact_loss_fraction"] = 0.0  # the loss is in the parameters below
    if model == "scaled":
        parameters = meshes[0.0].with_suffix(".toml").resolve()
        raw["homogenised"] = {"parameter_file": str(parameters), "contact_loss_fraction": loss}
    else:
        raw["homogenised"] = {"parameter_file": str(meshes[loss].with_suffix(".toml").resolve())}
    return raw


def table_rows(rate: float, current: float, cases: dict[tuple[str, float], dict]) -> list[dict]:
    """One row per model and loss: capacity, its share of the model's f = 0 capacity, and the mean
    overpotential from contact loss."""
    rows = []
    for model in MODELS:
        q0, v0 = summary(cases[model, 0.0]) if (model, 0.0) in cases else (math.nan, math.nan)
        for (name, loss), case in cases.items():
            if name != model:
                continue
            q, v = summary(case)
            rows.append(
                {
                    "model": model,
                    "rate_C": rate,
                    "current_A_m2": round(current, 4),
                    "loss": loss,
                    "capacity_mAh_cm2": round(q, 4),
                    "retention_pct": round(100 * q / q0, 1),
                    "overpotential_mV": round(1e3 * (v0 - v), 1),
                    "wall_s": round(case["wall_s"], 1),
                    "status": "ok" if case["status"] == "complete" else case["status"],
                }
            )
    return rows


#: The voltage breakdown's columns of each part of the overpotential (ocp_negative is 0: Li).
PARTS = {
    "ocp": ("ocp_positive_V",),
    "diffusion": ("loss_diffusion_positive_V",),
    "kinetic": ("loss_charge_transfer_positive_V", "loss_charge_transfer_negative_V"),
    "ohmic": ("loss_ohmic_positive_V", "loss_ohmic_electrolyte_V", "loss_ohmic_negative_V"),
}


def part_means(directory: Path) -> dict[str, float]:
    """Capacity-weighted means (V) of the parts of the voltage (PARTS) over a finished discharge."""
    path = directory / "timeseries.csv"
    rows = read_table(path) if path.exists() else []
    q = np.array([float(r["capacity_mAh_cm2"]) for r in rows])
    if len(q) < 2 or q[-1] <= q[0]:
        return dict.fromkeys(PARTS, math.nan)
    out = {}
    for part, columns in PARTS.items():
        v = sum(np.array([float(r[c]) for r in rows]) for c in columns)
        out[part] = float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(q)) / (q[-1] - q[0]))
    return out


def loss_rows(rate: float, parts: dict[tuple[str, float], dict[str, float]]) -> list[dict]:
    """Per model and loss: each part's capacity-weighted mean at f = 0 minus at f, mV."""
    rows = []
    for (model, loss), means in parts.items():
        base = parts.get((model, 0.0), dict.fromkeys(PARTS, math.nan))
        row = {"model": model, "rate_C": rate, "loss": loss}
        row.update({f"{part}_mV": round(1e3 * (base[part] - means[part]), 1) for part in PARTS})
        rows.append(row)
    return rows


def mesh_row(loss: float, stats: dict, params: EffectiveParameters) -> dict:
    return {
        "loss": loss,
        "detached_area_fraction": round(stats.get("detached_area_fraction", 0.0), 4),
        "contact_area_fraction": round(params.contact_area_fraction, 4),
        "a_s_1_um": round(params.specific_interface_area_1_m * 1e-6, 4),
        "r_measured_um": round(3e6 * params.volume_fraction_active / params.specific_interface_area_1_m, 3),
        "eps_AM_mesh": round(params.volume_fraction_active, 4),
        "mesh_s": round(stats["mesh_s"], 1),
    }


def plot(rows: list[dict], path: Path) -> None:
    """Capacity retention against the lost contact: one colour per rate, one line style per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"resolved": ("-", "o"), "scaled": ("--", "s"), "measured": (":", "^")}
    labels = {
        "resolved": "resolved 3D",
        "scaled": "P2D, a_s (1 - f)",
        "measured": "P2D, measured on each mesh",
    }
    rates = sorted({r["rate_C"] for r in rows})
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for k, rate in enumerate(rates):
        for model, (line, marker) in styles.items():
            points = sorted(
                (r["loss"], r["retention_pct"]) for r in rows if r["rate_C"] == rate and r["model"] == model
            )
            if points:
                f, kept = zip(*points, strict=True)
                ax.plot(f, kept, color=f"C{k}", linestyle=line, marker=marker, markersize=4)
    # two legends: the colour is the rate, the line style the model
    handles = [plt.Line2D([], [], color=f"C{k}", label=f"{rate:g}C") for k, rate in enumerate(rates)]
    first = ax.legend(handles=handles, fontsize=8, loc="lower left", title="rate", title_fontsize=8)
    ax.add_artist(first)
    handles = [
        plt.Line2D([], [], color="k", linestyle=line, marker=marker, markersize=4, label=labels[m])
        for m, (line, marker) in styles.items()
    ]
    ax.legend(handles=handles, fontsize=8, loc="lower center", title="model", title_fontsize=8)
    ax.set_xlabel("lost share of the particle|electrolyte contact f")
    ax.set_ylabel("capacity at 3.5 V (% of f = 0)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("results/contact_loss"))
    parser.add_argument("--quick", action="store_true", help="f = 0 and 0.5 at 1C only (a smoke test)")
    parser.add_argument("--losses", type=float, nargs="+", default=list(LOSSES))
    parser.add_argument("--rates", type=float, nargs="+", default=list(RATES))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--mesh-size", type=float, help="element size at the particles, um (a mesh check; own -o)")
    args = parser.parse_args()
    losses, rates = ([0.0, 0.5], [1.0]) if args.quick else (sorted({0.0, *args.losses}), args.rates)
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    meshes, mesh_rows = {}, []
    for loss in losses:
        meshes[loss], stats = mesh_with_loss(loss, out, args.mesh_size)
        mesh_rows.append(mesh_row(loss, stats, measure(meshes[loss], loss_config(loss, args.mesh_size))))
    base = loss_config(0.0, args.mesh_size)
    current_1c = one_c(base, measure(meshes[0.0], base))
    rows, parts = [], []
    for rate in rates:
        cases, means = {}, {}
        for model in args.models:
            for loss in losses:
                raw = model_config(model, loss, meshes, rate * current_1c, args.mesh_size)
                directory = out / "runs" / f"{rate:g}C" / f"{model}_{tag(loss)}"
                cases[model, loss] = run_case(raw, directory, study="contact_loss")
                means[model, loss] = part_means(directory)
                print(f"{rate:g}C {model} f = {loss:g}: {cases[model, loss]['status']}", flush=True)
        rows += table_rows(rate, rate * current_1c, cases)
        parts += loss_rows(rate, means)
    write_table(out / "contact_loss.csv", rows)
    write_table(out / "losses.csv", parts)
    write_table(out / "meshes.csv", mesh_rows)
    plot(rows, out / "contact_loss.png")
    for table in (rows, parts, mesh_rows):
        print(markdown(table))
        print()


if __name__ == "__main__":
    main()
