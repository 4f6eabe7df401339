"""Charge conservation in the conductors: ions in the electrolyte, electrons in the electrodes
and their current collectors.

Equation: -div(sigma grad phi) = 0 (A/m3), the current density i = -sigma grad(phi) (A/m2)
divergence free; sigma in S/m (a number, Arrhenius or a law of x and T:
:mod:`ssbfem.materials.property`), phi in V (:func:`ssbfem.physics.charge.ohmic_conduction`).
A layer's conductivity may be scaled by an effective-medium factor f = sigma_eff / sigma (a
homogenised composite): a number, or per direction (f_x, f_y, f_z), the diagonal tensor
sigma diag(f_x, f_y, f_z) in the mesh's axes (x through the stack), of which a 1D mesh takes f_x
and a 2D one (f_x, f_y); f_k = 0 means no conduction along k.
Currents crossing an interface or a terminal enter as the terms of the kinetics, double-layer
and circuit blocks: +int j_out v ds, j_out the current density leaving the conductor.
Heat: the Joule heat sigma |grad phi|^2 (W/m3) of every conductor, with the conductivity its
residual uses (times the effective-medium factor in a homogenised composite).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.blocks.base import Block
from ssbfem.geometry import tags
from ssbfem.physics.charge import ohmic_conduction
from ssbfem.physics.heat import joule_heat

if TYPE_CHECKING:
    from ssbfem.model import CellModel

fem = dolfinx.fem


#: An effective-medium factor: one number, or one per direction x, y, z.
Factor = float | tuple[float, float, float]


def _scaled(conductivity, factor: Factor, dimension: int):
    """A conductivity times an effective-medium factor (left alone when it is 1): a scalar, or the
    diagonal tensor of a factor per direction on a mesh of geometric `dimension`."""
    if isinstance(factor, tuple):
        return ufl.diag(ufl.as_vector(factor[:dimension])) * conductivity
    return conductivity if factor == 1.0 else factor * conductivity


class ElectrolyteConduction(Block):
    """Ionic potential ``phi_e`` (V) of the single-ion electrolyte; its conductivity, given as a
    number, follows ``conductivity_activation_energy_J_mol``: sigma(T) = sigma_ref exp(-Ea/R
    (1/T - 1/T_ref)) (published as ``q["sigma_e"]``).

    `layers`: the cell groups the electrolyte fills (the separator; in a homogenised cell also
    the composite positive); `factors`: sigma_eff/sigma by layer, a number or one per direction
    (1 where not given)."""

    def __init__(self, layers: tuple[str, ...] = (tags.ELECTROLYTE,), factors: dict[str, Factor] | None = None):
        self.layers = layers
        self.factors = factors or {}

    def declare(self, model: CellModel) -> None:
        space, sub = model.fields.lagrange(*self.layers)
        model.fields.add("phi_e", fem.Function(space, name="phi_e"), sub)

    def quantities(self, model: CellModel) -> None:
        model.q["sigma_e"] = model.material_property(
            tags.ELECTROLYTE, "conductivity_S_m", "conductivity_activation_energy_J_mol"
        )

    def residual(self, model: CellModel) -> None:
        phi_e, sigma = model.fields["phi_e"], model.q["sigma_e"]
        dim = model.cellmesh.mesh.geometry.dim
        form = sum(
            ohmic_conduction(
                phi_e.u, phi_e.v, _scaled(sigma, self.factors.get(layer, 1.0), dim), model.measures.dx(layer)
            )
            for layer in self.layers
        )
        model.residual.add("phi_e", "conduction", form)

    def heat_sources(self, model: CellModel) -> dict[str, ufl.Form]:
        """Joule heat of the ions, sigma_eff |grad phi_e|^2 in each layer the electrolyte fills."""
        phi_e, sigma = model.fields["phi_e"].u, model.q["sigma_e"]
        dim = model.cellmesh.mesh.geometry.dim
        joule = sum(
            joule_heat(_scaled(sigma, self.factors.get(layer, 1.0), dim), phi_e) * model.measures.dx(layer)
            for layer in self.layers
        )
        return {"joule": joule}


#: The electronic potential field of each side and the layers it spans.
CONDUCTORS = {
    "positive": ("psi_pos", (tags.POSITIVE, tags.POSITIVE_CC)),
    "negative": ("psi_neg", (tags.NEGATIVE, tags.NEGATIVE_CC)),
}


class ElectronicConduction(Block):
    """Electronic potential of one side's conductors (electrode and collector), carried relative
    to the external conductor it is joined to: ``psi_pos = phi_s - V``, ``psi_neg = phi_s``
    (ground). Both stay of the order of the ohmic drop, so metals of 1e7 S/m sit beside a
    1e-4 S/m electrolyte without round-off swamping the residual. Each layer conducts with its
    own electronic conductivity (S/m), times its factor in `factors` (sigma_eff/sigma of a
    homogenised composite, a number or one per direction; 1 where not given)."""

    def __init__(self, side: str, factors: dict[str, Factor] | None = None):
        self.side = side
        self.field, self.layers = CONDUCTORS[side]
        self.factors = factors or {}

    def declare(self, model: CellModel) -> None:
        space, sub = model.fields.lagrange(*self.layers)
        model.fields.add(self.field, fem.Function(space, name=self.field), sub)

    def _conductivities(self, model: CellModel) -> dict[str, ufl.core.expr.Expr | float]:
        """sigma_eff (S/m) of each meshed layer of this side."""
        names, dim = model.cellmesh.cell_names, model.cellmesh.mesh.geometry.dim
        return {
            layer: _scaled(
                model.material_property(layer, "electronic_conductivity_S_m"), self.factors.get(layer, 1.0), dim
            )
            for layer in self.layers
            if layer in names
        }

    def residual(self, model: CellModel) -> None:
        psi = model.fields[self.field]
        form = sum(
            ohmic_conduction(psi.u, psi.v, sigma, model.measures.dx(layer))
            for layer, sigma in self._conductivities(model).items()
        )
        model.residual.add(self.field, "conduction", form)

    def heat_sources(self, model: CellModel) -> dict[str, ufl.Form]:
        """Joule heat of the electrons, sigma_eff |grad phi_s|^2 in each of this side's layers."""
        psi = model.fields[self.field].u
        joule = sum(
            joule_heat(sigma, psi) * model.measures.dx(layer) for layer, sigma in self._conductivities(model).items()
        )
        return {"joule": joule}
