"""The resolved space-charge layer (1D Poisson-Nernst-Planck) against case H and the lumped
Gouy-Chapman-Stern drop, and the seed form of Frumkin kinetics (case I)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import ufl
from mpi4py import MPI
from test_verification_cells import symmetric_cell

from ssbfem._dolfinx import dolfinx
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.errors import InputError
from ssbfem.model import interface_current
from ssbfem.physics.kinetics import diffuse_layer_drop, frumkin_kinetics, frumkin_seed_kinetics
from ssbfem.physics.space_charge import space_charge_density
from ssbfem.settings import validate
from ssbfem.space_charge_1d import FaradaicReaction, SpaceChargeLayer, tabulate_phi2

T = 298.15
THERMAL = GAS_CONSTANT * T / FARADAY
EPS_R, C0 = 50.0, 1000.0  # case H
CASE_H = {-4: 0.32995, -1: 0.039706, 1: 0.028416, 4: 0.081394}  # |q|, C/m2
# a cation conductivity sigma = F^2 D c0/(R T) of 1e-4 S/m (a garnet at room temperature)
DIFFUSIVITY = 1e-4 * GAS_CONSTANT * T / (FARADAY**2 * C0)


class Scalar:
    """A UFL expression of one Constant, evaluated at given values (on a one-cell mesh)."""

    def __init__(self, expression_of):
        msh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 1)
        self.x = dolfinx.fem.Constant(msh, 0.0)
        self.form = dolfinx.fem.form(expression_of(self.x) * ufl.dx(domain=msh))

    def __call__(self, value: float) -> float:
        self.x.value = value
        return float(dolfinx.fem.assemble_scalar(self.form))


def lumped_phi2(stern_capacitance: float, zero_charge_overpotential: float = 0.0) -> Scalar:
    return Scalar(lambda eta: diffuse_layer_drop(eta, stern_capacitance, C0, EPS_R, T, zero_charge_overpotential))


def test_equilibrium_space_charge_case_H():
    """The potential imposed at the interface: the space charge F int (c - c0) dx is case H's
    |q| = eps E_s within 0.1 %, positive (cations accumulated) below the bulk potential."""
    layer = SpaceChargeLayer(EPS_R, C0, T)
    for psi, q in CASE_H.items():
        state = layer.solve(psi * THERMAL)
        assert state.charge_C_m2 == pytest.approx(-math.copysign(q, psi), rel=1e-3)
        assert state.phi2_V == pytest.approx(psi * THERMAL, rel=1e-12)
        assert state.current_A_m2 == 0.0


def test_equilibrium_space_charge_converges_at_fourth_order():
    """P2 on a graded mesh of 30, 60, 120 cells: the charge's error against the closed form of
    case H falls at the rate 2p = 4 of a functional of the solution (observed 3.9-4.1)."""
    for psi in (-4.0, 4.0):
        exact = -math.copysign(space_charge_density(psi, EPS_R, C0, T), psi)
        errors = [
            abs(SpaceChargeLayer(EPS_R, C0, T, cells=cells).solve(psi * THERMAL).charge_C_m2 - exact)
            for cells in (30, 60, 120)
        ]
        orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
        assert np.all(orders > 3.5), orders
        assert errors[-1] / abs(exact) < 1e-6


def test_equilibrium_concentration_is_boltzmann():
    """Zero flux everywhere: c = c0 exp(-F phi/(R T)) at every node (1e-5 relative), and c -> c0,
    phi -> 0 into the bulk."""
    layer = SpaceChargeLayer(EPS_R, C0, T)
    for psi in (-4.0, -1.0, 1.0, 4.0):
        state = layer.solve(psi * THERMAL)
        boltzmann = C0 * np.exp(-state.phi_V / THERMAL)
        assert np.max(np.abs(state.c_mol_m3 / boltzmann - 1)) < 1e-5
        far = state.x_m > 20 * layer.debye_m
        assert np.max(np.abs(state.phi_V[far])) < 1e-6 * THERMAL


@pytest.mark.parametrize("stern_capacitance", [0.05, 0.2, 1.0])
def test_resolved_phi2_equals_the_gouy_chapman_stern_drop(stern_capacitance):
    """With the Stern layer's Robin condition, phi2 = phi(0) of the resolved layer is the lumped
    law's diffuse_layer_drop to 1e-4 relative (observed 1e-8) from -0.5 V to 0.5 V."""
    drops = np.array([-0.5, -0.2, -0.05, -0.005, 0.005, 0.05, 0.2, 0.5])
    resolved = tabulate_phi2(drops, EPS_R, C0, T, stern_capacitance)
    lumped = np.array([lumped_phi2(stern_capacitance)(d) for d in drops])
    np.testing.assert_allclose(resolved, lumped, rtol=1e-4)
    assert np.all((resolved / drops > 0) & (resolved / drops < 1))


