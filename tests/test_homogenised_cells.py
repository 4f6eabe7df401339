"""The homogenised model on 2D/3D macro meshes: the effective conductivity as a diagonal tensor
(an isotropic one equals the number, each direction's factor acts along its own axis, checked
against the closed-form drop of a uniform reaction), and interdigitated cells with composite
pillars (charge conservation, the flat limit against the planar stack) and their input checks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import merge, simulate, thin_film

import ssbfem.runner
from ssbfem._dolfinx import dolfinx
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.materials.ocp import OCP_FUNCTIONS
from ssbfem.settings import validate
from ssbfem.simulation import lithium_charge_balance

fem = dolfinx.fem
RT_F = GAS_CONSTANT * 298.15 / FARADAY
ACTIVE, RADIUS_UM = 0.6, 2.0
INF = float("inf")
TAU_SE = "homogenised.tortuosity_factor_electrolyte"


def homogenised(**sections) -> dict:
    """The reference thin-film stack read as a homogenised composite (60 % LiCoO2 particles of
    2 um radius), a few elements, constant exchange current; `sections` override."""
    raw = thin_film(
        model="homogenised",
        homogenised={"volume_fraction_active": ACTIVE, "particle_radius_um": RADIUS_UM, "radial_elements": 4},
        mesh={"electrolyte_elements": 2, "positive_elements": 4},
        cell={"positive": {"exchange_current_law": "constant"}},
    )
    merge(raw, sections)
    return raw


def interdigitated(dimension: int = 2, layers: dict | None = None, **section) -> dict:
    """The reference materials in an interdigitated cell (plates in 2D by default) whose positive
    region, base film and pillars, is the homogenised composite; `section` sets
    [cell.interdigitated]."""
    raw = homogenised(
        cell={
            "architecture": "interdigitated",
            "dimension": dimension,
            "interdigitated": {"shape": "plate", "pitch_um": 4.0, "width_um": 2.0, "mesh_size_um": 1.0, **section},
            **(
                layers
                or {
                    "negative": {"thickness_um": 1.0},
                    "electrolyte": {"thickness_um": 0.5},
                    "positive": {"thickness_um": 1.0},
                }
            ),
        },
        mesh={"degree": 1},
    )
    del raw["cell"]["nominal_capacity_mAh_cm2"]  # 1C from the composite's active volume
    return raw


@pytest.mark.parametrize(
    ("dimension", "tensor", "number"),
    [
        (2, {"electrolyte": [2.0, 2.0, 2.0], "active": [1.5, 1.5, 1.5]}, {"electrolyte": 2.0, "active": 1.5}),
        (3, {"electrolyte": [2.0, 2.0, 2.0], "active": [1.5, 1.5, 1.5]}, {"electrolyte": 2.0, "active": 1.5}),
        (1, {"electrolyte": [2.0, 50.0, INF], "active": [1.5, INF, 3.0]}, {"electrolyte": 2.0, "active": 1.5}),
    ],
)
def test_isotropic_tensor_is_the_number(dimension, tensor, number):
    """On a 2D and a 3D macro mesh an isotropic tensor gives the voltages of the number to
    round-off (1e-11 V; measured 5e-13 V); on a 1D mesh only tau_x is used, whatever y and z are."""

    def voltages(taus: dict) -> np.ndarray:
        cfg = homogenised(
            cell={"dimension": dimension},
            homogenised={f"tortuosity_factor_{phase}": tau for phase, tau in taus.items()},
            mesh={"in_plane_elements": 2, "degree": 1},
            experiment={"steps": ["Discharge at 4 A/m2 for 120 s"]},
        )
        return simulate(cfg).series.column("voltage_V")

    a, b = voltages(tensor), voltages(number)
    assert len(a) == len(b) > 10
    assert a[0] - a[-1] > 0.05  # a real discharge
    assert np.abs(a - b).max() < 1e-11


def _rotated(axis: int):
    """A mesh builder whose cell mesh is turned so that the stack, built along x, runs along
    `axis` (a rotation by 90 degrees in the (x, axis) plane; terminals and groups unchanged)."""
    build = ssbfem.runner.build_mesh
    if axis == 0:
        return build

    def rotated(settings, comm):
        cellmesh = build(settings, comm)
        x = cellmesh.mesh.geometry.x
        x[:, 0], x[:, axis] = -x[:, axis].copy(), x[:, 0].copy()
        return cellmesh

    return rotated


@pytest.mark.parametrize(("dimension", "axis"), [(2, 0), (2, 1), (3, 2)])
def test_each_direction_conducts_with_its_own_factor(monkeypatch, dimension, axis):
    """A slow uniform reaction (Wagner number about 100, fast particle diffusion) in a macro cell
    whose stack runs along `axis` (the thin-film mesh turned): the current crosses the composite
    along that axis only, so the drop below U(x) is the closed form of the 1D cell with that
    axis's factors, kappa_eff = eps_SE / tau_axis sigma_SE and sigma_eff = eps_AM / tau_axis
    sigma_AM (tests/test_homogenised.py, uniform reaction):

        I L_sep / sigma_SE + I L / 3 (1 / kappa_eff + 1 / sigma_eff) - eta_pos + eta_Li,

    within 0.5 % of its ohmic part (measured 0.044 % along x, y and z alike: the reaction's
    non-uniformity). The other directions conduct 25 to 33 times less (tau = 50) or
    not at all (inf; never along x): were they used, the composite's drop would be that much larger."""
    current, i0, sigma = 0.02, 1.92e-3, 1.0e-3
    tau_se, tau_am = 2.0, 1.5
    taus = {"electrolyte": [50.0, INF, INF], "active": [50.0, 50.0, 50.0]}
    taus["electrolyte"][axis], taus["active"][axis] = tau_se, tau_am
    cfg = homogenised(
        cell={
            "dimension": dimension,
            "electrolyte": {"conductivity_S_m": sigma},
            "positive": {"electronic_conductivity_S_m": sigma, "diffusivity_m2_s": 1e-10, "exchange_current_A_m2": i0},
        },
        homogenised={"tortuosity_factor_electrolyte": taus["electrolyte"], "tortuosity_factor_active": taus["active"]},
        mesh={"positive_elements": 16, "in_plane_elements": 2},
        experiment={"steps": [f"Discharge at {current} A/m2 for 0.01 s"]},
    )
    monkeypatch.setattr(ssbfem.runner, "build_mesh", _rotated(axis))
    s, cell = simulate(cfg).series, cfg["cell"]
    pos = cell["positive"]
    thickness, separator = pos["thickness_um"] * 1e-6, cell["electrolyte"]["thickness_um"] * 1e-6
    area = 3.0 * ACTIVE / (RADIUS_UM * 1e-6)
    kappa_eff, sigma_eff = sigma * (1 - ACTIVE) / tau_se, sigma * ACTIVE / tau_am
    ohmic = current * separator / sigma + current * thickness / 3 * (1 / kappa_eff + 1 / sigma_eff)
    eta_pos = 2 * RT_F * np.arcsinh(-current / (area * thickness) / (2 * i0))
    eta_li = 2 * RT_F * np.arcsinh(current / (2 * cell["negative"]["exchange_current_A_m2"]))
    t = s.column("time_s")[1]
    x = pos["initial_stoichiometry"] + current * t / (FARADAY * pos["max_concentration_mol_m3"] * ACTIVE * thickness)
    drop = float(OCP_FUNCTIONS[pos["ocp"]](x, np)) - s.column("voltage_V")[1]
    assert abs(drop - (ohmic - eta_pos + eta_li)) < 5e-3 * ohmic, (drop, ohmic - eta_pos + eta_li)


