"""Charge transfer spread through the volume of a homogenised composite electrode.

Equation: per volume of composite, the reaction current a_eff j (A/m3) passes from the
electrolyte phase to the active phase; a_eff = a_s (1 - contact loss) (1/m) the reacting
interface area per volume, j = f(i0, eta, alpha_a, alpha_c, T) (A/m2 of interface, anodic
positive: on discharge j < 0) the same law, exchange-current law, contact factor and interphase
film in series as at a resolved interface (:func:`ssbfem.blocks.charge_transfer.interface_current`),
eta = phi_s - phi_e - U(theta_surface) (V), phi_s = psi_pos + V.
Residual terms (currents per mesh-unit area): -int a_eff L0 j v dx in the electrolyte's balance,
+int a_eff L0 j v dx in the electrode's, and +int a_eff L0 j w_N dx in the particles' lithium
balance (their surface node, :mod:`ssbfem.blocks.particle_diffusion`).
Heat, per volume of composite (W/m3): the irreversible heat a_eff j eta (never negative) and the
reversible heat a_eff j T dU/dT(theta_surface), the resolved interface's W/m2 times the reacting
area per volume (the same entropic coefficient, ``cell.positive.entropic_coefficient``),
integrated with the residual's quadrature rule so that the heat balances the electrical work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ufl

from ssbfem.blocks.base import Block
from ssbfem.blocks.charge_transfer import interface_current
from ssbfem.geometry import tags
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.materials.ocp import ENTROPIC_COEFFICIENTS
from ssbfem.materials.property import evaluate
from ssbfem.physics import heat
from ssbfem.physics.kinetics import EXCHANGE_CURRENT_LAWS

if TYPE_CHECKING:
    from ssbfem.model import CellModel


class VolumetricChargeTransfer(Block):
    """Publishes ``j:positive``, ``eta:positive``, ``i0:positive`` (A/m2, V, A/m2 of interface) and
    ``phi_s:positive`` (V) in the composite; adds the reaction to the three balances there."""

    def __init__(self, reacting_area_1_m: float):
        self.area = reacting_area_1_m

    def quantities(self, model: CellModel) -> None:
        section, fields, q = model.cell.positive, model.fields, model.q
        theta_surface, T = q["theta_surface"], q["T"]
        i0 = evaluate(
            section.exchange_current_A_m2,
            T,
            model.cell.reference_temperature_K,
            stoichiometry=theta_surface,
            activation_energy_J_mol=section.exchange_current_activation_energy_J_mol,
            key="cell.positive.exchange_current_A_m2",
        )
        alphas = section.transfer_coefficient, section.cathodic_transfer_coefficient
        i0 = EXCHANGE_CURRENT_LAWS[section.exchange_current_law](i0, theta_surface, *alphas)
        phi_s = fields["psi_pos"].u + fields["voltage"].u
        eta = phi_s - fields["phi_e"].u - model.ocp(theta_surface)
        q["phi_s:positive"] = phi_s
        q["i0:positive"] = i0
        q["eta:positive"] = eta
        q["j:positive"] = interface_current("positive", section, i0, eta, *alphas, T)

    def residual(self, model: CellModel) -> None:
        fields, j = model.fields, model.q["j:positive"]
        dx = model.measures.dx(tags.POSITIVE)(metadata=model.interface_rule)
        source = self.area * MESH_UNIT_M * j
        term = "charge_transfer:positive"
        model.residual.add("phi_e", term, -source * fields["phi_e"].v * dx)
        model.residual.add("psi_pos", term, source * fields["psi_pos"].v * dx)
        w = fields["theta"].v
        model.residual.add("theta", term, source * w[w.ufl_shape[0] - 1] * dx)  # the surface node

    def heat_sources(self, model: CellModel) -> dict[str, ufl.Form]:
        """a_eff j eta and a_eff j T dU/dT over the composite, W per mesh-unit area."""
        q = model.q
        dx = model.measures.dx(tags.POSITIVE)(metadata=model.interface_rule)
        scale = self.area * MESH_UNIT_M
        dU_dT = ENTROPIC_COEFFICIENTS[model.cell.positive.entropic_coefficient](q["theta_surface"])
        return {
            "reaction": scale * heat.reaction_heat(q["j:positive"], q["eta:positive"]) * dx,
            "reversible": scale * heat.reversible_heat(q["j:positive"], model.temperature, dU_dT) * dx,
        }