def test_stern_layer_charge_balances_the_space_charge():
    """Gauss's law over the layer: the electrode's charge C_S (drop - phi2) equals minus the space
    charge (1e-8 relative); the sign of the Robin condition puts a positive electrode over a
    cation-depleted, negatively charged layer."""
    layer = SpaceChargeLayer(EPS_R, C0, T, stern_capacitance_F_m2=0.2)
    for drop in (-0.3, -0.02, 0.02, 0.3):
        state = layer.solve(drop)
        electrode = 0.2 * (state.drop_V - state.phi2_V)
        assert electrode == pytest.approx(-state.charge_C_m2, rel=1e-8)
        assert math.copysign(1.0, state.charge_C_m2) == -math.copysign(1.0, drop)


SEED = {"k_ox_A_m2": 2.0, "k_red_A_m2": 9.0, "stern_capacitance_F_m2": 0.2, "concentration_mol_m3": C0}


def seed_law(alpha: float, **parameters) -> Scalar:
    p = {**SEED, "relative_permittivity": EPS_R, **parameters}
    return Scalar(lambda eta: frumkin_seed_kinetics(0.0, eta, alpha, 1 - alpha, T, **p))


@pytest.mark.parametrize("k_ox,k_red", [(2.0, 9.0), (5.0, 0.1)])
def test_frumkin_seed_zero_current_at_equilibrium_case_I(k_ox, k_red):
    """eta = 0 is the equilibrium the rates define (drop (R T/F) ln(k_red/k_ox)): zero current for
    every transfer coefficient, while away from it the current follows the sign of eta."""
    for alpha in (0.3, 0.5, 0.7):
        law = seed_law(alpha, k_ox_A_m2=k_ox, k_red_A_m2=k_red)
        assert abs(law(0.0)) < 1e-12 * max(k_ox, k_red)
        assert law(0.02) > 0 > law(-0.02)


def test_frumkin_seed_equals_the_diffuse_layer_form():
    """c+/c+0 = exp(-f phi2) makes the seed form Frumkin-Butler-Volmer with i0 = k_ox^alpha_c
    k_red^alpha_a and eta_pzc = (R T/F) ln(k_ox/k_red): equal to 1e-10 relative over +-0.3 V."""
    for alpha in (0.3, 0.5):
        seed = seed_law(alpha)
        i0 = SEED["k_ox_A_m2"] ** (1 - alpha) * SEED["k_red_A_m2"] ** alpha
        pzc = THERMAL * math.log(SEED["k_ox_A_m2"] / SEED["k_red_A_m2"])
        diffuse = Scalar(lambda eta: frumkin_kinetics(i0, eta, alpha, 1 - alpha, T, 0.2, C0, EPS_R, pzc))  # noqa: B023
        for eta in (-0.3, -0.05, -1e-3, 1e-3, 0.05, 0.3):
            assert seed(eta) == pytest.approx(diffuse(eta), rel=1e-10)


def test_frumkin_seed_through_the_config_and_interface_current():
    """ "frumkin-seed" as a cell's interface law: the resolved config's section through
    model.interface_current gives the diffuse-layer form with the matching i0 and eta_pzc (1e-10),
    ignoring the config's exchange current; a missing or non-positive rate names its config key."""
    raw = symmetric_cell(1.0)
    parameters = {**SEED, "relative_permittivity": EPS_R}
    raw["cell"]["negative"].update(kinetics="frumkin-seed", kinetics_parameters=parameters)
    section = validate(raw).cell.negative
    assert section.exchange_current_A_m2 == 10.0
    cell_law = Scalar(lambda eta: interface_current("negative", section, 10.0, eta, 0.5, 0.5, T))
    i0 = math.sqrt(SEED["k_ox_A_m2"] * SEED["k_red_A_m2"])
    pzc = THERMAL * math.log(SEED["k_ox_A_m2"] / SEED["k_red_A_m2"])
    diffuse = Scalar(lambda eta: frumkin_kinetics(i0, eta, 0.5, 0.5, T, 0.2, C0, EPS_R, pzc))
    for eta in (-0.1, 0.0, 0.02):
        assert cell_law(eta) == pytest.approx(diffuse(eta), rel=1e-10, abs=1e-12)
    section.kinetics_parameters["k_red_A_m2"] = 0.0
    with pytest.raises(InputError, match=r"cell\.negative\.kinetics_parameters: frumkin-seed: .* positive"):
        interface_current("negative", section, 10.0, ufl.as_ufl(0.0), 0.5, 0.5, T)
    del section.kinetics_parameters["k_red_A_m2"]
    with pytest.raises(InputError, match=r"cell\.negative\.kinetics_parameters: frumkin-seed: .*k_red_A_m2"):
        interface_current("negative", section, 10.0, ufl.as_ufl(0.0), 0.5, 0.5, T)


