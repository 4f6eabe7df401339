"""Spherical diffusion of lithium in the particles of a homogenised composite electrode.

Equation, at every point of the composite: dc/dt = (1/r^2) d/dr (r^2 D dc/dr) for 0 < r < R, with
dc/dr = 0 at r = 0 and -D dc/dr = N at r = R (mol/(m2 s), outward). c = c_max theta (mol/m3),
D in m2/s (a number, Arrhenius, or a law D(x, T), evaluated per radial element at its mean
stoichiometry), r the particle radius (m). The radius is discretised by linear elements
(:mod:`ssbfem.homogenised.radial`): the field ``theta`` has N_r + 1 components per macro node,
component k at r = k R / N_r (the last one is the surface).

Per volume of composite, the particles (volume fraction eps_AM, surface 3 eps_AM / R) take up the
lithium the reaction delivers, a (1 - contact loss) j / F, so that N = a_eff j R / (3 eps_AM F)
(= j / F when a_s = 3 eps_AM / R, no contact loss): lithium is conserved whatever a_s is given.
The residual, a current per mesh-unit area like every lithium balance of the package:

    int F c_max 3 eps_AM L0 (M dtheta/dt + (D/R^2) K theta) . w dx + int a_eff L0 j w_N dx,

the second term added by :class:`ssbfem.blocks.volumetric.VolumetricChargeTransfer` (anodic j > 0
removes lithium).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.blocks.base import Block
from ssbfem.constants import FARADAY
from ssbfem.geometry import tags
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.homogenised.radial import radial_matrices, volume_weights
from ssbfem.materials.property import Law

if TYPE_CHECKING:
    from ssbfem.model import CellModel

fem = dolfinx.fem


class ParticleDiffusion(Block):
    """Particle stoichiometry ``theta`` (N_r + 1 components, 0 to 1); publishes ``theta_surface``
    (the particles' surface), ``theta_mean`` (their volume average) and ``diffusivity`` (m2/s, per
    radial element: a list)."""

    def __init__(self, active_fraction: float, radius_m: float, elements: int):
        self.active_fraction = active_fraction
        self.radius = radius_m
        self.n = elements
        mass, self.stiffness = radial_matrices(elements)
        self.mass = ufl.as_matrix(mass.tolist())
        self.weights = ufl.as_vector(volume_weights(elements).tolist())

    def declare(self, model: CellModel) -> None:
        space, sub = model.fields.lagrange(tags.POSITIVE, shape=(self.n + 1,))
        model.fields.add("theta", fem.Function(space, name="theta"), sub)
        model.fields.make_dynamic("theta", "stoichiometry")

    def quantities(self, model: CellModel) -> None:
        theta = model.fields["theta"].u
        model.q["theta_surface"] = theta[self.n]
        model.q["theta_mean"] = ufl.dot(self.weights, theta)
        value = model.cell.positive.diffusivity_m2_s
        by_element = isinstance(value, Law) and value.of_stoichiometry

        def diffusivity(x):
            return model.material_property(
                tags.POSITIVE, "diffusivity_m2_s", "diffusivity_activation_energy_J_mol", stoichiometry=x
            )

        if by_element:
            model.q["diffusivity"] = [diffusivity(0.5 * (theta[e] + theta[e + 1])) for e in range(self.n)]
        else:
            model.q["diffusivity"] = [diffusivity(model.q["theta_mean"])] * self.n

    def residual(self, model: CellModel) -> None:
        theta = model.fields["theta"]
        rate = model.fields.rate("theta", model.inv_dt, model.bdf)
        D = model.q["diffusivity"]
        if all(d is D[0] for d in D):
            flux = D[0] * ufl.dot(ufl.as_matrix(sum(self.stiffness).tolist()), theta.u)
        else:
            flux = sum(d * ufl.dot(ufl.as_matrix(k.tolist()), theta.u) for d, k in zip(D, self.stiffness, strict=True))
        scale = FARADAY * model.cell.positive.max_concentration_mol_m3 * 3.0 * self.active_fraction * MESH_UNIT_M
        integrand = ufl.dot(self.mass, rate) + flux / self.radius**2
        form = scale * ufl.inner(integrand, theta.v) * model.measures.dx(tags.POSITIVE)
        model.residual.add("theta", "diffusion", form)
