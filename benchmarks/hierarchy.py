"""Study: the resolved composite-cathode model against the homogenised (P2D) model on the same microstructures.

Setup. Three LiCoO2-in-LLZO composite cathodes from the composite builder, as
demos/configs/composite_cathode.toml (Li | 2 um LLZO | 8 um composite | 1 um Al, 4 um particles with
10 % overlap, mesh size 0.8 um at the particles and 1.6 um away, P1, its solver settings; every
material property from the material library, ssbfem/materials/library.py, which names each source) at
45, 55 and 65 vol% LiCoO2 in an 8 x 8 um footprint. Each packing takes seed 1 (the demo's); a
fraction whose packing or mesh fails takes the next seed, and the seed used is recorded.

For each composite:

1. the mesh is built once (Gmsh, written to ``OUT/meshes``) and reused by every rate;
2. its effective parameters are measured on the composite layer (x = 2 to 10 um) with
   :func:`ssbfem.effective.effective_parameters` and written to ``OUT/meshes/*.toml``;
3. the resolved model discharges at 0.1C, 1C and 3C to 3.5 V, where 1C is the capacity of the
   meshed LiCoO2 (from its initial stoichiometry to 1) in one hour: the current density (A/m2 of
   footprint) is computed once from the measured active volume and given as "Discharge at X A/m2"
   to every model, so both models carry the same current;
4. the homogenised model (1D macro mesh, the section's defaults otherwise) of the same cell at the
   same current, two ways: "measured" reads the parameter file (eps_AM, a_s, the through-plane
   tortuosity factors of both phases, the percolating fraction p of the LiCoO2, whose rest is
   inert, and the particle radius of the measured volume-to-surface ratio, r = 3 eps_AM / a_s);
   "Bruggeman" takes the same measured eps_AM (so that both hold the same LiCoO2) with the
   defaults a_s = 3 eps_AM / r, sigma_eff = eps^1.5 sigma, r = 2 um, p = 1; and two ablations of
   "measured" that show what each of its last two parameters is worth: "all_joined" (p = 1: every
   particle counted) and "nominal_r" (r = 2 um, the packed particles' radius);
5. the table (``OUT/hierarchy.csv``, markdown on stdout): capacity at cut-off (mAh/cm2) and the
   capacity-weighted mean voltage of the resolved run, each homogenised variant's difference from
   it (the diagnostics' too); the measured effective parameters beside Bruggeman's
   (``OUT/effective.csv``); and the figure ``OUT/hierarchy.png``, voltage against capacity at 1C per fraction.

Runs that finished (``run.json`` says complete) are read back instead of being run again, so the
study can be resumed or split: ``--fractions 0.55 --rates 1`` runs a subset. ``--mesh-size 0.5``
(into another ``-o``) repeats it on a finer mesh.

Run: ``python benchmarks/hierarchy.py [--quick] [-o OUT]`` (default OUT results/hierarchy);
``--quick``: 55 vol% at 1C only, a smoke test.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from pathlib import Path

import numpy as np

from ssbfem.effective import EffectiveParameters, effective_parameters, read_parameters, write_parameters
from ssbfem.errors import InputError, SimulationError
from ssbfem.geometry.io import load_mesh, write_msh
from ssbfem.results import read_table, write_table
from ssbfem.runner import mesh_builder, one_c_current, run
from ssbfem.settings import read_toml, validate

DEMO = Path(__file__).resolve().parents[1] / "demos" / "configs" / "composite_cathode.toml"
FRACTIONS = (0.45, 0.55, 0.65)
RATES = (0.1, 1.0, 3.0)
SEEDS = (1, 2, 3, 4, 5)
BOX_UM = 8.0  # footprint edge; the composite's thickness is the demo's 8 um
CUTOFF_V = 3.5  # the demo's cut-off
VARIANTS = ("resolved", "measured", "bruggeman", "all_joined", "nominal_r")


def base_config(fraction: float, seed: int, mesh_size_um: float | None = None) -> dict:
    """The demo's config with this volume fraction and seed, no field output or plots (`mesh_size_um`:
    the element size at the particles instead of the demo's, twice that away from them)."""
    raw = read_toml(DEMO)
    raw["cell"]["positive"]["thickness_um"] = BOX_UM
    raw["cell"]["composite"].update(volume_fraction=fraction, seed=seed, length_um=BOX_UM, width_um=BOX_UM)
    if mesh_size_um is not None:
        raw["cell"]["composite"].update(mesh_size_um=mesh_size_um, mesh_size_max_um=2 * mesh_size_um)
    raw["output"] = {"fields": False, "plot": False}
    return raw


def tag(fraction: float) -> str:
    return f"phi{round(100 * fraction):02d}"


