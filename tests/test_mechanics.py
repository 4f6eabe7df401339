"""Linear elasticity with eigenstrains: verification case D and the free-expansion check."""

from __future__ import annotations

import numpy as np
import pytest
import ufl
from mpi4py import MPI

from ssbfem.geometry import tags
from ssbfem.geometry.io import mesh_from_model
from ssbfem.geometry.thin_film import Layer, build_thin_film
from ssbfem.mechanics import Region, solve_elasticity
from ssbfem.physics.elasticity import hydrostatic, von_mises

# Case D: LiCoO2 film (E = 375 GPa, nu = 0.2, Omega = -7.28e-7 m3/mol) lithiated by dc = 15778 mol/m3.
E, NU, OMEGA, DC = 375e9, 0.2, -7.28e-7, 15778.0


def film(dimension: int, layers=None):
    layers = layers or [Layer(tags.POSITIVE, 8.0, 4)]
    return mesh_from_model(
        MPI.COMM_WORLD, lambda: build_thin_film(layers, dimension, width_um=10.0, in_plane_elements=3)
    )


@pytest.mark.mpi
@pytest.mark.parametrize("kind", ["chemical", "thermal"])
def test_film_on_rigid_substrate_case_D(kind):
    """Clamped to a rigid substrate at x = 0, in-plane displacement held on the sides, free on
    top: biaxial sigma = -E eps*/(1 - nu) in plane (+1795 MPa for the lithiated LiCoO2 film),
    zero across the film."""
    cm = film(3)
    # lithiation Omega dc/3, or cooling by 725 K on a substrate that does not shrink, alpha dT
    eigenstrain = OMEGA * DC / 3 if kind == "chemical" else 1.25e-5 * (298.15 - 1023.15)
    state = solve_elasticity(
        cm,
        {tags.POSITIVE: Region(E, NU, eigenstrain)},
        clamped=(tags.NEGATIVE_TERMINAL,),
        rollers=((tags.LATERAL, 1), (tags.LATERAL, 2)),
    )
    sigma = state.stress[tags.POSITIVE]
    expected = -E * eigenstrain / (1 - NU)
    if kind == "chemical":
        assert expected == pytest.approx(1795e6, rel=1e-3)
    for i, target in ((0, 0.0), (1, expected), (2, expected)):
        assert state.mean(tags.POSITIVE, sigma[i, i]) == pytest.approx(target, abs=1e-6 * abs(expected))
    # uniform: the largest deviation from the mean stress is round-off
    deviation = state.mean(tags.POSITIVE, (sigma[1, 1] - expected) ** 2) ** 0.5
    assert deviation <= 1e-6 * abs(expected)


def test_free_expansion_is_stress_free():
    """A free two-layer body with one uniform eigenstrain: no stress at all (rigid-body modes
    removed without over-constraining)."""
    cm = film(3, [Layer(tags.ELECTROLYTE, 3.0, 2), Layer(tags.POSITIVE, 8.0, 3)])
    eps = 1.5e-5 * (298.15 - 1023.15)
    regions = {tags.ELECTROLYTE: Region(150e9, 0.26, eps), tags.POSITIVE: Region(150e9, 0.26, eps)}
    state = solve_elasticity(cm, regions)
    for name, sigma in state.stress.items():
        assert state.mean(name, von_mises(sigma) ** 2) ** 0.5 <= 1e-9 * 150e9 * abs(eps)


