"""Interface laws against verification cases H and I, and the selectable kinetics in a cell."""

from __future__ import annotations

import math

import numpy as np
import pytest
import ufl
from conftest import simulate
from test_verification_cells import symmetric_cell

from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.physics.kinetics import butler_volmer, frumkin_butler_volmer
from ssbfem.physics.space_charge import debye_length, space_charge_density

T = 298.15
THERMAL = GAS_CONSTANT * T / FARADAY


def evaluate(expression) -> float:
    """A UFL expression of numbers, as a float."""
    return float(expression)


@pytest.mark.parametrize("phi2", [-2 * THERMAL, -THERMAL, 0.0, 0.5 * THERMAL, 3 * THERMAL])
def test_frumkin_zero_current_at_equilibrium_case_I(phi2):
    for alpha in (0.3, 0.5, 0.7):
        j = evaluate(frumkin_butler_volmer(2.0, ufl.as_ufl(0.0), phi2, alpha, 1 - alpha, T))
        assert abs(j) < 1e-12


def test_frumkin_apparent_exchange_current_case_I():
    """alpha_a = 0.5, phi2 = -RT/F: near equilibrium the current is Butler-Volmer's times exp(0.5)."""
    eta = 1e-7
    frumkin = evaluate(frumkin_butler_volmer(1.0, ufl.as_ufl(eta), -THERMAL, 0.5, 0.5, T))
    plain = evaluate(butler_volmer(1.0, ufl.as_ufl(eta), 0.5, 0.5, T))
    assert frumkin / plain == pytest.approx(math.exp(0.5), rel=1e-6)
    assert math.exp(0.5) == pytest.approx(1.6487, abs=1e-4)


def test_poisson_boltzmann_charge_case_H():
    assert debye_length(50, 1000.0, T) == pytest.approx(0.3433e-9, rel=1e-3)
    for psi, q in {-4: 0.32995, -1: 0.039706, 1: 0.028416, 4: 0.081394}.items():
        assert space_charge_density(psi, 50, 1000.0, T) == pytest.approx(q, rel=1e-3)


@pytest.mark.parametrize(
    "law,current,expected",
    [
        # V = I L/sigma + 2 (R T/F) I/i0 (case F, linearised)
        ("linear", 0.5, 5.0 * 500e-6 / 0.05 + 2 * THERMAL * 5.0 / 10.0),
        # V = I L/sigma + 2 (2 R T/F) ln(I/i0) (one Tafel branch per interface)
        ("tafel", 5.0, 50.0 * 500e-6 / 0.05 + 2 * 2 * THERMAL * np.log(50.0 / 10.0)),
    ],
)
def test_selectable_kinetics_in_a_symmetric_cell(law, current, expected):
    raw = symmetric_cell(current)
    raw["cell"]["negative"]["kinetics"] = law
    raw["cell"]["positive"]["kinetics"] = law
    voltage = -simulate(raw).series.rows[-1]["voltage_V"]
    assert voltage == pytest.approx(expected, abs=1e-7)