def faradaic_layer(k_ox: float = 1.0, k_red: float = 5.0) -> SpaceChargeLayer:
    reaction = FaradaicReaction(k_ox, k_red)
    return SpaceChargeLayer(EPS_R, C0, T, stern_capacitance_F_m2=0.2, diffusivity_m2_s=DIFFUSIVITY, reaction=reaction)


def test_resolved_frumkin_zero_current_is_self_consistent():
    """The seed-form reaction at the plane of the resolved layer, the electrode at the drop
    (R T/F) ln(k_red/k_ox): the steady state carries no current (below 1e-8 of the rates), and
    its phi2 is the lumped law's at eta = 0 (1e-6 relative)."""
    layer = faradaic_layer()
    state = layer.solve(THERMAL * math.log(5.0))
    assert abs(state.current_A_m2) < 1e-8
    assert state.phi2_V == pytest.approx(lumped_phi2(0.2, THERMAL * math.log(1 / 5))(0.0), rel=1e-6)
    assert state.c_mol_m3[0] == pytest.approx(C0 * math.exp(-state.phi2_V / THERMAL), rel=1e-6)


def test_resolved_frumkin_steady_current_matches_the_lumped_law():
    """Under a steady current the layer's double-layer drop (drop minus the ohmic drop of its bulk)
    gives the lumped frumkin-seed law's current to 1e-3 relative: the current perturbs the double
    layer only at the order n = j lambda_D/(F D c0), here below 1e-3."""
    layer = faradaic_layer()
    law = seed_law(0.5, k_ox_A_m2=1.0, k_red_A_m2=5.0)
    equilibrium = THERMAL * math.log(5.0)
    for eta in (-0.05, -0.01, 0.01, 0.05):
        state = layer.solve(equilibrium + eta)
        n = abs(state.current_A_m2) * layer.debye_m / (FARADAY * DIFFUSIVITY * C0)
        assert n < 1e-3
        lumped = law(state.drop_V - state.bulk_drop_V - equilibrium)
        assert state.current_A_m2 == pytest.approx(lumped, rel=1e-3)
        assert state.bulk_drop_V == pytest.approx(
            state.current_A_m2 * 40 * layer.debye_m / 1e-4, rel=1e-12
        )  # j L/sigma


def test_transient_charging_is_first_order_in_time_and_an_rc_circuit():
    """A 1 mV step on a blocking Stern layer 80 Debye lengths from the bulk: backward Euler
    converges at first order in dt (observed 1.0), and the electrode charge follows the RC
    circuit of the bulk's resistance L/sigma and the series Stern and Debye capacitances,
    1 - exp(-t/tau), within 2 % at t = tau and 2 tau (thin double layers; corrections of order
    lambda_D/L, Bazant, Thornton and Ajdari, Phys. Rev. E 70 (2004) 021506)."""
    length = 80.0
    layer = SpaceChargeLayer(EPS_R, C0, T, 0.2, diffusivity_m2_s=DIFFUSIVITY, length_debye=length)
    final = layer.solve(1e-3)
    q_final = 0.2 * (final.drop_V - final.phi2_V)
    s = float(layer.stern_ratio.value)
    tau = length * s / (1 + s) * layer.debye_m**2 / DIFFUSIVITY
    at_tau, at_2tau = [], []
    for steps in (50, 100, 200):
        layer.solve(0.0)
        charges = []
        for _ in range(steps):
            state = layer.advance(1e-3, 2 * tau / steps)
            charges.append(0.2 * (state.drop_V - state.phi2_V) / q_final)
        at_tau.append(charges[steps // 2 - 1])
        at_2tau.append(charges[-1])
    differences = np.abs(np.diff(at_tau))
    assert math.log2(differences[0] / differences[1]) == pytest.approx(1.0, abs=0.1)
    assert at_tau[-1] == pytest.approx(1 - math.exp(-1), rel=0.02)
    assert at_2tau[-1] == pytest.approx(1 - math.exp(-2), rel=0.02)
    for _ in range(40):  # long after: the equilibrium
        state = layer.advance(1e-3, tau)
    assert state.charge_C_m2 == pytest.approx(final.charge_C_m2, rel=1e-6)


def test_faradaic_transient_settles_on_the_steady_current():
    """A 20 mV step from equilibrium with the reaction on: backward-Euler steps of growing length
    reach the steady state's current and phi2 (1e-8 relative), the current rising monotonically
    as the double layer charges."""
    layer = faradaic_layer()
    equilibrium = THERMAL * math.log(5.0)
    steady = layer.solve(equilibrium + 0.02)
    layer.solve(equilibrium)
    currents, dt = [], 1e-8
    while dt < 10.0:
        state = layer.advance(equilibrium + 0.02, dt)
        currents.append(state.current_A_m2)
        dt *= 2
    assert state.current_A_m2 == pytest.approx(steady.current_A_m2, rel=1e-8)
    assert state.phi2_V == pytest.approx(steady.phi2_V, rel=1e-8)
    assert np.all(np.diff(currents) > -1e-12 * steady.current_A_m2)