def test_cooling_mismatch_stresses_have_opposite_signs():
    """A free LLZO | LiCoO2 bilayer cooled by 725 K: the layer that shrinks more (LLZO, 1.55e-5/K
    against 1.25e-5/K) ends in tension, the other in compression, and the force balances."""
    cm = film(3, [Layer(tags.ELECTROLYTE, 5.0, 3), Layer(tags.POSITIVE, 5.0, 3)])
    dT = 298.15 - 1023.15
    regions = {tags.ELECTROLYTE: Region(150e9, 0.26, 1.55e-5 * dT), tags.POSITIVE: Region(375e9, 0.2, 1.25e-5 * dT)}
    state = solve_elasticity(cm, regions)
    s_llzo = state.mean(tags.ELECTROLYTE, hydrostatic(state.stress[tags.ELECTROLYTE]))
    s_lco = state.mean(tags.POSITIVE, hydrostatic(state.stress[tags.POSITIVE]))
    assert s_llzo > 0 > s_lco
    # in-plane force balance across the free bilayer: equal thicknesses, opposite mean in-plane stress
    f_llzo = state.mean(tags.ELECTROLYTE, state.stress[tags.ELECTROLYTE][1, 1])
    f_lco = state.mean(tags.POSITIVE, state.stress[tags.POSITIVE][1, 1])
    assert f_llzo + f_lco == pytest.approx(0.0, abs=1e-6 * abs(f_llzo))
    assert isinstance(ufl.tr(state.stress[tags.POSITIVE]), ufl.core.expr.Expr)


@pytest.mark.parametrize("plane_stress", [False, True])
def test_film_on_rigid_substrate_in_2d(plane_stress):
    """Plane strain: the out-of-plane direction is confined too, so the film carries the same
    biaxial stress -E eps*/(1 - nu) in plane; plane stress: uniaxial confinement, -E eps*."""
    cm = film(2)
    eigenstrain = OMEGA * DC / 3
    state = solve_elasticity(
        cm,
        {tags.POSITIVE: Region(E, NU, eigenstrain)},
        clamped=(tags.NEGATIVE_TERMINAL,),
        rollers=((tags.LATERAL, 1),),
        formulation="plane_stress" if plane_stress else "plane_strain",
    )
    sigma = state.stress[tags.POSITIVE]
    expected = -E * eigenstrain / (1 if plane_stress else 1 - NU)
    assert state.mean(tags.POSITIVE, sigma[1, 1]) == pytest.approx(expected, rel=1e-9)
    assert state.mean(tags.POSITIVE, sigma[0, 0]) == pytest.approx(0.0, abs=1e-9 * abs(expected))


def test_stoney_curvature_of_a_thin_film_on_a_thick_substrate():
    """A free 0.5 um film on a 50 um substrate (plane strain, 1 mm wide) that wants to shrink by
    0.1 %: the curvature at the centre gives the film stress by Stoney's formula (biaxial modulus
    E/(1 - nu^2) in plane strain) within its own approximation error (5 %)."""
    import numpy as np

    hs, hf, width = 50.0, 0.5, 1000.0
    layers = [Layer(tags.NEGATIVE_CC, hs, 8), Layer(tags.POSITIVE, hf, 2)]
    cm = mesh_from_model(MPI.COMM_WORLD, lambda: build_thin_film(layers, 2, width_um=width, in_plane_elements=100))
    es, nus = 150e9, 0.26
    regions = {tags.NEGATIVE_CC: Region(es, nus, 0.0), tags.POSITIVE: Region(375e9, 0.2, -1e-3)}
    state = solve_elasticity(cm, regions, degree=2)
    x = state.displacement.function_space.tabulate_dof_coordinates()
    deflection = state.displacement.x.array.reshape(-1, 2)[:, 0]
    centre = (np.abs(x[:, 0] - hs) < 1e-9) & (np.abs(x[:, 1] - width / 2) < width / 4)
    curvature = 2 * np.polyfit(x[centre, 1], deflection[centre], 2)[0]  # 1/um
    stoney = es / (1 - nus**2) * hs**2 * curvature / (6 * hf)
    film_stress = state.mean(tags.POSITIVE, state.stress[tags.POSITIVE][1, 1])
    assert film_stress > 0  # the film wants to shrink: tension
    assert stoney == pytest.approx(film_stress, rel=0.05)