def _reaction_totals(model) -> tuple[float, float]:
    """Per footprint area (A/m2): the composite's volumetric reaction, int a_eff j dx (anodic
    positive), and the Li interface's, int j_Li dS."""
    m, q = model.measures, model.q
    positive = m.dx(tags.POSITIVE)(metadata=model.interface_rule)
    li = m.dS(tags.NEGATIVE_INTERFACE)
    comm = model.cellmesh.mesh.comm
    total = lambda form: comm.allreduce(fem.assemble_scalar(fem.form(form, entity_maps=model.entity_maps)))
    volumetric = total(model.effective.reacting_area_1_m * MESH_UNIT_M * q["j:positive"] * positive)
    return volumetric / model.terminal_area, total(q["j:negative"] * li) / model.terminal_area


@pytest.mark.parametrize(
    ("dimension", "section"),
    [
        (2, {"aef": 3.0}),
        pytest.param(
            3,
            {"shape": "square", "aef": 2.0, "mesh_size_um": 1.5, "interface_mesh_size_um": 0.75},
            marks=pytest.mark.mpi,
        ),
    ],
)
def test_interdigitated_composite_conserves_charge(dimension, section):
    """Composite plates (2D) and square pillars (3D), Li meshed in the trenches, a minute at 1C
    with an anisotropic composite: the current through the terminal equals the composite's total
    reaction and the Li interface's, and the charge passed equals F x the lithium the particles
    took up, each to 1e-9; the voltage breakdown (the Li's ohmic loss and kinetics on its meshed
    interface) sums to the cell voltage at every row."""
    raw = interdigitated(dimension, **section)
    raw["homogenised"]["tortuosity_factor_electrolyte"] = [2.0, 4.0, 4.0]
    raw["experiment"] = {"steps": ["Discharge at 1C for 1 minute"]}
    # The stoichiometry tolerance 5e-5: at the default 5e-4 the last step's Newton iterate, stopped by
    # the solver's tests, leaves 1.1e-9 between the 3D cell's currents.
    raw.setdefault("solver", {})["stoichiometry_tolerance"] = 5e-5
    result = simulate(raw)
    model = result.simulation.model
    assert tags.NEGATIVE in model.cellmesh.cell_names and "psi_neg" in model.fields
    charge, inserted = lithium_charge_balance(result.series.rows)
    assert charge > 0.0
    assert abs(charge - inserted) <= 1e-9 * charge
    current = result.series.rows[-1]["current_A_m2"]
    volumetric, li = _reaction_totals(model)
    assert -volumetric == pytest.approx(current, rel=1e-9)
    assert li == pytest.approx(current, rel=1e-9)
    s = result.series
    terms = [n for n in s.names if n.startswith("loss_")] + ["ocp_positive_V"]
    total = sum(s.column(n) for n in terms) - s.column("ocp_negative_V")
    assert np.abs(total - s.column("voltage_V")).max() < 1e-9
    assert s.column("loss_charge_transfer_negative_V")[-1] < 0.0  # the Li kinetics act (on discharge)


