"""The energy balance of the whole stack: a temperature field on the parent mesh (collectors
included), or one lumped temperature.

Equation: rho c_p dT/dt = div(k grad T) + Q (:mod:`ssbfem.physics.heat`; T in K, W/m3), the
unknown being the rise above the initial temperature T0 (conduction in metals, k/L0 ~ 1e8 per
mesh unit, applied to ~300 K would put the residual's round-off far above the Newton
tolerance). Sources: what the model's blocks release (:func:`heat_sources`): Joule heat in the
electrolyte (ions and leaking electrons) and in every electronic conductor, at each interface
(or, in a homogenised composite, per volume: a_eff times) the irreversible heat j eta and the
reversible heat j T dU/dT (W/m2), the terminal contacts' I^2 R. Each layer's rho c_p and k are
the model's (``model.heat_capacity``, ``model.thermal_conductivity``: a layer's material, or a
homogenised composite's mix of its phases). Boundaries: convection, radiation, a given flux
(inwards), a fixed temperature (full model only; the heat it removes is the reaction of the
balance at its dofs); any other boundary is insulated (symmetry).
Every source and the heat removed are also kept as forms (``model.heat_forms``, W per mesh-unit
area) so that the balance generated - stored - removed can be checked. Properties k, rho and
c_p take every form of :mod:`ssbfem.materials.property`; the stored heat is rho c_p (T - T0),
exact for rho c_p independent of T (else its value at the current T).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.blocks.base import Block
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.physics import heat

if TYPE_CHECKING:
    from ssbfem.model import CellModel

fem = dolfinx.fem

#: The kinds of heat source, in the order of the time series' columns.
SOURCE_KINDS = ("joule", "reaction", "reversible")

#: The energy balance's rows are scaled by this factor: conduction through micrometre layers of
#: metal (k/L0 up to 4e8 W/(m2 K) per mesh unit) puts their round-off near the Newton tolerance
#: that suits the charge balance. Scaled, all rows converge in the same iterations; heat is still
#: balanced to 1e-6 W/m2 per row.
HEAT_ROW_SCALE = 1.0e-3


class ThermalBalance(Block):
    """Temperature rise ``temperature_rise`` (K above the initial temperature)."""

    def declare(self, model: CellModel) -> None:
        model.fields.add("temperature_rise", model.temperature_rise)
        model.fields.make_dynamic("temperature_rise", "temperature", model.T_hist)

    def residual(self, model: CellModel) -> None:
        rise = model.fields["temperature_rise"]
        lumped = model.thermal.model == "lumped"
        rate = model.fields.rate("temperature_rise", model.inv_dt, model.bdf)
        layers = [layer for layer in tags.LAYER_ORDER if layer in model.cellmesh.cell_names]
        rho_cp = {layer: model.heat_capacity(layer) for layer in layers}
        for layer in layers:
            k = model.thermal_conductivity(layer)
            if isinstance(k, tuple):  # (across, in plane)
                k = heat.conductivity_tensor(*k, model.cellmesh.dimension)
            storage = heat.heat_balance(
                rate, model.temperature, rise.v, rho_cp[layer], k, model.measures.dx(layer), not lumped
            )
            model.residual.add("temperature_rise", f"storage:{layer}", storage)
        sources = heat_sources(model)
        for name, integral in sources.items():
            model.residual.add("temperature_rise", f"source:{name}", -_tested(integral, rise.v))
        removed, fixed_dofs = self._boundaries(model)
        if fixed_dofs is not None:  # decided by the settings, the same on every rank
            reaction = self._dirichlet_reaction(model, fixed_dofs)
            removed = -reaction if removed == 0 else removed - reaction
        model.residual.row_scale["temperature_rise"] = HEAT_ROW_SCALE
        form = lambda e: fem.form(e, entity_maps=model.fields.entity_maps)
        model.heat_forms = {name: form(integral) for name, integral in sources.items()}
        if removed != 0:
            model.heat_forms["removed"] = form(removed)
        stored = sum(rho_cp[layer] * MESH_UNIT_M * rise.u * model.measures.dx(layer) for layer in layers)
        model.heat_forms["stored"] = form(stored)

    def _boundaries(self, model: CellModel):
        """Convection, radiation and flux terms; fixed temperatures as Dirichlet conditions
        (allowed on an interface: a thermostat inside the stack). Returns the integral of the
        heat the natural conditions remove (W per mesh-unit area) and this rank's dofs of the
        fixed temperatures (None without any)."""
        th, rise, cm = model.thermal, model.fields["temperature_rise"], model.cellmesh
        lost, fixed = 0, []
        for name, bc in th.boundaries.items():
            key = f"thermal.boundaries.{name}"
            if name not in cm.facet_names:
                raise InputError(key, f"the mesh has no boundary {name!r}; it has {sorted(cm.facet_names)}")
            if bc.type == "fixed":
                space = rise.u.function_space
                dofs = fem.locate_dofs_topological(space, cm.dimension - 1, cm.facets(name))
                value = dolfinx.default_scalar_type(bc.temperature_K - model.T0)
                model.bcs.append(fem.dirichletbc(value, dofs, space))
                fixed.append(dofs)
                continue
            cm.require_boundary(name, key)  # ds over an interface would silently remove nothing
            ambient = getattr(bc, "ambient_K", None) or th.ambient_K
            q_out = heat.boundary_heat(bc, model.temperature, ambient)
            lost += q_out * model.measures.ds(name)
            model.residual.add("temperature_rise", f"boundary:{name}", q_out * rise.v * model.measures.ds(name))
        return lost, np.unique(np.concatenate(fixed)) if fixed else None

    def _dirichlet_reaction(self, model: CellModel, dofs: np.ndarray) -> ufl.Form:
        """Heat flowing into the stack through its fixed temperatures, as a form (W per mesh-unit
        area): the reaction of the energy balance at the constrained dofs.

        The discrete balance holds for every test function but those of the constrained dofs,
        and the test functions sum to 1, so F_T(w = 1) = F_T(w = chi), chi = 1 at the constrained
        dofs and 0 elsewhere. F_T(1) = stored rate - generated + heat leaving through the other
        boundaries, hence the heat the fixed temperatures take out is -F_T(chi): the residual-based
        ("consistent") boundary flux. Evaluated with the same quadrature and BDF rate as the
        residual, it closes the energy balance to the Newton tolerance, on an interface too.
        """
        rise = model.fields["temperature_rise"]
        chi = fem.Function(rise.u.function_space)
        chi.x.array[dofs] = 1.0  # dofs include this rank's ghost copies of every constrained dof
        chi.x.scatter_forward()
        self._fixed_indicator = chi  # the form refers to it
        return ufl.replace(sum(model.residual.terms["temperature_rise"].values()), {rise.v: chi})


def heat_sources(model: CellModel) -> dict[str, ufl.Form]:
    """Joule, irreversible (reaction) and reversible heat, each an integral in W per mesh-unit
    area: the sum of what every block of the model releases (:meth:`ssbfem.blocks.Block.heat_sources`)."""
    sources: dict[str, ufl.Form] = {}
    for block in model.blocks:
        for kind, integral in block.heat_sources(model).items():
            sources[kind] = sources[kind] + integral if kind in sources else integral
    order = {kind: i for i, kind in enumerate(SOURCE_KINDS)}
    return dict(sorted(sources.items(), key=lambda item: order.get(item[0], len(order))))


def _tested(integral: ufl.Form, w) -> ufl.Form:
    """A source integral tested with w (w("+") on interior facets)."""
    out = 0
    for itg in integral.integrals():
        weight = w("+") if itg.integral_type() == "interior_facet" else w
        out += ufl.Form([itg.reconstruct(integrand=itg.integrand() * weight)])
    return out
