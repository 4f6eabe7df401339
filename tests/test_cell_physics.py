"""Cell-level physics beyond the verification table: temperature, leakage, control modes, user laws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import simulate, thin_film
from test_verification_cells import symmetric_cell

from ssbfem.config import resolve
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.runner import run
from ssbfem.simulation import lithium_charge_balance


def test_arrhenius_symmetric_cell():
    """At 333.15 K, conductivity and i0 follow their Arrhenius laws (case F evaluated there)."""
    T, T_ref, Ea_sigma, Ea_i0 = 333.15, 298.15, 40e3, 30e3
    raw = symmetric_cell(1.0)
    raw["cell"]["temperature_K"] = T
    raw["cell"]["electrolyte"]["conductivity_activation_energy_J_mol"] = Ea_sigma
    for side in ("negative", "positive"):
        raw["cell"][side]["exchange_current_activation_energy_J_mol"] = Ea_i0
    voltage = -simulate(raw).series.rows[-1]["voltage_V"]
    factor = lambda ea: math.exp(-ea / GAS_CONSTANT * (1 / T - 1 / T_ref))
    sigma, i0, i = 0.05 * factor(Ea_sigma), 10.0 * factor(Ea_i0), 10.0
    expected = i * 500e-6 / sigma + 2 * (2 * GAS_CONSTANT * T / FARADAY) * math.asinh(i / (2 * i0))
    assert voltage == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize("negative_thickness_um", [None, 2.0])
def test_electronic_leakage_self_discharge(negative_thickness_um):
    """At open circuit, electrons leak through the electrolyte at sigma_leak V / L and lithiate the positive."""
    sigma_leak, L = 1e-6, 3.62e-6
    cell = {"electrolyte": {"electronic_conductivity_S_m": sigma_leak}}
    if negative_thickness_um:
        cell["negative"] = {"thickness_um": negative_thickness_um}
    result = simulate(thin_film(cell=cell, experiment={"steps": ["Rest for 60 s"]}))
    rows = result.series.rows
    assert abs(rows[-1]["current_A_m2"]) < 1e-9  # nothing leaves through the terminals
    rate = FARADAY * (rows[-1]["lithium_mol_m2"] - rows[0]["lithium_mol_m2"]) / 60.0
    t, v = (np.array([r[k] for r in rows]) for k in ("time_s", "voltage_V"))
    mean_voltage = np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(t)) / t[-1]
    assert rate == pytest.approx(sigma_leak * mean_voltage / L, rel=2e-3)


def test_potentiostatic_hold_and_cccv_conserve_charge():
    rows = simulate(
        thin_film(experiment={"steps": ["Discharge at 1C until 3.8 V", "Hold at 3.8 V until C/5"]})
    ).series.rows
    hold = [r for r in rows if r["step"] == 1]
    assert max(abs(r["voltage_V"] - 3.8) for r in hold) < 1e-9
    assert hold[-1]["current_A_m2"] == pytest.approx(2.08333 / 5, rel=1e-3)
    assert hold[0]["current_A_m2"] > hold[-1]["current_A_m2"]
    charge, inserted = lithium_charge_balance(rows)
    assert abs(charge - inserted) <= 1e-8 * abs(charge)


def test_constant_power_step():
    rows = simulate(thin_film(experiment={"steps": ["Discharge at 0.5 mW for 5 minutes"]})).series.rows
    power = 0.5e-3 / 3.36e-4  # W/m2
    for r in rows[1:]:
        assert r["current_A_m2"] * r["voltage_V"] == pytest.approx(power, rel=1e-8)


def test_user_diffusivity_law_matches_constant():
    """D given as a UFL function of (theta, T) gives the same curve as the number it returns."""
    cfg = resolve(thin_film(experiment={"steps": ["Discharge at 2C until 3.5 V"]}))
    number = run(cfg, None).series
    cfg["cell"]["positive"]["diffusivity_m2_s"] = lambda theta, T: 5.387e-15 + 0.0 * theta
    law = run(cfg, None).series
    assert law.rows[-1]["capacity_mAh_cm2"] == pytest.approx(number.rows[-1]["capacity_mAh_cm2"], rel=1e-10)


def test_collectors_and_meshed_lithium_add_only_their_ohmic_drop(reference_discharge):
    """Pt and Cu collectors and a meshed Li layer: metals drop I L/sigma (< 1e-9 V) each, so the
    curve must match the stack without them."""
    raw = thin_film(
        cell={
            "negative_current_collector": {"material": "Cu", "thickness_um": 1.0},
            "negative": {"thickness_um": 3.0},
            "positive_current_collector": {"material": "Pt", "thickness_um": 0.5},
        }
    )
    result = simulate(raw)
    t_ref = reference_discharge.series.column("time_s")
    v = np.interp(t_ref, result.series.column("time_s"), result.series.column("voltage_V"))
    assert np.abs(v - reference_discharge.series.column("voltage_V")).max() < 1e-5


@pytest.mark.parametrize("units", [2, 3])
def test_stack_of_unit_cells_in_parallel(units):
    """Mirrored unit cells sharing collectors, joined through tabs: at N times the current each
    behaves as the single cell (same voltage), and the stack delivers N times its capacity."""
    base = {
        "negative_current_collector": {"material": "Cu", "thickness_um": 1.0},
        "negative": {"thickness_um": 2.0},
        "positive_current_collector": {"material": "Pt", "thickness_um": 0.5},
    }
    steps = {"steps": ["Discharge at 1C until 3.0 V"]}
    single = simulate(thin_film(cell=base, experiment=steps)).series
    stack = simulate(thin_film(cell={**base, "units": units}, experiment=steps)).series
    assert stack["current_A_m2"][-1] == pytest.approx(units * single["current_A_m2"][-1], rel=1e-9)
    v = np.interp(single["time_s"], stack["time_s"], stack["voltage_V"])
    assert np.abs(v - single["voltage_V"]).max() < 1e-6
    assert stack["capacity_mAh_cm2"][-1] == pytest.approx(units * single["capacity_mAh_cm2"][-1], rel=1e-6)


def test_iterative_preset_matches_direct():
    """GMRES with the field split (GAMG blocks) gives the direct solver's voltage, with heat too,
    Newton iterated to the residual tolerance with both; with the iterative preset's default
    (Newton stopped at a tenth of the local error tolerance) within the voltage tolerance."""
    raw = thin_film(
        cell={"dimension": 2, "positive": {"density_kg_m3": 5050.0, "heat_capacity_J_kg_K": 750.0}},
        mesh={"in_plane_elements": 2, "positive_grading": 20.0},  # milder aspect ratios: a faster GAMG
        thermal={"model": "full", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}},
        experiment={"steps": ["Discharge at 2C for 60 s"]},
    )
    direct = simulate(thin_film(**raw, solver={"linear_solver": "direct"}))
    iterative = simulate(thin_film(**raw, solver={"linear_solver": "iterative", "newton_fraction": 0.0}))
    for name in ("voltage_V", "temperature_max_K"):
        assert iterative.series.rows[-1][name] == pytest.approx(direct.series.rows[-1][name], abs=1e-7)
    default = simulate(thin_film(**raw, solver={"linear_solver": "iterative"}))
    assert default.series.rows[-1]["voltage_V"] == pytest.approx(direct.series.rows[-1]["voltage_V"], abs=1e-4)