def test_cooling_then_lithiation_in_a_run(tmp_path):
    """A 1D LLZO | LiCoO2 stack on a rigid substrate cooled from 1023 K ("Cool from ... over 1
    hour"), then discharged: each layer's biaxial stress is -E (alpha dT + Omega dc/3)/(1 - nu)
    (case D, superposed), read from mechanics.csv."""
    import csv

    from conftest import DEMO_CONFIG

    from ssbfem.cli import main

    out = tmp_path / "run"
    overrides = [
        "cell.electrolyte.material='LLZO'",
        "cell.electrolyte.thickness_um=5.0",
        "cell.electrolyte.conductivity_S_m=1e-2",
        "mechanics.enabled=true",
        "mechanics.stress_free_temperature_K=1023.15",
        "experiment.steps=['Cool from 750 C to 25 C over 1 hour', 'Discharge at 1C until 3.6 V']",
    ]
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), *[a for o in overrides for a in ("--set", o)]]) == 0
    rows = list(csv.DictReader((out / "mechanics.csv").open()))
    series = list(csv.DictReader((out / "timeseries.csv").open()))
    biaxial = lambda E, nu, eps: -E * eps / (1 - nu)
    first, last = rows[0], rows[-1]
    cooled = next(r for r in rows if float(r["time_s"]) == pytest.approx(3600.0))
    assert float(first["von_mises_max_Pa[positive]"]) == pytest.approx(0.0, abs=1.0)
    llzo = biaxial(150e9, 0.26, 1.55e-5 * -725.0)
    assert float(cooled["von_mises_max_Pa[electrolyte]"]) == pytest.approx(abs(llzo), rel=1e-6)
    assert float(cooled["hydrostatic_mean_Pa[electrolyte]"]) == pytest.approx(2 * llzo / 3, rel=1e-6)
    lco = biaxial(375e9, 0.2, 1.25e-5 * -725.0)
    assert float(cooled["principal_max_Pa[positive]"]) == pytest.approx(lco, rel=1e-6)
    # lithiation: the mean stoichiometry change gives the mean chemical stress
    dx = float(series[-1]["mean_stoichiometry"]) - 0.51
    chemical = biaxial(375e9, 0.2, -7.28e-7 * 3.22e4 * dx / 3)
    assert float(last["hydrostatic_mean_Pa[positive]"]) == pytest.approx(2 * (lco + chemical) / 3, rel=1e-6)
    for field in ("displacement", "stress"):
        assert (out / "fields" / f"{field}.bp").is_dir()
    # failure indicators of LLZO (strength 100 MPa, K_Ic 1.25 MPa m^0.5; flaw 1 um, Y = 1.12)
    principal = float(cooled["principal_max_Pa[electrolyte]"])
    assert float(cooled["tensile_margin_Pa[electrolyte]"]) == pytest.approx(100e6 - principal, rel=1e-12)
    indicator = principal * 1.12 * (3.141592653589793 * 1e-6) ** 0.5 / 1.25e6
    assert float(cooled["fracture_indicator[electrolyte]"]) == pytest.approx(indicator, rel=1e-12)
    assert indicator > 1  # 2.3 GPa on a rigid substrate: it cracks
    import json

    ratio = json.loads((out / "run.json").read_text())["monroe_newman_shear_modulus_ratio"]
    assert ratio == pytest.approx((150e9 / 2.52) / (7.8e9 / 2.72), rel=1e-12)


def test_mechanics_needs_elastic_data():
    from conftest import thin_film

    from ssbfem.config import resolve
    from ssbfem.errors import InputError

    with pytest.raises(InputError, match=r"cell\.electrolyte\.thermal_expansion_1_K"):
        resolve(thin_film(mechanics={"enabled": True}))


