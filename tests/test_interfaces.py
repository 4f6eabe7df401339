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


def symmetric_voltage(raw: dict) -> float:
    return -simulate(raw).series.rows[-1]["voltage_V"]


def case_F(current_A_m2: float, i0: float) -> float:
    """Case F: I L/sigma + 2 (2 R T/F) asinh(I/(2 i0)) for the symmetric cell of symmetric_cell()."""
    return current_A_m2 * 500e-6 / 0.05 + 2 * 2 * THERMAL * math.asinh(current_A_m2 / (2 * i0))


def test_contact_factor_and_film_resistance_in_a_symmetric_cell():
    """gamma_c scales i0; a film of R_f on each interface adds 2 I R_f: case F closed forms to 1e-7 V."""
    raw = symmetric_cell(1.0)
    for s in ("negative", "positive"):
        raw["cell"][s]["contact_factor"] = 0.25
    assert symmetric_voltage(raw) == pytest.approx(case_F(10.0, 2.5), abs=1e-7)
    raw = symmetric_cell(2.0)
    for s in ("negative", "positive"):
        raw["cell"][s]["film_resistance_ohm_cm2"] = 3.0  # 3e-4 ohm m2
    assert symmetric_voltage(raw) == pytest.approx(case_F(20.0, 10.0) + 2 * 20.0 * 3e-4, abs=1e-7)


def test_frumkin_in_a_cell_reduces_to_butler_volmer_with_a_thick_stern_layer():
    """C_S -> 0: the Stern layer takes the whole drop, phi2 -> 0 (here |phi2| < 1e-6 V)."""
    raw = symmetric_cell(1.0)
    parameters = {"stern_capacitance_F_m2": 1e-8, "concentration_mol_m3": 1000.0, "relative_permittivity": 50.0}
    for s in ("negative", "positive"):
        raw["cell"][s]["kinetics"] = "frumkin"
        raw["cell"][s]["kinetics_parameters"] = parameters
    assert symmetric_voltage(raw) == pytest.approx(case_F(10.0, 10.0), abs=1e-6)


def test_frumkin_diffuse_layer_drop_solves_the_gouy_chapman_stern_balance():
    """phi2 from the unrolled Newton steps: C_S (eta - phi2) equals the Poisson-Boltzmann charge
    of case H to 1e-10 relative, on both sides of the point of zero charge."""
    from mpi4py import MPI

    from ssbfem._dolfinx import dolfinx
    from ssbfem.physics.kinetics import diffuse_layer_drop

    msh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 1)
    eta = dolfinx.fem.Constant(msh, 0.0)
    form = dolfinx.fem.form(diffuse_layer_drop(eta, 0.2, 1000.0, 50.0, T) * ufl.dx(domain=msh))
    for value in (-0.3, -0.05, -1e-4, 1e-4, 0.05, 0.3):
        eta.value = value
        phi2 = dolfinx.fem.assemble_scalar(form)
        stern = 0.2 * (value - phi2)
        diffuse = math.copysign(space_charge_density(phi2 / THERMAL, 50.0, 1000.0, T), phi2)
        assert stern == pytest.approx(diffuse, rel=1e-10)
        assert 0 < phi2 / value < 1


def test_marcus_hush_chidsey_is_butler_volmer_near_equilibrium():
    raw = symmetric_cell(0.01)
    for s in ("negative", "positive"):
        raw["cell"][s]["kinetics"] = "mhc"
        raw["cell"][s]["kinetics_parameters"] = {"reorganization_energy_eV": 0.3}
    # linear response: 2 R T/(F i0) per interface, as Butler-Volmer's
    assert symmetric_voltage(raw) == pytest.approx(case_F(0.1, 10.0), rel=1e-3)
