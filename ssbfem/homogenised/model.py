"""The homogenised (P2D / P3D) cell: Li | dense electrolyte | composite positive [| collector].

The macro mesh is a planar stack (1D, 2D or 3D; Li unmeshed: its interface is the negative
terminal) or an interdigitated cell (pillars or plates of composite on a composite base film, a
dense electrolyte coating, Li meshed in the trenches: an electronic conductor with its kinetics
on the Li|electrolyte interface, as in the resolved cell). The blocks follow the mesh's groups.

The composite is a continuum in which the electrolyte phase (``phi_e``, effective conductivity
f_SE sigma_SE) and the active phase (``psi_pos``, f_AM sigma_AM) overlap; they exchange the
reaction current a_eff j per volume (:mod:`ssbfem.blocks.volumetric`), and at every point a
particle of radius R takes up the lithium (``theta``, N_r + 1 radial values per macro node,
:mod:`ssbfem.blocks.particle_diffusion`). The separator conducts with the bulk sigma_SE, Li metal
is the negative terminal (as in the resolved thin-film cell), the collector conducts electrons.
Active material that is not joined to the collector (1 - p of it, the percolating fraction p) is
inert: the particles and the reaction hold p eps_AM and p a_s (area in proportion to volume).

The model is a :class:`ssbfem.model.CellModel` with other blocks and outputs, so it runs through
the same simulation, integrator, observers, checkpoints and EIS. Its voltage breakdown keeps the
resolved model's keys, with the positive "interface" means taken as a_eff-weighted means over
the composite's volume (a_eff is uniform: volume means), so that the terms telescope to V.
"""

from __future__ import annotations

import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.blocks.base import Block
from ssbfem.blocks.charge_transfer import ChargeTransfer, interface
from ssbfem.blocks.circuit import ExternalCircuit
from ssbfem.blocks.heat import ThermalBalance
from ssbfem.blocks.conduction import ElectrolyteConduction, ElectronicConduction
from ssbfem.blocks.particle_diffusion import ParticleDiffusion
from ssbfem.blocks.volumetric import VolumetricChargeTransfer
from ssbfem.geometry import tags
from ssbfem.geometry.io import CellMesh
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.homogenised.parameters import HomogenisedParameters
from ssbfem.homogenised.radial import volume_weights
from ssbfem.model import CellModel
from ssbfem.settings.cell import Cell
from ssbfem.settings.run import Thermal


def homogenised_blocks(
    effective: HomogenisedParameters, li_meshed: bool = False, thermal: Thermal | None = None
) -> list[Block]:
    """The blocks of a homogenised cell, in the order of its fields; with `li_meshed` (the mesh
    has a negative layer) the Li conducts electrons (``psi_neg``) and its kinetics act on the
    Li|electrolyte interface, else on the negative terminal; with a `thermal` model other than
    isothermal, the energy balance last."""
    e = effective
    blocks: list[Block] = [
        ElectrolyteConduction((tags.ELECTROLYTE, tags.POSITIVE), {tags.POSITIVE: e.ionic_factor}),
        ElectronicConduction("positive", {tags.POSITIVE: e.electronic_factor}),
        ParticleDiffusion(e.connected_active_fraction, e.particle_radius_m, e.radial_elements),
        ExternalCircuit(),
    ]
    if li_meshed:
        blocks.append(ElectronicConduction("negative"))
    blocks += [VolumetricChargeTransfer(e.reacting_area_1_m), ChargeTransfer("negative")]
    if thermal is not None and thermal.model != "isothermal":
        blocks.append(ThermalBalance())
    return blocks