@pytest.mark.mpi
def test_stack_pressure_on_a_confined_bilayer():
    """A bilayer pressed by p on its top face, on rollers at the bottom and on the sides
    (laterally confined): sigma_xx = -p in both layers, the in-plane stress -p nu/(1 - nu) of
    each, and on the interface the normal traction -p without shear."""
    p = 3.0e6
    cm = film(3, [Layer(tags.ELECTROLYTE, 3.0, 2), Layer(tags.POSITIVE, 5.0, 3)])
    materials = {tags.ELECTROLYTE: (150e9, 0.26), tags.POSITIVE: (E, NU)}
    state = solve_elasticity(
        cm,
        {name: Region(*data) for name, data in materials.items()},
        rollers=((tags.NEGATIVE_TERMINAL, 0), (tags.LATERAL, 1), (tags.LATERAL, 2)),
        pressures={tags.POSITIVE_TERMINAL: p},
    )
    for name, (_, nu) in materials.items():
        sigma = state.stress[name]
        assert state.mean(name, sigma[0, 0]) == pytest.approx(-p, rel=1e-9)
        for i in (1, 2):
            assert state.mean(name, sigma[i, i]) == pytest.approx(-p * nu / (1 - nu), rel=1e-9)
    tractions = state.interface_tractions()
    assert tractions[f"interface_normal_traction_max_Pa[{tags.POSITIVE_INTERFACE}]"] == pytest.approx(-p, rel=1e-9)
    assert tractions[f"interface_shear_traction_max_Pa[{tags.POSITIVE_INTERFACE}]"] == pytest.approx(0.0, abs=1e-9 * p)


def _oblique_bilayer(slope: float) -> None:
    """A unit square (plane strain) split by the line y = 0.25 + slope x into an electrolyte
    (below) and a positive electrode (above)."""
    import gmsh

    geo = gmsh.model.geo
    y0, y1 = 0.25, 0.25 + slope
    p = [geo.addPoint(x, y, 0) for x, y in ((0, 0), (1, 0), (1, y1), (1, 1), (0, 1), (0, y0))]
    lines = [geo.addLine(p[i], p[(i + 1) % 6]) for i in range(6)]  # bottom, right lo, right hi, top, left hi, left lo
    cut = geo.addLine(p[5], p[2])
    below = geo.addPlaneSurface([geo.addCurveLoop([lines[0], lines[1], -cut, lines[5]])])
    above = geo.addPlaneSurface([geo.addCurveLoop([cut, lines[2], lines[3], lines[4]])])
    geo.synchronize()
    gmsh.model.addPhysicalGroup(2, [below], name=tags.ELECTROLYTE)
    gmsh.model.addPhysicalGroup(2, [above], name=tags.POSITIVE)
    groups = {"bottom": [lines[0]], "right": lines[1:3], "left": [lines[4], lines[5]], tags.POSITIVE_INTERFACE: [cut]}
    for name, curves in groups.items():
        gmsh.model.addPhysicalGroup(1, curves, name=name)
    gmsh.option.setNumber("Mesh.MeshSizeMax", 0.2)
    gmsh.model.mesh.generate(2)


@pytest.mark.mpi
def test_interface_tractions_on_an_oblique_interface():
    """Uniaxial compression sigma_xx = -p (pressed on the right, rollers left and bottom, top
    free) of a block whose interface has the unit normal n = (-s, 1)/sqrt(1 + s^2): traction
    t = sigma n, normal part -p n_x^2, shear p |n_x n_y|."""
    slope, p = 0.5, 2.0e6
    cm = mesh_from_model(MPI.COMM_WORLD, lambda: _oblique_bilayer(slope))
    regions = {tags.ELECTROLYTE: Region(150e9, 0.26), tags.POSITIVE: Region(150e9, 0.26)}
    state = solve_elasticity(cm, regions, rollers=(("left", 0), ("bottom", 1)), pressures={"right": p})
    assert state.mean(tags.POSITIVE, state.stress[tags.POSITIVE][0, 0]) == pytest.approx(-p, rel=1e-9)
    nx, ny = -slope / (1 + slope**2) ** 0.5, 1 / (1 + slope**2) ** 0.5
    tractions = state.interface_tractions()
    name = tags.POSITIVE_INTERFACE
    assert tractions[f"interface_normal_traction_max_Pa[{name}]"] == pytest.approx(-p * nx**2, rel=1e-9)
    assert tractions[f"interface_shear_traction_max_Pa[{name}]"] == pytest.approx(p * abs(nx * ny), rel=1e-9)


