"""Arrhenius temperature dependence of transport and kinetic properties."""

from __future__ import annotations

import ufl

from ssbfem.constants import GAS_CONSTANT


def arrhenius(value_ref, activation_energy_J_mol: float, temperature, reference_temperature: float):
    """value(T) = value_ref exp(-Ea/R (1/T - 1/T_ref)); Ea in J/mol, temperatures in K."""
    if activation_energy_J_mol == 0.0:
        return value_ref
    return value_ref * ufl.exp(
        -activation_energy_J_mol / GAS_CONSTANT * (1.0 / temperature - 1.0 / reference_temperature)
    )
