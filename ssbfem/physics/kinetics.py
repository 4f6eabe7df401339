"""Interface charge-transfer kinetics: Butler-Volmer and its relatives (linearised, Tafel,
Frumkin, Marcus-Hush-Chidsey), exchange-current laws, and an interphase film in series."""

from __future__ import annotations

import math

import ufl

from ssbfem.constants import EV_TO_J_MOL, FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY


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
    if alpha_anodic == 0.5 and alpha_cathodic == 0.5:  # one sqrt instead of two pow: cheaper kernels
        return i0_half * 2.0 * ufl.sqrt((1.0 - x) * x)
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


def diffuse_layer_drop(
    eta,
    stern_capacitance_F_m2: float,
    concentration_mol_m3: float,
    relative_permittivity: float,
    temperature,
    zero_charge_overpotential_V: float = 0.0,
    iterations: int = 10,
):
    """phi2, the potential drop across the diffuse layer (V), from the Gouy-Chapman-Stern model.

    The double layer's excess drop eta - eta_pzc splits into the Stern layer (a capacitor C_S)
    and the diffuse layer, whose charge is that of one mobile cation on a fixed background
    (verification case H): C_S (eta - eta_pzc - phi2) = sign(phi2) sqrt(2 eps R T c0 g(psi)),
    g(psi) = exp(-psi) - 1 + psi, psi = F phi2/(R T). In thermal units, with
    kappa = sqrt(2 eps R T c0) F/(R T C_S): psi + kappa G(psi) = F (eta - eta_pzc)/(R T),
    G = sign(psi) sqrt(g(psi)) increasing, so the root is unique. It is found by a fixed number of
    Newton steps from the linearised (Debye) solution, written out in UFL so that the Jacobian of
    the cell model differentiates through them.
    """
    f = FARADAY / (GAS_CONSTANT * temperature)
    eps = relative_permittivity * VACUUM_PERMITTIVITY
    kappa = ufl.sqrt(2 * eps * GAS_CONSTANT * temperature * concentration_mol_m3) * f / stern_capacitance_F_m2
    target = f * (eta - zero_charge_overpotential_V)

    def G(psi):
        # sign(psi) sqrt(g): for small |psi| from the series g/psi^2 = 1/2 - psi/6 + psi^2/24 - psi^3/120
        series = psi * ufl.sqrt(0.5 - psi / 6 + psi**2 / 24 - psi**3 / 120)
        safe = ufl.conditional(ufl.lt(abs(psi), 1e-3), 1.0, psi)
        exact = ufl.sign(safe) * ufl.sqrt(ufl.exp(-safe) - 1 + safe)
        return ufl.conditional(ufl.lt(abs(psi), 1e-3), series, exact)

    psi = target / (1 + kappa / math.sqrt(2.0))  # the root of the linearised equation
    for _ in range(iterations):
        x = ufl.variable(psi)  # evaluates to psi; diff(., x) differentiates with respect to it
        residual = x + kappa * G(x) - target
        psi = x - residual / ufl.diff(residual, x)
    return psi / f


def frumkin_kinetics(
    exchange_current,
    eta,
    alpha_anodic,
    alpha_cathodic,
    temperature,
    stern_capacitance_F_m2: float,
    concentration_mol_m3: float,
    relative_permittivity: float,
    zero_charge_overpotential_V: float = 0.0,
):
    """Frumkin-Butler-Volmer with phi2 from the Gouy-Chapman-Stern double layer, A/m2.

    Config: ``kinetics = "frumkin"`` with ``kinetics_parameters = {stern_capacitance_F_m2,
    concentration_mol_m3 (mobile cations), relative_permittivity, zero_charge_overpotential_V}``.
    A thick Stern layer (C_S -> 0) carries the whole drop: phi2 -> 0 and Butler-Volmer returns.
    """
    phi2 = diffuse_layer_drop(
        eta,
        stern_capacitance_F_m2,
        concentration_mol_m3,
        relative_permittivity,
        temperature,
        zero_charge_overpotential_V,
    )
    return frumkin_butler_volmer(exchange_current, eta, phi2, alpha_anodic, alpha_cathodic, temperature)