@pytest.mark.parametrize("solver", ["direct", "iterative"])
def test_stack_pressure_in_a_run(tmp_path, monkeypatch, solver):
    """A 1D LLZO | LiCoO2 stack on a rigid substrate pressed by 5 MPa on its positive terminal
    (at the stress-free temperature, before lithiation): uniaxial strain, sigma_xx = -p and the
    in-plane -p nu/(1 - nu) in each layer, the interface's normal traction -p (mechanics.csv);
    with the direct solver of small problems and with the iterative one of large problems."""
    import csv

    from conftest import DEMO_CONFIG

    from ssbfem import mechanics
    from ssbfem.cli import main

    if solver == "iterative":
        monkeypatch.setattr(mechanics, "ITERATIVE_ABOVE_DOFS", 0)
    tolerance = 1e-9 if solver == "direct" else 1e-5  # CG to rtol 1e-8 in the preconditioned norm

    p, out = 5.0e6, tmp_path / "run"
    overrides = [
        "cell.electrolyte.material='LLZO'",
        "cell.electrolyte.thickness_um=5.0",
        "cell.electrolyte.conductivity_S_m=1e-2",
        "mechanics.enabled=true",
        "mechanics.boundaries.negative_terminal='clamped'",
        f"mechanics.boundaries.positive_terminal.pressure_Pa={p}",
        "experiment.steps=['Rest for 10 seconds']",
    ]
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), *[a for o in overrides for a in ("--set", o)]]) == 0
    first = next(csv.DictReader((out / "mechanics.csv").open()))
    for layer, nu in ((tags.ELECTROLYTE, 0.26), (tags.POSITIVE, 0.2)):
        in_plane = -p * nu / (1 - nu)
        assert float(first[f"hydrostatic_mean_Pa[{layer}]"]) == pytest.approx((-p + 2 * in_plane) / 3, rel=tolerance)
        assert float(first[f"von_mises_max_Pa[{layer}]"]) == pytest.approx(abs(in_plane + p), rel=tolerance)
    name = tags.POSITIVE_INTERFACE
    assert float(first[f"interface_normal_traction_max_Pa[{name}]"]) == pytest.approx(-p, rel=tolerance)
    assert float(first[f"interface_shear_traction_max_Pa[{name}]"]) == 0.0


def test_pressure_boundary_input_errors():
    from conftest import thin_film

    from ssbfem.config import resolve
    from ssbfem.errors import InputError

    with pytest.raises(InputError, match=r"mechanics\.boundaries\.positive_terminal"):
        resolve(thin_film(mechanics={"boundaries": {"positive_terminal": {"pressure": 1e6}}}))
    with pytest.raises(InputError, match="hold the stack somewhere"):
        resolve(thin_film(mechanics={"boundaries": {"positive_terminal": {"pressure_Pa": 1e6}}}))


@pytest.mark.mpi
@pytest.mark.parametrize("dimension", [1, 2])
def test_pressure_on_an_interface_is_refused(tmp_path, dimension):
    """A pressure integrates over boundary facets: named on an interface it would load nothing.
    The run stops with an InputError naming the key, on every rank, before writing anything."""
    from pathlib import Path

    from conftest import thin_film

    from ssbfem.config import resolve
    from ssbfem.errors import InputError
    from ssbfem.runner import run

    raw = thin_film(
        cell={
            "dimension": dimension,
            "electrolyte": {"material": "LLZO", "thickness_um": 5.0, "conductivity_S_m": 1e-2},
        },
        mesh={"in_plane_elements": 2},
        mechanics={
            "enabled": True,
            "boundaries": {"negative_terminal": "clamped", tags.POSITIVE_INTERFACE: {"pressure_Pa": 5.0e6}},
        },
    )
    out = Path(MPI.COMM_WORLD.bcast(str(tmp_path / "run"), root=0))
    with pytest.raises(InputError) as info:
        run(resolve(raw), out, MPI.COMM_WORLD)
    assert info.value.key == f"mechanics.boundaries.{tags.POSITIVE_INTERFACE}"
    assert info.value.reason == f"{tags.POSITIVE_INTERFACE!r} is an interior facet group (an interface), not a boundary"
    assert not out.exists()