def mesh_composite(fraction: float, out: Path, mesh_size_um: float | None = None) -> tuple[Path, int, list[str]]:
    """Mesh the composite (once; reused if present). Returns the mesh, its seed and the failures."""
    path = out / "meshes" / f"{tag(fraction)}.msh"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        return path, info["seed"], info["failures"]
    failures = []
    for seed in SEEDS:
        t = time.perf_counter()
        try:
            stats = write_msh(mesh_builder(base_config(fraction, seed, mesh_size_um)), path)
        except InputError as exc:
            failures.append(f"seed {seed}: {exc}")
            continue
        info = {"seed": seed, "failures": failures, "mesh_s": time.perf_counter() - t, "stats": stats}
        meta.write_text(json.dumps(info, indent=1, default=float))
        return path, seed, failures
    raise InputError("cell.composite.seed", f"no seed of {SEEDS} packs and meshes {fraction}: {failures}")


def measure(mesh: Path, cfg: dict) -> EffectiveParameters:
    """The effective parameters of the composite layer (written beside the mesh; reused if present)."""
    path = mesh.with_suffix(".toml")
    if not path.exists():
        separator = cfg["cell"]["electrolyte"]["thickness_um"]
        layer = (separator, separator + cfg["cell"]["positive"]["thickness_um"])
        write_parameters(effective_parameters(load_mesh(mesh), layer, mesh_name=mesh.name), path)
    return read_parameters(path)


def one_c(cfg: dict, params: EffectiveParameters) -> float:
    """1C, A/m2 of footprint, of the meshed LiCoO2 (as the resolved run defines it)."""
    thickness = cfg["cell"]["positive"]["thickness_um"]
    return one_c_current(validate(cfg).cell, active_thickness_um=params.volume_fraction_active * thickness)


def variant_config(cfg: dict, variant: str, mesh: Path, params: EffectiveParameters, current: float) -> dict:
    """The config of one model variant discharging at `current` A/m2 to the cut-off."""
    raw = copy.deepcopy(cfg)
    raw["experiment"] = {"steps": [f"Discharge at {current:.8g} A/m2 until {CUTOFF_V} V"]}
    if variant == "resolved":
        raw["mesh"]["file"] = str(mesh.resolve())
    elif variant == "measured":
        raw["model"] = "homogenised"
        raw["homogenised"] = {"parameter_file": str(mesh.with_suffix(".toml").resolve())}
    elif variant == "bruggeman":  # Bruggeman's defaults, the meshed LiCoO2 fraction
        raw["model"] = "homogenised"
        raw["homogenised"] = {"volume_fraction_active": params.volume_fraction_active}
    else:  # an ablation of "measured": one measured parameter back at its default
        raw["model"] = "homogenised"
        raw["homogenised"] = {"parameter_file": str(mesh.with_suffix(".toml").resolve())}
        if variant == "all_joined":
            raw["homogenised"]["percolating_fraction_active"] = 1.0
        else:
            raw["homogenised"]["particle_radius_um"] = cfg["cell"]["composite"]["particle_diameter_um"] / 2
    return raw


def run_case(raw: dict, directory: Path, study: str = "hierarchy") -> dict:
    """Run a config into `directory` (or read its finished run back): status, wall time, V(Q)
    (the study's own record of them is ``directory/<study>.json``)."""
    info = directory / f"{study}.json"
    done = directory / "run.json"
    if not (info.exists() and done.exists() and json.loads(done.read_text())["status"] == "complete"):
        t = time.perf_counter()
        try:
            status = run(raw, directory).status
        except (SimulationError, InputError) as exc:
            status = f"failed: {exc}"
        info.write_text(json.dumps({"status": status, "wall_s": time.perf_counter() - t}))
    meta = json.loads(info.read_text())
    rows = read_table(directory / "timeseries.csv") if (directory / "timeseries.csv").exists() else []
    meta["capacity"] = np.array([float(r["capacity_mAh_cm2"]) for r in rows])
    meta["voltage"] = np.array([float(r["voltage_V"]) for r in rows])
    return meta


def summary(case: dict) -> tuple[float, float]:
    """Capacity at the end (mAh/cm2) and the capacity-weighted mean voltage (V)."""
    q, v = case["capacity"], case["voltage"]
    if len(q) < 2 or q[-1] <= 0:
        return math.nan, math.nan
    return float(q[-1]), float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(q)) / (q[-1] - q[0]))


def table_row(fraction: float, seed: int, rate: float, current: float, cases: dict) -> dict:
    q0, v0 = summary(cases["resolved"])
    row = {
        "fraction": fraction,
        "seed": seed,
        "rate_C": rate,
        "current_A_m2": round(current, 4),
        "resolved_mAh_cm2": round(q0, 4),
        "resolved_mean_V": round(v0, 4),
        "resolved_s": round(cases["resolved"]["wall_s"], 1),
    }
    for name in VARIANTS[1:]:
        q, v = summary(cases[name])
        row[f"{name}_dQ_pct"] = round(100 * (q - q0) / q0, 2)
        row[f"{name}_dV_mV"] = round(1e3 * (v - v0), 1)
    row["status"] = ", ".join(f"{k} {c['status']}" for k, c in cases.items() if c["status"] != "complete") or "ok"
    return row


