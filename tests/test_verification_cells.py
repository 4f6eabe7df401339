"""Whole-cell runs against known answers (shared/reference/verification.md, cases F, A and K)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import simulate, thin_film

from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.simulation import lithium_charge_balance

# Case F: symmetric Li | electrolyte | Li cell, L = 500 um, sigma = 0.5 mS/cm, i0 = 1 mA/cm2.
CASE_F = {0.1: 15.136, 0.5: 75.432, 1.0: 149.454, 2.0: 290.579, 5.0: 669.286}  # mA/cm2 -> mV


def symmetric_cell(current_mA_cm2: float) -> dict:
    """Li | SE | Li: the positive electrode is given Li metal's laws (U = 0, constant i0)."""
    return thin_film(
        cell={
            "electrolyte": {"thickness_um": 500.0, "conductivity_S_m": 0.05},
            "negative": {"exchange_current_A_m2": 10.0, "transfer_coefficient": 0.5},
            "positive": {
                "thickness_um": 10.0,
                "ocp": "Li",
                "exchange_current_law": "constant",
                "exchange_current_A_m2": 10.0,
                "max_concentration_mol_m3": 7.64e4,
                "initial_stoichiometry": 0.5,
                "diffusivity_m2_s": 1e-9,
            },
        },
        experiment={"steps": [f"Discharge at {current_mA_cm2} mA/cm2 for 1 s"]},
        mesh={"positive_elements": 4},
    )


@pytest.mark.parametrize("current", sorted(CASE_F))
def test_symmetric_cell_case_F(current):
    result = simulate(symmetric_cell(current))
    # The cell voltage is phi(positive) - phi(negative): negative on discharge of a symmetric cell.
    voltage_mV = -result.series.rows[-1]["voltage_V"] * 1e3
    assert voltage_mV == pytest.approx(CASE_F[current], abs=0.1)
    # The same from the formula, to the table's printed digits.
    i, i0 = current * 10.0, 10.0
    formula = i * 500e-6 / 0.05 + 2 * (2 * GAS_CONSTANT * 298.15 / FARADAY) * math.asinh(i / (2 * i0))
    assert voltage_mV == pytest.approx(formula * 1e3, abs=1e-3)


def test_charge_conservation_case_K():
    """Charge passed = F x Li inserted over a discharge, a rest and a partial charge."""
    raw = thin_film(
        experiment={
            "steps": [
                "Discharge at 1C until 3.5 V",
                "Rest for 10 minutes",
                "Charge at 0.5C for 20 minutes",
            ]
        }
    )
    rows = simulate(raw).series.rows
    charge, inserted = lithium_charge_balance(rows)
    assert charge > 0.0
    assert abs(charge - inserted) <= 1e-8 * abs(charge)


def test_cutoff_hit_within_tolerance(reference_discharge):
    """The cut-off is located, not overshot: last voltage within 1 mV of 3.0 V and never below."""
    v = reference_discharge.series.column("voltage_V")
    assert abs(v[-1] - 3.0) <= 1e-3
    assert v.min() >= 3.0 - 1e-3


def test_same_curve_in_1d_2d_3d(reference_discharge):
    t_ref = reference_discharge.series.column("time_s")
    v_ref = reference_discharge.series.column("voltage_V")
    for dim in (2, 3):
        result = simulate(thin_film(cell={"dimension": dim}, mesh={"in_plane_elements": 1}))
        v = np.interp(t_ref, result.series.column("time_s"), result.series.column("voltage_V"))
        assert np.abs(v - v_ref).max() <= 0.5e-3, dim
        q_end = result.series.rows[-1]["capacity_mAh_cm2"]
        assert q_end == pytest.approx(reference_discharge.series.rows[-1]["capacity_mAh_cm2"], rel=1e-4)