def frumkin_seed(k_ox, k_red, stern_drop, cation_ratio, alpha_ox, alpha_red, temperature):
    """The seed form of Frumkin kinetics (Pang et al. 2021 eqs. 13-14, verification case I), A/m2,
    anodic positive, for Li = Li+ + e- (n = 1):

    j = k_ox exp(alpha_ox f dphi) - k_red (c+/c+0) exp(-alpha_red f dphi), f = F/(R T),

    dphi (V) the drop across the Stern layer (electrode minus reaction plane), c+/c+0 the cation
    concentration at the reaction plane over that of the bulk, k_ox and k_red (A/m2) the rates at
    dphi = 0 and c+ = c+0.
    """
    f = FARADAY / (GAS_CONSTANT * temperature)
    return k_ox * ufl.exp(alpha_ox * f * stern_drop) - k_red * cation_ratio * ufl.exp(-alpha_red * f * stern_drop)


def frumkin_seed_kinetics(
    exchange_current,
    eta,
    alpha_anodic,
    alpha_cathodic,
    temperature,
    k_ox_A_m2: float,
    k_red_A_m2: float,
    stern_capacitance_F_m2: float,
    concentration_mol_m3: float,
    relative_permittivity: float,
):
    """Frumkin kinetics in the seed form, the double layer split by Gouy-Chapman-Stern, A/m2.

    Config: ``kinetics = "frumkin-seed"`` with ``kinetics_parameters = {k_ox_A_m2, k_red_A_m2,
    stern_capacitance_F_m2, concentration_mol_m3 (mobile cations), relative_permittivity}``.

    The interface passes eta = phi_s - phi_e - U. The rates fix where equilibrium lies: with
    alpha_a + alpha_c = 1 the current of ``frumkin_seed`` with a Boltzmann cation,
    c+/c+0 = exp(-f phi2), vanishes when the whole double-layer drop dphi + phi2 equals
    (R T/F) ln(k_red/k_ox), whatever its split. That drop is the one at eta = 0, so the drop at eta is
    eta - eta_pzc with eta_pzc = (R T/F) ln(k_ox/k_red) the overpotential of zero charge. It splits
    into phi2 = ``diffuse_layer_drop(eta, ..., eta_pzc)`` and the Stern drop
    dphi = eta - eta_pzc - phi2. The current is then zero at eta = 0 for any k_ox/k_red, and equal
    to ``frumkin_kinetics`` with i0 = k_ox^alpha_c k_red^alpha_a and zero_charge_overpotential_V =
    eta_pzc (k_ox = i0 exp(alpha_a f eta_pzc), k_red = i0 exp(-alpha_c f eta_pzc)).

    The rates are absolute: the interface's exchange current (and with it the exchange-current
    law, its Arrhenius factor and the contact factor) is not used.
    """
    if not (k_ox_A_m2 > 0 and k_red_A_m2 > 0):
        # a TypeError, like a missing parameter: interface_current names the config key
        raise TypeError(f"k_ox_A_m2 and k_red_A_m2 must be positive, got {k_ox_A_m2} and {k_red_A_m2}")
    f = FARADAY / (GAS_CONSTANT * temperature)
    eta_pzc = math.log(k_ox_A_m2 / k_red_A_m2) / f
    phi2 = diffuse_layer_drop(
        eta, stern_capacitance_F_m2, concentration_mol_m3, relative_permittivity, temperature, eta_pzc
    )
    cation_ratio = ufl.exp(-f * phi2)  # Boltzmann: the diffuse layer is at equilibrium
    return frumkin_seed(
        k_ox_A_m2, k_red_A_m2, eta - eta_pzc - phi2, cation_ratio, alpha_anodic, alpha_cathodic, temperature
    )