class HomogenisedModel(CellModel):
    """Fields ``phi_e`` (electrolyte and composite), ``psi_pos`` (composite and collector),
    ``theta`` (particles, N_r + 1 components) and ``voltage``; ``effective`` holds the composite's
    effective parameters."""

    def __init__(
        self,
        cellmesh: CellMesh,
        cell: Cell | dict,
        effective: HomogenisedParameters,
        degree: int = 2,
        thermal: Thermal | dict | None = None,
        blocks: list[Block] | None = None,
    ):
        self.effective = effective
        self.radial_weights = volume_weights(effective.radial_elements)
        super().__init__(cellmesh, cell, degree, thermal, blocks)

    def default_blocks(self) -> list[Block]:
        return homogenised_blocks(self.effective, self.has_negative, self.thermal)

    def interface_names(self) -> list[str]:
        """The Li|electrolyte interface of meshed Li (the positive reaction is volumetric; unmeshed
        Li reacts on the negative terminal)."""
        return [tags.NEGATIVE_INTERFACE] if self.has_negative else []

    def _require_groups(self) -> None:
        self.cellmesh.require(
            cells=(tags.ELECTROLYTE, tags.POSITIVE), facets=(tags.NEGATIVE_TERMINAL, tags.POSITIVE_TERMINAL)
        )
        if tags.NEGATIVE in self.cellmesh.cell_names:
            self.cellmesh.require(facets=(tags.NEGATIVE_INTERFACE,))

    @property
    def composite_volume(self) -> float:
        """Volume of the composite (mesh units: um^dim)."""
        return self._volume

    def local_stoichiometry(self) -> ufl.core.expr.Expr:
        """The particles' volume-averaged stoichiometry (where the composite's properties are evaluated)."""
        return self.q["theta_mean"]

    def heat_capacity(self, layer: str) -> ufl.core.expr.Expr | float:
        """rho c_p, J/(m3 K); of the composite: eps_AM (rho c_p)_AM + eps_SE (rho c_p)_SE, the
        phases' volume-weighted mix (all the active material, joined or not; the pores hold none)."""
        if layer != tags.POSITIVE:
            return super().heat_capacity(layer)
        e = self.effective
        return e.active_fraction * super().heat_capacity(
            tags.POSITIVE
        ) + e.electrolyte_fraction * super().heat_capacity(tags.ELECTROLYTE)

    def thermal_conductivity(self, layer: str) -> tuple | ufl.core.expr.Expr:
        """(k across, k in plane), W/(m K), or with conduction factors per direction the tensor
        diag(k_x, k_y, k_z); of the composite: k_eff = f_AM k_AM + f_SE k_SE, each phase
        conducting heat through the network it conducts charge through (the same steady-conduction
        problem, so the same factor f = sigma_eff / sigma, per direction when it is given so), side
        by side. Heat, unlike charge, also crosses between the phases; that only adds conductance
        (Rayleigh's monotonicity law), so this is a lower estimate, as the volume-weighted mix
        eps_AM k_AM + eps_SE k_SE is the upper (Wiener) bound."""
        if layer != tags.POSITIVE:
            return super().thermal_conductivity(layer)
        e, dim = self.effective, self.cellmesh.mesh.geometry.dim
        active, electrolyte = (
            super().thermal_conductivity(tags.POSITIVE),
            super().thermal_conductivity(tags.ELECTROLYTE),
        )
        if not isinstance(e.electronic_factor, tuple) and not isinstance(e.ionic_factor, tuple):
            return tuple(e.electronic_factor * a + e.ionic_factor * b for a, b in zip(active, electrolyte, strict=True))
        axis = lambda factor, i: factor[i] if isinstance(factor, tuple) else factor
        along = lambda k, i: k[0] if i == 0 else k[1]  # x across the stack, y and z in plane
        k = [
            axis(e.electronic_factor, i) * along(active, i) + axis(e.ionic_factor, i) * along(electrolyte, i)
            for i in range(dim)
        ]
        return ufl.diag(ufl.as_vector(k))

    def _electrode_outputs(self, form) -> dict:
        """Lithium content of the joined particles (p eps_AM c_max times the particle average) and
        the volume means of the breakdown over the composite, one quadrature rule for all."""
        comm, q, m = self.cellmesh.mesh.comm, self.q, self.measures
        positive = m.dx(tags.POSITIVE)(metadata=self.interface_rule)
        self._lithium_form = form(q["theta_mean"] * positive)
        self._volume = comm.allreduce(dolfinx.fem.assemble_scalar(form(1.0 * positive)))
        active = self.effective.connected_active_fraction
        self.lithium_scale = active * self.max_concentration * MESH_UNIT_M / self.terminal_area
        self._interface_area = self._volume * self.effective.reacting_area_1_m * MESH_UNIT_M
        neg = interface(self, "negative")
        negative_area = comm.allreduce(dolfinx.fem.assemble_scalar(form(1.0 * neg.measure)))
        phi_e_neg = neg.electrolyte(self.phi_e)
        psi_neg = neg.electrode(self.psi_neg) if neg.meshed else 0.0
        return {
            name: (form(integrand * measure), a)
            for name, integrand, measure, a in (
                ("surface_ocp", self.ocp(q["theta_surface"]), positive, self._volume),
                ("surface_stoichiometry", q["theta_surface"], positive, self._volume),
                ("eta_pos", q["eta:positive"], positive, self._volume),
                ("psi_pos", self.psi_pos, positive, self._volume),
                ("phi_e_pos", self.phi_e, positive, self._volume),
                ("phi_e_neg", phi_e_neg, neg.measure, negative_area),
                ("eta_neg", q["eta:negative"], neg.measure, negative_area),
                ("psi_neg", psi_neg + 0.0 * phi_e_neg, neg.measure, negative_area),
            )
        }

    def double_layer_charge(self, means: dict[str, float]) -> float:
        """No double layers in the homogenised model: 0."""
        return 0.0