@pytest.mark.mpi
@pytest.mark.parametrize("held_face", [True, False])
def test_iterative_solver_matches_direct(held_face):
    """CG with GAMG (the preset above ITERATIVE_ABOVE_DOFS, forced here by the options) gives
    the direct solution: held on a face, and free (null space, then the same removal of the
    mean rigid-body motion as the Lagrange multipliers)."""
    import numpy as np

    cm = film(3, [Layer(tags.ELECTROLYTE, 3.0, 2), Layer(tags.POSITIVE, 5.0, 3)])
    dT = 298.15 - 1023.15
    regions = {tags.ELECTROLYTE: Region(150e9, 0.26, 1.55e-5 * dT), tags.POSITIVE: Region(375e9, 0.2, 1.25e-5 * dT)}
    held = {"clamped": (tags.NEGATIVE_TERMINAL,)} if held_face else {}
    direct = solve_elasticity(cm, regions, degree=2, **held)
    iterative = solve_elasticity(
        cm, regions, degree=2, petsc_options={"ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-12}, **held
    )
    assert direct.iterations == 1 and iterative.iterations > 1
    scale = MPI.COMM_WORLD.allreduce(np.abs(direct.displacement.x.array).max(), op=MPI.MAX)
    difference = np.abs(direct.displacement.x.array - iterative.displacement.x.array).max()
    assert MPI.COMM_WORLD.allreduce(difference, op=MPI.MAX) <= 1e-8 * scale
    sigma_d, sigma_i = direct.stress[tags.POSITIVE], iterative.stress[tags.POSITIVE]
    assert iterative.mean(tags.POSITIVE, sigma_i[1, 1]) == pytest.approx(
        direct.mean(tags.POSITIVE, sigma_d[1, 1]), rel=1e-8
    )


@pytest.mark.parametrize(("feedback", "li_um"), [(False, None), (True, None), (True, 5.0)])
def test_stack_pressure_shifts_the_li_potential(tmp_path, feedback, li_um):
    """Monroe-Newman feedback of a 5 MPa stack pressure (1D LLZO | LiCoO2, Li unmeshed or a
    5 um layer): the normal stress on the Li interface is -p in a 1D stack (d sigma_xx/dx = 0)
    whatever the eigenstrains, so the Li equilibrium potential moves by -Omega_Li p / F and the
    cell voltage, at rest and under a galvanostatic discharge, rises by Omega_Li p / F = 0.674 mV
    over the run without feedback (after the first row: the shift is lagged). Without the option
    the voltage is the same as with no mechanics at all."""
    import csv

    from conftest import thin_film

    from ssbfem.config import resolve
    from ssbfem.constants import FARADAY
    from ssbfem.runner import run

    p = 5.0e6
    cell = {"electrolyte": {"material": "LLZO", "thickness_um": 5.0, "conductivity_S_m": 1e-2}}
    if li_um is not None:
        cell["negative"] = {"thickness_um": li_um}
    steps = {"steps": ["Rest for 10 seconds", "Discharge at 1C for 60 seconds"]}
    mechanics = {
        "enabled": True,
        "kinetics_feedback": feedback,
        "boundaries": {"negative_terminal": "clamped", "positive_terminal": {"pressure_Pa": p}},
    }
    plain = run(resolve(thin_film(cell=cell, experiment=steps)), None, MPI.COMM_WORLD).series
    out = tmp_path / "run"
    pressed = run(resolve(thin_film(cell=cell, experiment=steps, mechanics=mechanics)), out, MPI.COMM_WORLD).series
    assert list(pressed["time_s"]) == pytest.approx(list(plain["time_s"]), rel=1e-9)  # the same steps
    difference = pressed["voltage_V"] - plain["voltage_V"]
    rows = list(csv.DictReader((out / "mechanics.csv").open()))
    if not feedback:
        assert abs(difference).max() == 0.0
        assert "mechanical_shift_negative_V" not in rows[0]
        return
    shift = 1.30e-5 * p / FARADAY
    assert shift == pytest.approx(6.737e-4, rel=1e-3)
    assert difference[0] == 0.0
    assert difference[1:] == pytest.approx(shift, abs=1e-6)
    assert len(rows) == len(plain["time_s"])  # a mechanics solve after every accepted step
    for row in rows:
        assert float(row["normal_stress_negative_Pa"]) == pytest.approx(-p, rel=1e-9)
        assert float(row["mechanical_shift_negative_V"]) == pytest.approx(-shift, rel=1e-9)
    # the voltage breakdown still telescopes: the shift is the negative's OCP
    assert pressed["ocp_negative_V"][1:] == pytest.approx(-shift, rel=1e-9)
    parts = pressed["ocp_positive_V"] - pressed["ocp_negative_V"]
    parts = parts + sum(pressed[n] for n in pressed.names if n.startswith("loss_"))
    assert np.abs(parts - pressed["voltage_V"]).max() <= 1e-9


def test_kinetics_feedback_needs_mechanics():
    from conftest import thin_film

    from ssbfem.config import resolve
    from ssbfem.errors import InputError

    with pytest.raises(InputError, match=r"mechanics\.kinetics_feedback"):
        resolve(thin_film(mechanics={"kinetics_feedback": True}))


def test_shipped_mechanics_config_against_the_biaxial_formula(tmp_path):
    """demos/configs/thin_film_mechanics.toml: the film's in-plane stress (3/2 of its mean
    hydrostatic stress, sigma_xx = 0) after warming is E/(1 - nu) (alpha_s - alpha) dT, after
    the discharge that plus -E/(1 - nu) Omega c_max (x - x0)/3 at its mean stoichiometry x; the
    LLZO layer, part of the substrate, stays stress free. Tens to hundreds of MPa, not GPa."""
    import csv

    from conftest import REPO

    from ssbfem.config import load_config
    from ssbfem.runner import run

    cfg = load_config(REPO / "demos" / "configs" / "thin_film_mechanics.toml", ["output.plot=false"])
    result = run(cfg, tmp_path / "run")
    rows = {
        float(r["time_s"]): {k: float(v) for k, v in r.items()}
        for r in csv.DictReader((tmp_path / "run" / "mechanics.csv").open())
    }
    pos, mech = cfg["cell"]["positive"], cfg["mechanics"]
    biaxial = pos["youngs_modulus_Pa"] / (1 - pos["poissons_ratio"])
    thermal = biaxial * (mech["substrate_thermal_expansion_1_K"] - pos["thermal_expansion_1_K"]) * 35.0
    assert 1.5 * rows[600.0]["hydrostatic_mean_Pa[positive]"] == pytest.approx(thermal, rel=1e-6)
    assert 40e6 < thermal < 60e6
    x = result.series["mean_stoichiometry"][-1]
    chemical = -biaxial * pos["partial_molar_volume_m3_mol"] * pos["max_concentration_mol_m3"] * (x - 0.6) / 3
    end = rows[2400.0]
    assert 1.5 * end["hydrostatic_mean_Pa[positive]"] == pytest.approx(thermal + chemical, rel=1e-6)
    assert 100e6 < chemical < 150e6
    for t in (600.0, 2400.0):
        assert abs(rows[t]["hydrostatic_mean_Pa[electrolyte]"]) < 1e-6 * thermal


def test_substrate_expansion_only_in_1d():
    from conftest import thin_film

    from ssbfem.errors import InputError
    from ssbfem.settings import validate

    raw = thin_film(mechanics={"enabled": True, "substrate_thermal_expansion_1_K": 1e-5})
    raw["cell"]["electrolyte"]["material"] = "LLZO"
    raw["cell"]["dimension"] = 2
    with pytest.raises(InputError, match=r"mechanics\.substrate_thermal_expansion_1_K"):
        validate(raw)