def marcus_hush_chidsey(
    exchange_current, eta, alpha_anodic, alpha_cathodic, temperature, reorganization_energy_eV: float
):
    """Marcus-Hush-Chidsey kinetics in the asymptotic form of Zeng, Smith, Bai and Bazant,
    J. Electroanal. Chem. 735 (2014) 77, eq. 11; anodic positive, A/m2.

    In thermal units (lambda = reorganisation energy/kT, n = F eta/(R T)):
    k_ox(n) = sqrt(pi lambda)/(1 + exp(-n)) erfc((lambda - sqrt(1 + sqrt(lambda) + n^2))/(2 sqrt(lambda))),
    k_red(n) = k_ox(-n), j = i0 (k_ox - k_red)/k_ox(0). Near equilibrium j = i0 F eta/(R T) (as
    symmetric Butler-Volmer); at large |eta| the current saturates instead of growing
    exponentially. The transfer coefficients are not used.
    """
    f = FARADAY / (GAS_CONSTANT * temperature)
    lam = reorganization_energy_eV * EV_TO_J_MOL / (GAS_CONSTANT * temperature)
    n = f * eta

    def k_ox(x):
        erfc = 1.0 - ufl.erf((lam - ufl.sqrt(1 + ufl.sqrt(lam) + x**2)) / (2 * ufl.sqrt(lam)))
        return erfc / (1.0 + ufl.exp(-x))

    return exchange_current * (k_ox(n) - k_ox(-n)) / k_ox(0.0 * n)


def with_film_resistance(current_of_overpotential, eta, film_resistance_ohm_m2: float, iterations: int = 12):
    """The current through kinetics in series with an interphase film of area-specific
    resistance R_f (ohm m2): j = law(eta - R_f j), A/m2.

    The kinetics see eta_k, the root of eta_k + R_f law(eta_k) = eta (monotone increasing in
    eta_k for any law whose current grows with the overpotential), found by Newton steps from
    eta_k = eta written out in UFL.
    """
    x_k = eta
    for _ in range(iterations):
        x = ufl.variable(x_k)
        residual = x + film_resistance_ohm_m2 * current_of_overpotential(x) - eta
        x_k = x - residual / ufl.diff(residual, x)
    return current_of_overpotential(x_k)


#: Interface kinetics laws by config name: f(i0, eta, alpha_a, alpha_c, T, **parameters) -> j
#: (A/m2, anodic positive), the parameters from the interface's ``kinetics_parameters``.
#: Register a new law with :func:`register_kinetics`.
KINETICS_LAWS = {
    "butler-volmer": butler_volmer,
    "linear": linear_kinetics,
    "tafel": tafel_kinetics,
    "frumkin": frumkin_kinetics,
    "frumkin-seed": frumkin_seed_kinetics,
    "mhc": marcus_hush_chidsey,
}

_BUILT_IN_LAWS = frozenset(KINETICS_LAWS)


def register_kinetics(name: str):
    """Register a kinetics law under a config name (``cell.<side>.kinetics = name``)::

        @register_kinetics("bv-limited")
        def bv_limited(i0, eta, alpha_a, alpha_c, T, *, limiting_current_A_m2):
            j = butler_volmer(i0, eta, alpha_a, alpha_c, T)
            return j / (1 + abs(j) / limiting_current_A_m2)

    The law is a UFL function of (i0 A/m2, eta V, alpha_a, alpha_c, T K) returning j (A/m2,
    anodic positive); keyword parameters come from ``cell.<side>.kinetics_parameters``.
    """

    def register(law):
        if name in _BUILT_IN_LAWS:
            raise ValueError(f"{name!r} is a built-in kinetics law; register yours under another name")
        KINETICS_LAWS[name] = law  # a notebook cell run again replaces its own law
        return law

    return register
