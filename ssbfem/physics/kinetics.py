"""Interface charge-transfer kinetics: Butler-Volmer with a stoichiometry-dependent i0."""

from __future__ import annotations

import ufl

from ssbfem.constants import FARADAY, GAS_CONSTANT


def butler_volmer(exchange_current, eta, alpha_anodic, alpha_cathodic, temperature):
    """Butler-Volmer current density, anodic positive (A/m2).

    j = i0 [exp(alpha_a F eta/(R T)) - exp(-alpha_c F eta/(R T))], eta = phi_s - phi_e - U (V).
    """
    f = FARADAY / (GAS_CONSTANT * temperature)
    return exchange_current * (ufl.exp(alpha_anodic * f * eta) - ufl.exp(-alpha_cathodic * f * eta))


def insertion_exchange_current(i0_half, theta, alpha_anodic, alpha_cathodic, floor: float = 1e-9):
    """Exchange current density of an insertion electrode (A/m2).

    i0(x) = i0_half ((1 - x)/0.5)^alpha_a (x/0.5)^alpha_c, equal to i0_half at x = 0.5. The
    stoichiometry is kept inside [floor, 1 - floor] so that Newton iterates that overshoot do not
    produce NaN.
    """
    x = ufl.min_value(ufl.max_value(theta, floor), 1.0 - floor)
    return i0_half * ((1.0 - x) / 0.5) ** alpha_anodic * (x / 0.5) ** alpha_cathodic


def constant_exchange_current(i0, theta, alpha_anodic, alpha_cathodic):
    """Exchange current density independent of stoichiometry (A/m2)."""
    return i0 + 0.0 * theta


#: Exchange-current laws by config name: f(i0_ref, theta_surface, alpha_a, alpha_c) -> i0.
#: Register a new law by adding a function of this signature (UFL in, UFL out).
EXCHANGE_CURRENT_LAWS = {
    "insertion": insertion_exchange_current,
    "constant": constant_exchange_current,
}


def linear_kinetics(exchange_current, eta, alpha_anodic, alpha_cathodic, temperature):
    """Butler-Volmer linearised at equilibrium: j = i0 (alpha_a + alpha_c) F eta/(R T), A/m2."""
    return exchange_current * (alpha_anodic + alpha_cathodic) * FARADAY * eta / (GAS_CONSTANT * temperature)


def tafel_kinetics(exchange_current, eta, alpha_anodic, alpha_cathodic, temperature):
    """High-overpotential limit of Butler-Volmer: only the branch in the direction of eta, A/m2."""
    f = FARADAY / (GAS_CONSTANT * temperature)
    return ufl.conditional(
        ufl.ge(eta, 0.0),
        exchange_current * ufl.exp(alpha_anodic * f * eta),
        -exchange_current * ufl.exp(-alpha_cathodic * f * eta),
    )


def frumkin_butler_volmer(exchange_current, eta, diffuse_layer_drop, alpha_anodic, alpha_cathodic, temperature):
    """Frumkin-corrected Butler-Volmer (verification case I), anodic positive, A/m2.

    j = i0 [exp(alpha_a f (eta - phi2)) - exp(-f phi2) exp(-alpha_c f (eta - phi2))], f = F/(R T),
    phi2 the potential drop across the diffuse layer (reaction plane minus bulk electrolyte, V).
    With alpha_a + alpha_c = 1 the current vanishes at eta = 0 for any phi2; near equilibrium it
    behaves as Butler-Volmer with the apparent exchange current i0 exp(-alpha_a f phi2).
    """
    f = FARADAY / (GAS_CONSTANT * temperature)
    shifted = eta - diffuse_layer_drop
    return exchange_current * (
        ufl.exp(alpha_anodic * f * shifted) - ufl.exp(-f * diffuse_layer_drop) * ufl.exp(-alpha_cathodic * f * shifted)
    )


#: Interface kinetics laws by config name: f(i0, eta, alpha_a, alpha_c, T) -> j (A/m2, anodic
#: positive). Register a new law by adding a function of this signature written in UFL.
KINETICS_LAWS = {
    "butler-volmer": butler_volmer,
    "linear": linear_kinetics,
    "tafel": tafel_kinetics,
}
