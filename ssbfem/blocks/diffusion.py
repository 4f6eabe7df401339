"""Fickian diffusion of lithium in the dense positive electrode.

Equation: dc/dt = div(D grad c), written for the stoichiometry theta = c/c_max
(:func:`ssbfem.physics.diffusion.fickian_diffusion`); D in m2/s: a number (Arrhenius with
``diffusivity_activation_energy_J_mol``), an Arrhenius table or a law D(x, T) in UFL
(:mod:`ssbfem.materials.property`). The interface current feeds it (the charge-transfer block's
term): an anodic current (j > 0, delithiation) removes lithium.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssbfem._dolfinx import dolfinx
from ssbfem.blocks.base import Block
from ssbfem.geometry import tags
from ssbfem.physics.diffusion import fickian_diffusion

if TYPE_CHECKING:
    from ssbfem.model import CellModel

fem = dolfinx.fem


class InsertionDiffusion(Block):
    """Stoichiometry ``theta`` of the positive electrode (dimensionless, 0 to 1)."""

    def declare(self, model: CellModel) -> None:
        space, sub = model.fields.lagrange(tags.POSITIVE)
        model.fields.add("theta", fem.Function(space, name="theta"), sub)
        model.fields.make_dynamic("theta", "stoichiometry")

    def quantities(self, model: CellModel) -> None:
        model.q["diffusivity"] = model.material_property(
            tags.POSITIVE, "diffusivity_m2_s", "diffusivity_activation_energy_J_mol"
        )

    def residual(self, model: CellModel) -> None:
        theta = model.fields["theta"]
        rate = model.fields.rate("theta", model.inv_dt, model.bdf)
        c_max = model.cell.positive.max_concentration_mol_m3
        form = fickian_diffusion(
            rate, theta.u, theta.v, model.q["diffusivity"], c_max, model.measures.dx(tags.POSITIVE)
        )
        model.residual.add("theta", "diffusion", form)
