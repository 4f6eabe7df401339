"""Write docs/verification.md: every case of the verification reference, run with the package.

Each case is computed by the package's own meshes, weak forms and solvers (the set-ups are the
test suite's, imported from tests/), compared with the closed form or the tabulated reference,
and reported with its error and, where the case asks for it, the observed convergence order.
Cases the package does not model yet are listed as such.

Run from the repository root (a few minutes on a laptop):
``python docs/scripts/verification_report.py [--output docs/verification.md]``
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import ufl
from mpi4py import MPI

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from conftest import simulate, thin_film  # noqa: E402
from test_contact import COUNTER, KAPPA, RADIUS, _primary_band_mean, _solve_disk  # noqa: E402
from test_homogenised import SPHERE_U, sphere_u  # noqa: E402
from test_impedance import diffusion_impedance, thin_film_arcs  # noqa: E402
from test_mechanics import DC, NU, OMEGA, E, film  # noqa: E402
from test_space_charge import C0, CASE_H, EPS_R, lumped_phi2  # noqa: E402
from test_thermal import (  # noqa: E402
    CASE_E,
    ELECTROLYTE_THERMAL,
    LICOO2_THERMAL,
    METAL_LIKE_POSITIVE,
    slab_with_source,
)
from test_verification_cells import CASE_F, symmetric_cell  # noqa: E402
from test_verification_diffusion import DT_STEPS, H_ELEMENTS, U_SURFACE, dt_errors, h_errors, surface_u  # noqa: E402
from test_verification_stress import SIGMA_R_CENTRE, SIGMA_T_SURFACE, sphere_stress_history  # noqa: E402

from ssbfem.constants import FARADAY, GAS_CONSTANT  # noqa: E402
from ssbfem.geometry import tags  # noqa: E402
from ssbfem.mechanics import Region, solve_elasticity  # noqa: E402
from ssbfem.physics.kinetics import butler_volmer, frumkin_butler_volmer  # noqa: E402
from ssbfem.physics.space_charge import debye_length, space_charge_density  # noqa: E402
from ssbfem.results import versions  # noqa: E402
from ssbfem.simulation import lithium_charge_balance  # noqa: E402
from ssbfem.space_charge_1d import SpaceChargeLayer, tabulate_phi2  # noqa: E402

T = 298.15


def orders(errors: list[float], ratio: float = 2.0) -> list[float]:
    return [math.log(abs(a) / abs(b)) / math.log(ratio) for a, b in itertools.pairwise(errors)]


def table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def case_a() -> list[str]:
    lines = [
        "## A. Slab with constant flux",
        "",
        "The default LiCoO2 film (8.08 um, D = 5.387e-15 m2/s) discharged at 0.5 A/m2 from x0 = 0.4: the",
        "lithium flux into its electrolyte face is I/F, the back face insulated. u = (c - c0) D/(J L) at",
        "the surface against the series solution (default graded P2 mesh, tolerances tightened).",
        "",
    ]
    u = surface_u(sorted(U_SURFACE), solver={"stoichiometry_tolerance": 2e-5})
    rows = [[tau, f"{ref:.6f}", f"{u[tau]:.6f}", f"{(u[tau] - ref) / ref:+.2e}"] for tau, ref in U_SURFACE.items()]
    lines += table(["tau", "u(1, tau) reference", "ssbfem", "relative error"], rows)
    h_err, dt_err = h_errors(), dt_errors()
    lines += [
        "Convergence in h (uniform P2 meshes, time error made negligible), u(1, 0.1):",
        "",
        *table(
            ["elements", "error", "observed order"],
            [
                [n, f"{e:+.3e}", f"{p:.2f}" if p else ""]
                for n, e, p in zip(H_ELEMENTS, h_err, [None, *orders(h_err)], strict=True)
            ],
        ),
    ]
    lines += [
        "Convergence in dt (fixed steps, error control off, 96 elements), u(1, 0.2); BDF2 after one",
        "backward-Euler step:",
        "",
        *table(
            ["steps", "error", "observed order"],
            [
                [n, f"{e:+.3e}", f"{p:.2f}" if p else ""]
                for n, e, p in zip(DT_STEPS, dt_err, [None, *orders(dt_err)], strict=True)
            ],
        ),
        "The potentiostatic variant is not run: a voltage hold controls the cell voltage, not the surface",
        "concentration.",
        "",
    ]
    return lines


def case_b() -> list[str]:
    radial = (8, 16, 32)
    runs = {n: sphere_u(list(SPHERE_U), n) for n in radial}
    rows = [
        [tau, f"{ref[0]:.6f}", f"{runs[32][tau][0]:.6f}", f"{ref[1]:.6f}", f"{runs[32][tau][1]:.6f}"]
        for tau, ref in SPHERE_U.items()
    ]
    errors = {n: [abs(runs[n][tau][k] - SPHERE_U[tau][k]) for tau in SPHERE_U for k in (0, 1)] for n in radial}
    worst = [max(errors[n]) for n in radial]
    observed = ["", *(f"{o:.2f}" for o in orders(worst))]
    conv = [[n, f"{e:.3e}", o] for n, e, o in zip(radial, worst, observed, strict=True)]
    return [
        "## B. Sphere with constant flux",
        "",
        'The particles of the homogenised model (`model = "homogenised"`, 60 % LiCoO2 spheres of 2 um',
        "radius in the default film, conductivities high so that every particle takes up the same flux",
        "J = I / (F a_s L)): u = (c - c0) D/(J R) at the surface (rho = 1) and the centre (rho = 0), the",
        "macro-node mean, each tau the end of an experiment step; 32 linear radial elements.",
        "",
        *table(["tau", "u(1) reference", "ssbfem", "u(0) reference", "ssbfem"], rows),
        "Convergence in the radial elements N_r (largest error over both points and all tau):",
        "",
        *table(["N_r", "error", "observed order"], conv),
    ]


def case_c() -> list[str]:
    results = sphere_stress_history()
    rows = [
        [
            tau,
            f"{SIGMA_R_CENTRE[tau]:.6f}",
            f"{sr:.6f}",
            f"{(sr - SIGMA_R_CENTRE[tau]) / SIGMA_R_CENTRE[tau]:+.1e}",
            f"{SIGMA_T_SURFACE[tau]:.6f}",
            f"{st:.6f}",
            f"{(st - SIGMA_T_SURFACE[tau]) / SIGMA_T_SURFACE[tau]:+.1e}",
        ]
        for tau, (sr, st) in sorted(results.items())
    ]
    return [
        "## C. Diffusion-induced stress in a sphere",
        "",
        "A particle (R = 5 um) takes up lithium at a constant flux through its surface; its eigenstrain",
        "Omega (c - c0)/3 stresses it. The package's diffusion and axisymmetric elasticity blocks on a P2",
        "quarter disc graded from R/80 at the surface (`ssbfem.geometry.sphere`), variable-step BDF2 in",
        "time. Stresses over S0 = Omega E J R/((1 - nu) D) at tau = D t/R^2: the centre's radial and the",
        "surface's hoop stress (Cheng and Verbrugge 2009; steady values +-1/15).",
        "",
        *table(
            [
                "tau",
                "sigma_r(0)/S0 reference",
                "ssbfem",
                "relative error",
                "sigma_t(R)/S0 reference",
                "ssbfem",
                "relative error",
            ],
            rows,
        ),
    ]


def case_d() -> list[str]:
    lines = [
        "## D. Eigenstrain in a film bonded to a rigid substrate",
        "",
        "A 3D LiCoO2 film clamped at its base, in-plane displacement held on the sides: the in-plane",
        "stress against -E eps*/(1 - nu) (`ssbfem.mechanics.solve_elasticity`).",
        "",
    ]
    rows = []
    cm = film(3)
    for kind, eigenstrain in (("lithiated, dc = 15778 mol/m3", OMEGA * DC / 3), ("cooled by 725 K", 1.25e-5 * -725.0)):
        state = solve_elasticity(
            cm,
            {tags.POSITIVE: Region(E, NU, eigenstrain)},
            clamped=(tags.NEGATIVE_TERMINAL,),
            rollers=((tags.LATERAL, 1), (tags.LATERAL, 2)),
        )
        sigma = state.stress[tags.POSITIVE]
        expected = -E * eigenstrain / (1 - NU)
        computed = state.mean(tags.POSITIVE, sigma[1, 1])
        rows.append(
            [kind, f"{expected / 1e6:.1f}", f"{computed / 1e6:.1f}", f"{(computed - expected) / expected:+.1e}"]
        )
    return lines + table(["film", "formula (MPa)", "ssbfem (MPa)", "relative error"], rows)


def case_e() -> list[str]:
    theta = slab_with_source()
    rows = [
        [fo, f"{expected:.6f}", f"{theta[fo]:.6f}", f"{(theta[fo] - expected) / expected:+.1e}"]
        for fo, expected in CASE_E.items()
    ]
    lines = [
        "## E. Heat conduction with a volumetric source",
        "",
        "The 500 um electrolyte of a symmetric cell at 100 A/m2: uniform Joule heat q = I^2/sigma, both",
        "faces held at T0 (full thermal model, 16 P2 elements). Mid-plane theta = (T - T0) k/(q L^2):",
        "",
        *table(["Fo", "reference", "ssbfem", "relative error"], rows),
    ]
    # lumped body with convection
    h, span = 5.0e3, 2.0
    raw = symmetric_cell(5.0)
    raw["cell"]["electrolyte"].update(ELECTROLYTE_THERMAL, conductivity_activation_energy_J_mol=0.0)
    raw["cell"]["positive"].update(METAL_LIKE_POSITIVE)
    raw["experiment"] = {"steps": [f"Discharge at 5 mA/cm2 for {span} s"]}
    raw["thermal"] = {"model": "lumped", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": h}}}
    raw["solver"] = {"temperature_tolerance_K": 1e-7}
    s = simulate(raw).series
    capacity = 2680.0 * 1400.0 * 500e-6 + 534.0 * 3582.0 * 10e-6
    t, rise = s["time_s"][1:], s["temperature_mean_K"][1:] - T
    generated = s["heat_generated_J_m2"][-1] / span
    expected = generated / h * (1 - np.exp(-h * t / capacity))
    error = np.abs(rise - expected).max() / expected.max()
    lines += [
        f"Lumped body with convection (h = {h:g} W/(m2 K), the same cell at 5 mA/cm2 for {span:g} s): largest",
        f"deviation from (Q/h)(1 - exp(-h t/C)) over the run, relative to the final rise: {error:.1e}.",
        "",
    ]
    return lines


def case_f() -> list[str]:
    rows = []
    for current, ref in CASE_F.items():
        v = -simulate(symmetric_cell(current)).series.rows[-1]["voltage_V"] * 1e3
        rows.append([current, f"{ref:.3f}", f"{v:.4f}", f"{v - ref:+.4f}"])
    return [
        "## F. Symmetric Li | electrolyte | Li cell",
        "",
        "L = 500 um, sigma = 0.5 mS/cm, i0 = 1 mA/cm2, symmetric Butler-Volmer on both interfaces.",
        "",
        *table(["I (mA/cm2)", "reference (mV)", "ssbfem (mV)", "difference (mV)"], rows),
    ]


def case_g() -> list[str]:
    a, b = RADIUS * tags.MESH_UNIT_M, COUNTER * tags.MESH_UNIT_M
    reference = 1.0 / (4 * KAPPA * a) - 1.0 / (2 * math.pi * KAPPA * b)
    sizes, errors, bands = [], [], {}
    for level in range(3):
        sizes.append(0.1 * RADIUS / 2**level)
        resistance, bands = _solve_disk(sizes[-1], 0.6 / 2**level)
        errors.append(resistance / reference - 1)
    rows = [
        [f"a/{round(RADIUS / h)}", f"{e:+.2e}", f"{p:.2f}" if p else ""]
        for h, e, p in zip(sizes, errors, [None, *orders(errors)], strict=True)
    ]
    band_rows = [
        [f"{r0} to {r1}", f"{_primary_band_mean(r0, r1):.4f}", f"{bands[r0]:.4f}"]
        for r0, r1 in ((0.0, 0.1), (0.45, 0.55))
    ]
    return [
        "## G. Constriction resistance of a contact spot",
        "",
        f"A disk electrode of radius a = {RADIUS:g} um flush with an insulating plane, kappa = {KAPPA:g} S/m, a",
        f"hemispherical counter electrode of radius {COUNTER:g} a (`ssbfem.geometry.contact.build_disk_electrode`,",
        "the `ohmic_conduction` block, P2, mesh refined towards the disk's edge). Reference: Newman's",
        "1/(4 kappa a) less the half-space beyond the counter electrode, 1/(2 pi kappa b).",
        "",
        *table(["edge size at the rim", "relative error of R", "observed order"], rows),
        "Primary current distribution i(r)/i_avg = 0.5/sqrt(1 - (r/a)^2), band means on the finest mesh:",
        "",
        *table(["r/a", "reference", "ssbfem"], band_rows),
        "A cell with patchy Li contact (`[cell.contact]`) adds the constriction resistance of its spot array",
        "(Roess series, within 3 % at f = 0.1): `tests/test_contact.py` (3D, run under MPI by the suite).",
        "",
    ]


def case_h() -> list[str]:
    lam = debye_length(50, 1000.0, T)
    rows = [["Debye length", "0.3433 nm", f"{lam * 1e9:.4f} nm", f"{(lam - 0.3433e-9) / 0.3433e-9:+.1e}"]]
    for psi, q in {-4: 0.32995, -1: 0.039706, 1: 0.028416, 4: 0.081394}.items():
        value = space_charge_density(psi, 50, 1000.0, T)
        rows.append([f"abs(q) at psi = {psi}", f"{q} C/m2", f"{value:.6f} C/m2", f"{(value - q) / q:+.1e}"])
    thermal = GAS_CONSTANT * T / FARADAY
    layer = SpaceChargeLayer(EPS_R, C0, T)
    resolved = []
    for psi, q in CASE_H.items():
        charge = layer.solve(psi * thermal).charge_C_m2
        resolved.append([psi, f"{q}", f"{abs(charge):.6f}", f"{(abs(charge) - q) / q:+.1e}"])
    rate_rows = []
    for psi in (-4.0, 4.0):
        exact = space_charge_density(psi, EPS_R, C0, T)
        errs = [
            abs(SpaceChargeLayer(EPS_R, C0, T, cells=n).solve(psi * thermal).charge_C_m2) - exact for n in (30, 60, 120)
        ]
        rate_rows += [
            [psi, n, f"{e / exact:+.2e}", f"{p:.2f}" if p else ""]
            for n, e, p in zip((30, 60, 120), errs, [None, *orders(errs)], strict=True)
        ]
    drops = np.array([-0.5, -0.2, -0.05, 0.05, 0.2, 0.5])
    phi2_rows = []
    for stern in (0.05, 0.2, 1.0):
        computed = tabulate_phi2(drops, EPS_R, C0, T, stern)
        lumped = lumped_phi2(stern)
        worst = max(abs(c / lumped(d) - 1) for c, d in zip(computed, drops, strict=True))
        phi2_rows.append([stern, f"{computed[0] * 1e3:.3f}", f"{computed[-1] * 1e3:.3f}", f"{worst:.1e}"])
    return [
        "## H. Space charge with one mobile cation",
        "",
        "Closed forms, `ssbfem.physics.space_charge`:",
        "",
        *table(["quantity", "reference", "ssbfem", "relative error (to the printed digits)"], rows),
        "Resolved: the 1D Poisson-Nernst-Planck layer (`ssbfem.space_charge_1d.SpaceChargeLayer`, P2 on",
        "120 graded cells over 40 Debye lengths, the potential imposed at the interface, zero flux). Space",
        "charge F int (c - c0) dx against |q| of the reference:",
        "",
        *table(["psi", "abs(q) reference (C/m2)", "ssbfem (C/m2)", "relative error"], resolved),
        "Convergence of the charge against the closed form (a functional of a P2 solution: order 2p = 4):",
        "",
        *table(["psi", "cells", "relative error", "observed order"], rate_rows),
        "With a Stern layer (Robin condition): phi2 = phi(0) of the resolved layer against the lumped",
        "Gouy-Chapman-Stern drop `ssbfem.physics.kinetics.diffuse_layer_drop` used by the `frumkin` laws,",
        "total drops from -0.5 V to 0.5 V:",
        "",
        *table(["C_S (F/m2)", "phi2 at -0.5 V (mV)", "phi2 at +0.5 V (mV)", "largest relative difference"], phi2_rows),
    ]


def case_j() -> list[str]:
    w_tau = np.logspace(-2, 3, 11)
    z, reference = diffusion_impedance(w_tau)
    rows = [
        [f"{wt:.3g}", f"{r.real:.5g} {r.imag:+.5g}j", f"{zk.real:.5g} {zk.imag:+.5g}j", f"{abs(zk - r) / abs(r):.1e}"]
        for wt, zk, r in zip(w_tau, z * 1e4, reference * 1e4, strict=True)
    ]
    arcs, (r_s, r_bulk, r_neg, r_pos) = thin_film_arcs()
    steps = [arcs.real[0], *(arcs.real[k + 1] - arcs.real[k] for k in range(3))]
    arc_rows = [
        [name, f"{ref * 1e4:.3f}", f"{got * 1e4:.3f}", f"{(got - ref) / ref:+.1e}"]
        for name, ref, got in zip(
            ("series resistance", "bulk, L/sigma", "Li side, RT/(F i0)", "LiCoO2 side, RT/(F i0)"),
            (r_s, r_bulk, r_neg, r_pos),
            steps,
            strict=True,
        )
    ]
    return [
        "## J. Finite-length diffusion impedance",
        "",
        "`ssbfem.impedance` on the linearised thin film: a dense LiCoO2 film (8.08 um, D = 1e-14 m2/s) behind a",
        "fast electrolyte and fast kinetics. Reference Z = R_D coth(sqrt(j w tau))/sqrt(j w tau), tau = L^2/D,",
        "R_D = -(dU/dc) L/(F D) from the OCP's slope (ohm cm2):",
        "",
        *table(["w tau", "reference", "ssbfem", "relative error"], rows),
        "Thin film with double layers and the electrolyte's geometric capacitance (time constants 1e4",
        "apart: 1.6 us, 16 ms, 160 s): the step of Re Z across each arc against its resistance (ohm cm2):",
        "",
        *table(["arc", "reference", "ssbfem", "relative error"], arc_rows),
    ]


def case_i() -> list[str]:
    thermal = GAS_CONSTANT * T / FARADAY
    worst = max(
        abs(float(frumkin_butler_volmer(2.0, ufl.as_ufl(0.0), phi2, a, 1 - a, T)))
        for phi2 in (-2 * thermal, -thermal, 0.0, 0.5 * thermal, 3 * thermal)
        for a in (0.3, 0.5, 0.7)
    )
    eta = 1e-7
    ratio = float(frumkin_butler_volmer(1.0, ufl.as_ufl(eta), -thermal, 0.5, 0.5, T)) / float(
        butler_volmer(1.0, ufl.as_ufl(eta), 0.5, 0.5, T)
    )
    return [
        "## I. Frumkin-corrected Butler-Volmer",
        "",
        '`ssbfem.physics.kinetics.frumkin_butler_volmer` (selected in a cell by `kinetics = "frumkin"`).',
        "",
        f"- Current at eta = 0, phi2 from -2 RT/F to 3 RT/F, alpha_a = 0.3, 0.5, 0.7: at most {worst:.1e} A/m2",
        "  (i0 = 2 A/m2).",
        f"- Apparent exchange-current factor at alpha_a = 0.5, phi2 = -RT/F: {ratio:.6f} (reference exp(0.5) =",
        f"  {math.exp(0.5):.6f}, relative error {(ratio - math.exp(0.5)) / math.exp(0.5):+.1e}).",
        "",
    ]


def case_k() -> list[str]:
    raw = thin_film(
        experiment={"steps": ["Discharge at 1C until 3.5 V", "Rest for 10 minutes", "Charge at 0.5C for 20 minutes"]}
    )
    charge, inserted = lithium_charge_balance(simulate(raw).series.rows)
    base = simulate(thin_film())
    t_ref, v_ref = base.series["time_s"], base.series["voltage_V"]
    dims = []
    for dim in (2, 3):
        r = simulate(thin_film(cell={"dimension": dim}, mesh={"in_plane_elements": 1}))
        v = np.interp(t_ref, r.series["time_s"], r.series["voltage_V"])
        dims.append((dim, np.abs(v - v_ref).max()))
    thermal = simulate(
        thin_film(
            cell={"positive": LICOO2_THERMAL, "negative": {"thickness_um": 2.0}},
            thermal={
                "model": "full",
                "boundaries": {
                    "positive_terminal": {"type": "convection", "h_W_m2K": 10.0},
                    "negative_terminal": {"type": "radiation", "emissivity": 0.8},
                },
            },
            experiment={"steps": ["Discharge at 4C until 3.0 V"]},
        )
    ).series.rows[-1]
    imbalance = thermal["heat_generated_J"] - thermal["heat_stored_J"] - thermal["heat_removed_J"]
    return [
        "## K. Conservation and consistency",
        "",
        f"- Charge: over a 1C discharge, a rest and a C/2 charge, charge passed {charge:.6f} C/m2 against F times",
        f"  the lithium inserted {inserted:.6f} C/m2: relative difference {abs(charge - inserted) / abs(charge):.1e}.",
        "- Energy: 4C discharge with convection and radiation (full thermal model): generated",
        f"  {thermal['heat_generated_J']:.6e} J, generated - stored - removed = {imbalance:+.1e} J"
        f" (relative {abs(imbalance) / thermal['heat_generated_J']:.1e}).",
        *[f"- Thin film in {d}D against 1D, 1C discharge: largest voltage difference {dv:.1e} V." for d, dv in dims],
        "- Parallel: 1 and 2 MPI ranks are compared by `tests/test_parallel.py` under `make test`",
        "  (`mpiexec -n 2`); this serial script does not repeat it.",
        "",
    ]


NOT_MODELLED: dict[str, str] = {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "verification.md")
    args = parser.parse_args()
    start = time.perf_counter()
    cases = (case_a, case_b, case_c, case_d, case_e, case_f, case_g, case_h, case_i, case_j, case_k)
    sections = [case() for case in cases]
    v = versions()
    lines = [
        "# Verification report",
        "",
        "Each case of the verification reference (closed-form and series solutions) computed with the",
        "package's own meshes, weak forms and solvers, with its error and, where the case asks for it, the",
        "observed convergence order. Generated by `python docs/scripts/verification_report.py` on",
        f"{datetime.date.today().isoformat()} (2-core AMD EPYC VM, Python {platform.python_version()}, "
        f"ssbfem {v['ssbfem']},",
        f"DOLFINx {v['dolfinx']}, PETSc {v['petsc']}; {time.perf_counter() - start:.0f} s). The test suite asserts",
        "the same comparisons (`tests/test_verification_*.py`, `test_thermal.py`, `test_mechanics.py`,",
        "`test_interfaces.py`, `test_contact.py`, `test_space_charge.py`, `test_impedance.py`).",
        "",
    ]
    for section in sections:
        lines += section
    if NOT_MODELLED:
        lines += ["## Cases not modelled yet", ""]
        lines += [f"- **{name}**: {why}" for name, why in NOT_MODELLED.items()]
    if MPI.COMM_WORLD.rank == 0:
        args.output.write_text("\n".join(lines) + "\n")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
