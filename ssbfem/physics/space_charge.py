"""Space charge next to an interface: one mobile cation on an immobile background.

Equilibrium (Poisson-Boltzmann, verification case H): with psi = F phi_s/(R T) the potential of
the interface relative to the bulk in thermal units, the field at the interface satisfies
E_s^2 = (2 c0 R T/eps)(exp(-psi) - 1 + psi), and the charge per area is |q| = eps E_s. Its length
scale is the Debye length lambda_D = sqrt(eps R T/(F^2 c0)).
"""

from __future__ import annotations

import math

from ssbfem.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY


def debye_length(relative_permittivity: float, concentration: float, temperature: float) -> float:
    """lambda_D = sqrt(eps R T/(F^2 c0)), m; c0 in mol/m3."""
    eps = relative_permittivity * VACUUM_PERMITTIVITY
    return math.sqrt(eps * GAS_CONSTANT * temperature / (FARADAY**2 * concentration))


def space_charge_density(psi: float, relative_permittivity: float, concentration: float, temperature: float) -> float:
    """|q| = eps E_s (C/m2) of the diffuse layer at the dimensionless interface potential psi."""
    eps = relative_permittivity * VACUUM_PERMITTIVITY
    field_squared = 2 * concentration * GAS_CONSTANT * temperature / eps * (math.exp(-psi) - 1 + psi)
    return eps * math.sqrt(field_squared)