def effective_row(fraction: float, seed: int, params: EffectiveParameters, radius_um: float) -> dict:
    """Measured effective parameters beside Bruggeman's (tau = eps^-0.5, a_s = 3 eps_AM / r)."""
    eps_s, eps_e = params.volume_fraction_active, params.volume_fraction_electrolyte
    tau_s, tau_e = params.tortuosity_factor_active, params.tortuosity_factor_electrolyte
    return {
        "fraction": fraction,
        "seed": seed,
        "eps_AM_mesh": round(eps_s, 4),
        "eps_SE_mesh": round(eps_e, 4),
        "tau_SE_x": round(tau_e[0], 3),
        "tau_SE_yz": f"{tau_e[1]:.3f} {tau_e[2]:.3f}",
        "tau_SE_brugg": round(eps_e**-0.5, 3),
        "tau_AM_x": round(tau_s[0], 3),
        "tau_AM_yz": f"{tau_s[1]:.3f} {tau_s[2]:.3f}",
        "tau_AM_brugg": round(eps_s**-0.5, 3),
        "a_s_1_um": round(params.specific_interface_area_1_m * 1e-6, 4),
        "a_s_brugg_1_um": round(3 * eps_s / radius_um, 4),
        "contact_area_fraction": round(params.contact_area_fraction, 4),
        "percolating_AM": round(params.percolating_fraction_active, 4),
        "percolating_SE": round(params.percolating_fraction_electrolyte, 4),
    }


def markdown(rows: list[dict]) -> str:
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def plot(curves: dict, path: Path) -> None:
    """Voltage against capacity at 1C, one panel per fraction: resolved solid, homogenised dashed
    (the ablation with every particle joined dotted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.6), sharey=True, squeeze=False)
    styles = {
        "resolved": ("k", "-"),
        "measured": ("C0", "--"),
        "bruggeman": ("C3", (0, (2, 3))),
        "all_joined": ("C2", ":"),
    }
    labels = {
        "resolved": "resolved 3D",
        "measured": "P2D, measured parameters",
        "bruggeman": "P2D, Bruggeman",
        "all_joined": "P2D, measured, every particle joined",
        "nominal_r": "P2D, measured, r = 2 um",
    }
    for ax, (fraction, cases) in zip(axes[0], sorted(curves.items()), strict=True):
        for name, case in cases.items():
            if name not in styles:
                continue
            color, line = styles[name]
            ax.plot(case["capacity"], case["voltage"], color=color, linestyle=line, label=labels[name])
        ax.set_title(f"{round(100 * fraction)} vol% LiCoO2, 1C")
        ax.set_xlabel("capacity (mAh/cm$^2$)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("voltage (V)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("results/hierarchy"))
    parser.add_argument("--quick", action="store_true", help="55 vol%% at 1C only (a smoke test)")
    parser.add_argument("--fractions", type=float, nargs="+", default=list(FRACTIONS))
    parser.add_argument("--rates", type=float, nargs="+", default=list(RATES))
    parser.add_argument("--mesh-size", type=float, help="element size at the particles, um (a mesh check; own -o)")
    args = parser.parse_args()
    fractions, rates = ([0.55], [1.0]) if args.quick else (args.fractions, args.rates)
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    rows, effective, curves = [], [], {}
    for fraction in fractions:
        mesh, seed, failures = mesh_composite(fraction, out, args.mesh_size)
        for failure in failures:
            print(f"{tag(fraction)}: {failure}", flush=True)
        cfg = base_config(fraction, seed, args.mesh_size)
        params = measure(mesh, cfg)
        effective.append(effective_row(fraction, seed, params, cfg["cell"]["composite"]["particle_diameter_um"] / 2))
        current_1c = one_c(cfg, params)
        for rate in rates:
            cases = {}
            for variant in VARIANTS:
                raw = variant_config(cfg, variant, mesh, params, rate * current_1c)
                cases[variant] = run_case(raw, out / "runs" / f"{tag(fraction)}_{rate:g}C" / variant)
                print(f"{tag(fraction)} {rate:g}C {variant}: {cases[variant]['status']}", flush=True)
            rows.append(table_row(fraction, seed, rate, rate * current_1c, cases))
            if rate == 1.0:
                curves[fraction] = cases
    write_table(out / "hierarchy.csv", rows)
    write_table(out / "effective.csv", effective)
    if curves:
        plot(curves, out / "hierarchy.png")
    print(markdown(rows))
    print()
    print(markdown(effective))


if __name__ == "__main__":
    main()