def test_flat_interdigitated_composite_is_the_planar_stack():
    """AEF 1 (no plates): the interdigitated builder's planar limit, Li meshed, against the
    homogenised planar stack of the same layers (Li unmeshed: its ohmic drop, 1 um / 1e7 S/m
    x 4 A/m2 = 4e-13 V, is not seen; quadratic elements, 64 through the composite), 600 s at
    4 A/m2 in equal steps, sigma_SE = 1e-2 S/m. On unstructured linear triangles of 2, 1 and
    0.5 um the largest voltage difference falls at second order (measured 4.3e-5, 1.4e-5,
    3.3e-6 V: order 1.8) and is below 1e-5 V on the finest."""
    steps = {"steps": ["Discharge at 4 A/m2 for 600 s"]}
    solver = {"initial_step_s": 10.0, "max_step_s": 10.0, "voltage_tolerance_V": 1.0, "stoichiometry_tolerance": 1.0}
    electrolyte = {"electrolyte": {"conductivity_S_m": 1e-2}}
    planar = homogenised(cell=electrolyte, mesh={"degree": 2, "positive_elements": 64}, experiment=steps, solver=solver)
    reference = simulate(planar).series.column("voltage_V")
    assert reference[0] - reference[-1] > 0.02  # a real discharge
    differences = []
    for size in (2.0, 1.0, 0.5):
        layers = {"negative": {"thickness_um": 1.0}, **electrolyte}
        flat = interdigitated(2, layers, pitch_um=2.0, width_um=1.0, aef=1.0, mesh_size_um=size)
        flat["cell"]["interdigitated"]["interface_mesh_size_um"] = min(size, 1.0)
        merge(flat, {"experiment": steps, "solver": solver})
        voltage = simulate(flat).series.column("voltage_V")
        assert len(voltage) == len(reference)
        differences.append(np.abs(voltage - reference).max())
    order = np.log2(differences[0] / differences[-1]) / 2
    assert 1.6 < order < 2.4, (differences, order)
    assert differences[-1] < 1e-5, differences


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"homogenised": {"volume_fraction_active": None}}, "homogenised.volume_fraction_active"),
        ({"homogenised": {"particle_radius_um": None}}, "homogenised.particle_radius_um"),
        ({"homogenised": {"dimension": 1}}, "homogenised.dimension"),
        ({"homogenised": {"tortuosity_factor_active": [INF, 1.0, 1.0]}}, "homogenised.tortuosity_factor_active"),
        ({"homogenised": {"tortuosity_factor_electrolyte": [2.0, 2.0]}}, "homogenised.tortuosity_factor_electrolyte"),
        (
            {"homogenised": {"tortuosity_factor_electrolyte": [2.0, 0.5, 1.0]}},
            "homogenised.tortuosity_factor_electrolyte",
        ),
        ({"homogenised": {"tortuosity_factor_electrolyte": INF}}, "homogenised.tortuosity_factor_electrolyte"),
        ({"cell": {"positive": {"double_layer_F_m2": 0.1}}}, "cell.positive.double_layer_F_m2"),
        ({"thermal": {"model": "lumped"}}, "cell.positive.density_kg_m3"),  # LiCoO2: none in the library
    ],
)
def test_bad_input_names_the_key(change, key):
    raw = interdigitated(aef=3.0)
    for name, value in change.get("homogenised", {}).items():
        if value is None:
            raw["homogenised"].pop(name)
        else:
            raw["homogenised"][name] = value
    merge(raw, {k: v for k, v in change.items() if k != "homogenised"})
    with pytest.raises(InputError) as info:
        validate(raw)
    assert info.value.key == key, info.value


def test_thin_film_keeps_li_unmeshed():
    """A homogenised thin-film config with a Li thickness is still refused (the Li would be meshed
    with no interface kinetics there); the interdigitated cell is where Li is meshed."""
    with pytest.raises(InputError) as info:
        validate(homogenised(cell={"negative": {"thickness_um": 1.0}}))
    assert info.value.key == "cell.negative.thickness_um"
