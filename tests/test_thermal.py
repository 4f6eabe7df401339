"""Thermal energy balance coupled two-way to the electrochemistry (verification case E, the
lumped convective limit, energy conservation, reversible heat, Arrhenius coupling)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import simulate, thin_film
from test_verification_cells import symmetric_cell

from ssbfem.constants import GAS_CONSTANT
from ssbfem.materials.ocp import ENTROPIC_COEFFICIENTS

LICOO2_THERMAL = {"density_kg_m3": 5050.0, "heat_capacity_J_kg_K": 750.0}  # test values
ELECTROLYTE_THERMAL = {"density_kg_m3": 2680.0, "heat_capacity_J_kg_K": 1400.0, "thermal_conductivity_W_m_K": 1.4}
# The symmetric cell's second Li electrode: Li's thermal data and no entropy.
METAL_LIKE_POSITIVE = {
    "density_kg_m3": 534.0,
    "heat_capacity_J_kg_K": 3582.0,
    "thermal_conductivity_W_m_K": 81.8,
    "entropic_coefficient": "none",
}
CASE_E = {0.01: 0.010000, 0.1: 0.098873, 0.2: 0.185193, 0.5: 0.349727, 1.0: 0.456239, 2.0: 0.496289}


def slab_with_source() -> dict[float, float]:
    """Symmetric-cell electrolyte (500 um) at constant current: uniform Joule heat q = I^2/sigma,
    temperature fixed at both faces. Returns the mid-plane theta = (T - T0) k/(q L^2) at each
    Fourier number of CASE_E."""
    current, sigma, half = 100.0, 0.005, 250e-6
    k, rho_cp = ELECTROLYTE_THERMAL["thermal_conductivity_W_m_K"], 2680.0 * 1400.0
    alpha, q = k / rho_cp, current**2 / sigma
    horizon = 2.0 * half**2 / alpha
    raw = symmetric_cell(current / 10.0)
    raw["cell"]["electrolyte"].update(
        ELECTROLYTE_THERMAL, conductivity_S_m=sigma, conductivity_activation_energy_J_mol=0.0
    )
    raw["cell"]["positive"].update(METAL_LIKE_POSITIVE)
    raw["experiment"] = {"steps": [f"Discharge at {current} A/m2 for {horizon} s"]}
    raw["mesh"].update(electrolyte_elements=16)
    raw["solver"] = {"temperature_tolerance_K": 1e-7}
    fixed = {"type": "fixed", "temperature_K": 298.15}
    raw["thermal"] = {"model": "full", "boundaries": {"negative_terminal": fixed, "electrolyte|positive": fixed}}
    raw["output"]["field_times_s"] = [fo * half**2 / alpha for fo in CASE_E if fo < 2.0]
    series = simulate(raw).series
    rows = {fo: int(np.argmin(np.abs(series["time_s"] - fo * half**2 / alpha))) for fo in CASE_E}
    return {fo: (series["temperature_max_K"][i] - 298.15) * k / (q * half**2) for fo, i in rows.items()}


def test_slab_with_source_case_E():
    """Mid-plane temperature of a slab with a uniform source against the series solution."""
    theta = slab_with_source()
    for fo, expected in CASE_E.items():
        assert theta[fo] == pytest.approx(expected, rel=1e-3), fo


def test_lumped_convective_limit():
    """One temperature, cooled by h on the positive face: T - T_inf = (Q/h)(1 - exp(-h t/C)),
    Q the heat generated per footprint (all of I |V| in a symmetric cell), C the heat capacity."""
    h, horizon = 5.0e3, 2.0
    raw = symmetric_cell(5.0)
    raw["cell"]["electrolyte"].update(ELECTROLYTE_THERMAL, conductivity_activation_energy_J_mol=0.0)
    raw["cell"]["positive"].update(METAL_LIKE_POSITIVE)
    raw["experiment"] = {"steps": [f"Discharge at 5 mA/cm2 for {horizon} s"]}
    raw["thermal"] = {"model": "lumped", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": h}}}
    raw["solver"] = {"temperature_tolerance_K": 1e-7}
    series = simulate(raw).series
    capacity = 2680.0 * 1400.0 * 500e-6 + 534.0 * 3582.0 * 10e-6  # J/(m2 K)
    t, rise = series["time_s"][1:], series["temperature_mean_K"][1:] - 298.15
    generated = series["heat_generated_J_m2"][-1] / horizon  # W/m2, constant: the current is
    expected = generated / h * (1 - np.exp(-h * t / capacity))
    assert np.allclose(rise, expected, rtol=2e-3, atol=1e-9)
    # all the electrical work becomes heat: I |V|
    work = 50.0 * abs(series["voltage_V"][-1])
    assert series["heat_generated_J_m2"][-1] / horizon == pytest.approx(work, rel=2e-3)


@pytest.mark.parametrize("model", ["lumped", "full"])
def test_energy_balance_over_a_discharge(model):
    raw = thin_film(
        cell={"positive": LICOO2_THERMAL, "negative": {"thickness_um": 2.0}},
        thermal={
            "model": model,
            "boundaries": {
                "positive_terminal": {"type": "convection", "h_W_m2K": 10.0},
                "negative_terminal": {"type": "radiation", "emissivity": 0.8},
            },
        },
        experiment={"steps": ["Discharge at 4C until 3.0 V"]},
    )
    assert_heat_balance(simulate(raw).series)


def assert_heat_balance(s) -> None:
    """Generated = removed + stored to 1e-6 of the generated heat at the end of a run's series,
    each positive; Joule and irreversible heat never negative."""
    generated, lost, stored = s["heat_generated_J"][-1], s["heat_removed_J"][-1], s["heat_stored_J"][-1]
    assert generated > 0 and lost > 0 and stored > 0
    assert abs(generated - lost - stored) <= 1e-6 * generated
    for name in ("joule", "reaction"):
        assert np.all(s[f"heat_{name}_W"] >= -1e-15)


FIXED = {"type": "fixed", "temperature_K": 298.15}


@pytest.mark.mpi
@pytest.mark.parametrize(
    ("dimension", "boundaries"),
    [
        (1, {"negative_terminal": FIXED}),
        (1, {"negative_terminal": FIXED, "positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}),
        (1, {"electrolyte|positive": FIXED}),  # a thermostat on an interface: heat leaves from both sides
        (2, {"negative_terminal": FIXED, "positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}),
    ],
    ids=["fixed", "fixed+convection", "fixed-interface", "fixed+convection-2d"],
)
def test_energy_balance_with_a_fixed_temperature(dimension, boundaries):
    """The heat a fixed temperature removes is the reaction of the energy balance at its dofs:
    generated - stored - removed closes to 1e-6 of the heat generated (on any number of ranks),
    and the thermostat takes most of the heat (it holds the stack near 298.15 K)."""
    raw = thin_film(
        cell={"dimension": dimension, "positive": LICOO2_THERMAL, "negative": {"thickness_um": 2.0}},
        mesh={"in_plane_elements": 2},
        thermal={"model": "full", "boundaries": boundaries},
        experiment={"steps": ["Discharge at 4C until 3.0 V"]},
    )
    s = simulate(raw).series
    generated, lost, stored = s["heat_generated_J"][-1], s["heat_removed_J"][-1], s["heat_stored_J"][-1]
    assert generated > 0 and stored > 0
    assert lost > 0.5 * generated
    assert abs(generated - lost - stored) <= 1e-6 * generated


@pytest.mark.mpi
@pytest.mark.parametrize("dimension", [1, 2])
@pytest.mark.parametrize(
    ("model", "condition"),
    [
        ("full", {"type": "convection", "h_W_m2K": 10.0}),
        ("full", {"type": "radiation", "emissivity": 0.8}),
        ("lumped", {"type": "flux", "flux_W_m2": 100.0}),
    ],
)
def test_boundary_condition_on_an_interface_is_refused(tmp_path, dimension, model, condition):
    """Convection, radiation and flux integrate over boundary facets: named on an interface they
    would remove nothing. The run stops with an InputError naming the key, on every rank, before
    its output directory is made."""
    from pathlib import Path

    from mpi4py import MPI

    from ssbfem.config import resolve
    from ssbfem.errors import InputError
    from ssbfem.runner import run

    raw = thin_film(
        cell={"dimension": dimension, "positive": LICOO2_THERMAL},
        mesh={"in_plane_elements": 2},
        thermal={"model": model, "boundaries": {"electrolyte|positive": condition}},
    )
    out = Path(MPI.COMM_WORLD.bcast(str(tmp_path / "run"), root=0))
    with pytest.raises(InputError) as info:
        run(resolve(raw), out, MPI.COMM_WORLD)
    assert info.value.key == "thermal.boundaries.electrolyte|positive"
    assert info.value.reason == "'electrolyte|positive' is an interior facet group (an interface), not a boundary"
    assert not out.exists()


def test_reversible_heat_changes_sign_with_dU_dT():
    """A test law dU/dT = 1e-4 (x - 0.56) V/K: the reversible heat j T dU/dT flips sign where the
    surface stoichiometry crosses 0.56, and equals -I T dU/dT(x_surface) in 1D."""
    ENTROPIC_COEFFICIENTS["test_linear"] = lambda x, m=None: 1e-4 * (x - 0.56)
    try:
        raw = thin_film(
            cell={"positive": {**LICOO2_THERMAL, "entropic_coefficient": "test_linear"}},
            thermal={"model": "lumped", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}},
            experiment={"steps": ["Discharge at 1C until 3.8 V"]},
        )
        s = simulate(raw).series
    finally:
        del ENTROPIC_COEFFICIENTS["test_linear"]
    running = s["time_s"] > 0
    expected = -s["current_A_m2"] * s["temperature_mean_K"] * 1e-4 * (s["surface_stoichiometry"] - 0.56)
    assert np.allclose(s["heat_reversible_W_m2"][running], expected[running], rtol=1e-9, atol=1e-15)
    signs = np.sign(s["heat_reversible_W_m2"][running])
    assert signs.min() < 0 < signs.max()


def test_warmer_cell_delivers_more_at_4C_by_arrhenius():
    """Isothermal cells at 298 and 328 K: more capacity when warmer, and the electrolyte's ohmic
    loss follows sigma(T) = sigma_ref exp(-Ea/R (1/T - 1/T_ref)) evaluated directly."""
    capacities = {}
    for temperature in (298.15, 328.15):
        s = simulate(
            thin_film(cell={"temperature_K": temperature}, experiment={"steps": ["Discharge at 4C until 3.0 V"]})
        ).series
        capacities[temperature] = s["capacity_mAh_cm2"][-1]
        ea = 0.51 * 96485.33212  # LiPON, library
        sigma = 1.10896e-4 * math.exp(-ea / GAS_CONSTANT * (1 / temperature - 1 / 298.15))
        expected = -s["current_A_m2"] * 3.62e-6 / sigma
        assert np.allclose(s["loss_ohmic_electrolyte_V"], expected, rtol=1e-6, atol=1e-12)
    assert capacities[328.15] > capacities[298.15]


COMPARED_AT = [5.0 * k for k in range(1, 100)]  # s; this 4C discharge lasts about 130 s


def test_lagged_coupling_matches_monolithic():
    """The lagged (extrapolated-temperature) coupling against the monolithic one on a 4C
    discharge heating a poorly cooled film by about 10 K: the splitting error is small (compared
    every 5 s, where both runs end a step, at tolerances of 1e-5 V and 5e-6)."""
    series = {}
    for coupling in ("monolithic", "lagged"):
        raw = thin_film(
            cell={"positive": LICOO2_THERMAL},
            thermal={
                "model": "lumped",
                "coupling": coupling,
                "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 0.05}},
            },
            experiment={"steps": ["Discharge at 4C until 3.0 V"]},
            solver={"voltage_tolerance_V": 1e-5, "stoichiometry_tolerance": 5e-6},
            output={"field_times_s": COMPARED_AT},
        )
        series[coupling] = simulate(raw).series
    a, b = series["monolithic"], series["lagged"]
    assert a["temperature_mean_K"][-1] - 298.15 > 5.0
    rows = [[int(np.argmin(np.abs(s["time_s"] - x))) for x in COMPARED_AT if x < s["time_s"][-1]] for s in (a, b)]
    assert len(rows[0]) == len(rows[1]) > 20
    assert np.allclose(a["time_s"][rows[0]], b["time_s"][rows[1]], rtol=1e-12)
    assert np.abs(a["voltage_V"][rows[0]] - b["voltage_V"][rows[1]]).max() < 2e-5
    assert np.abs(a["temperature_mean_K"][rows[0]] - b["temperature_mean_K"][rows[1]]).max() < 2e-3
    assert b["capacity_mAh_cm2"][-1] == pytest.approx(a["capacity_mAh_cm2"][-1], rel=1e-4)


def test_temperature_limit_ends_a_step():
    raw = thin_film(
        cell={"positive": LICOO2_THERMAL},
        thermal={"model": "lumped", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 0.05}}},
        experiment={"steps": ["Discharge at 4C until 3.0 V or 303.15 K"]},
    )
    result = simulate(raw)
    assert result.steps[0]["end_reason"] == "temperature limit"
    assert result.series["temperature_max_K"][-1] == pytest.approx(303.15, abs=1e-3)


def test_stack_conducts_like_its_series_formula():
    """At rest, T fixed on the negative face and a flux q into the positive face: the steady
    temperature difference across the stack is q L / k_eff with k_eff from the series formula."""
    from ssbfem.physics.heat import effective_conductivities

    flux = 1.0e4
    raw = thin_film(
        cell={
            "negative_current_collector": {"material": "Cu", "thickness_um": 2.0},
            "negative": {"thickness_um": 3.0},
            "electrolyte": ELECTROLYTE_THERMAL,
            "positive": LICOO2_THERMAL,
            "positive_current_collector": {"material": "Pt", "thickness_um": 1.0},
        },
        thermal={
            "model": "full",
            "boundaries": {
                "negative_terminal": {"type": "fixed", "temperature_K": 298.15},
                "positive_terminal": {"type": "flux", "flux_W_m2": flux},
            },
        },
        experiment={"steps": ["Rest for 1 s"]},
    )
    rise = simulate(raw).series["temperature_max_K"][-1] - 298.15
    layers = [(2.0, 401.0), (3.0, 81.8), (3.62, 1.4), (8.08, 8.4), (1.0, 71.6)]  # um, W/(m K): library values
    across, _ = effective_conductivities([L for L, _ in layers], [k for _, k in layers], [k for _, k in layers])
    assert rise == pytest.approx(flux * sum(L for L, _ in layers) * 1e-6 / across, rel=1e-6)


def test_volumetric_heat_is_the_heat_over_the_stack_volume():
    raw = thin_film(
        cell={"positive": LICOO2_THERMAL},
        thermal={"model": "lumped", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}},
        experiment={"steps": ["Discharge at 2C for 60 s"]},
    )
    s = simulate(raw).series
    thickness = (3.62 + 8.08) * 1e-6  # the meshed stack: electrolyte and positive electrode
    for name in ("joule", "reaction", "reversible"):
        assert np.allclose(s[f"heat_{name}_W_m3"], s[f"heat_{name}_W_m2"] / thickness, rtol=1e-12)
        # the whole cell's watts: per footprint times the cell's area (cell.area_cm2)
        assert np.allclose(s[f"heat_{name}_W"], s[f"heat_{name}_W_m2"] * 3.36e-4, rtol=1e-12)


def test_heat_columns_mean_the_same_in_1d_2d_and_3d():
    """The same thin film meshed in 1D, in 2D and as a 3D box (laterally uniform, the same
    elements through the thickness): the same heat per m2 of footprint and the same whole-cell
    watts, whatever cross-section the mesh holds, to the solver's tolerance (no discretisation
    error between them: the lateral direction carries no gradient)."""
    rows = []
    for dimension in (1, 2, 3):
        raw = thin_film(
            cell={"dimension": dimension, "positive": LICOO2_THERMAL},
            mesh={"in_plane_elements": 2},
            thermal={"model": "lumped", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}},
            experiment={"steps": ["Discharge at 2C for 60 s"]},
        )
        rows.append(simulate(raw).series.rows[-1])
    for name in ("joule", "reaction", "reversible", "removed"):
        for unit in ("W_m2", "W"):
            column = f"heat_{name}_{unit}"
            for other in rows[1:]:
                assert other[column] == pytest.approx(rows[0][column], rel=1e-6, abs=1e-12), column
    assert rows[0]["heat_generated_J"] == pytest.approx(rows[0]["heat_generated_J_m2"] * 3.36e-4, rel=1e-12)
    for row in rows:  # the whole cell's current, capacity and energy: per footprint times 3.36 cm2
        assert row["current_A"] == pytest.approx(row["current_A_m2"] * 3.36e-4, rel=1e-12)
        assert row["capacity_mAh"] == pytest.approx(row["capacity_mAh_cm2"] * 3.36, rel=1e-12)
        assert row["energy_mWh"] == pytest.approx(row["energy_mWh_cm2"] * 3.36, rel=1e-12)
        assert row["capacity_mAh"] == pytest.approx(rows[0]["capacity_mAh"], rel=1e-6)
    assert rows[0]["heat_generated_J_m2"] > 0.0
