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
