"""Electronic leakage through the electrolyte: a self-discharge in parallel with the ions.

Equation: -div(sigma_leak grad phi_leak) = 0 for the electron potential phi_leak (V) of the
electrolyte (sigma_leak = ``cell.electrolyte.electronic_conductivity_S_m``, S/m). It joins each
electrode through an ohmic contact of conductance G_c (S/m2): the electron current density
entering the electrolyte there is G_c (phi_s - phi_leak). Heat: the Joule heat of the leaking
electrons, sigma_leak |grad phi_leak|^2 (W/m3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.blocks.base import Block
from ssbfem.blocks.charge_transfer import interface
from ssbfem.geometry import tags
from ssbfem.physics.charge import ohmic_conduction
from ssbfem.physics.heat import joule_heat

if TYPE_CHECKING:
    from ssbfem.model import CellModel

fem = dolfinx.fem

#: Conductance of the ohmic contact between an electrode and the electrolyte's electron
#: phase, S/m2 (1e-8 ohm m2): negligible beside any electrolyte's electronic resistance.
LEAKAGE_CONTACT_S_M2 = 1.0e8


class ElectronicLeakage(Block):
    """Electron potential ``phi_leak`` (V) in the electrolyte."""

    def declare(self, model: CellModel) -> None:
        phi_e = model.fields["phi_e"]
        model.fields.add("phi_leak", fem.Function(phi_e.u.function_space, name="phi_leak"), phi_e.submesh)

    def residual(self, model: CellModel) -> None:
        fields, q = model.fields, model.q
        leak = fields["phi_leak"]
        sigma = model.material_property(tags.ELECTROLYTE, "electronic_conductivity_S_m")
        model.residual.add(
            "phi_leak", "conduction", ohmic_conduction(leak.u, leak.v, sigma, model.measures.dx(tags.ELECTROLYTE))
        )
        positive = interface(model, "positive")
        into_pos = LEAKAGE_CONTACT_S_M2 * (leak.u("+") - q["phi_s:positive"])  # electrons, electrolyte -> positive
        model.residual.add("phi_leak", "contact:positive", into_pos * leak.v("+") * positive.measure)
        model.residual.add("psi_pos", "leakage", -into_pos * fields["psi_pos"].v("-") * positive.measure)
        negative = interface(model, "negative")
        if negative.meshed:
            into_neg = LEAKAGE_CONTACT_S_M2 * (leak.u("+") - fields["psi_neg"].u("-"))
            model.residual.add("phi_leak", "contact:negative", into_neg * leak.v("+") * negative.measure)
            model.residual.add("psi_neg", "leakage", -into_neg * fields["psi_neg"].v("-") * negative.measure)
        else:
            model.residual.add(
                "phi_leak", "contact:negative", LEAKAGE_CONTACT_S_M2 * leak.u * leak.v * negative.measure
            )

    def heat_sources(self, model: CellModel) -> dict[str, ufl.Form]:
        """Joule heat of the electrons leaking through the electrolyte."""
        sigma = model.material_property(tags.ELECTROLYTE, "electronic_conductivity_S_m")
        return {"joule": joule_heat(sigma, model.fields["phi_leak"].u) * model.measures.dx(tags.ELECTROLYTE)}
