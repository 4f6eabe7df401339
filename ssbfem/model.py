"""A solid-state cell as a coupled finite-element model on submeshes, assembled from physics
blocks (:mod:`ssbfem.blocks`).

Unknowns (named fields, :class:`ssbfem.fem.Fields`), each on the cells where it exists:

* ``phi_e``: ionic potential of the single-ion electrolyte (V), on the electrolyte;
* ``psi_pos``, ``psi_neg``: electronic potential of the positive and negative conductors
  (electrode and its current collector), measured from the external conductor each is joined
  to (see :class:`ssbfem.blocks.conduction.ElectronicConduction`);
* ``theta``: Li stoichiometry c/c_max of the positive electrode;
* ``voltage``: the cell voltage, one global unknown (the potential of the external conductor
  attached to the positive terminal, or to every positive collector's tab in a stack);
* ``phi_leak``: with electronic leakage, the electron potential of the electrolyte;
* ``temperature_rise``: with a thermal model, the temperature above its initial value, a field
  on the whole mesh (collectors included) or one lumped value.

The residual is a set of named terms per field (:class:`ssbfem.fem.Residual`) that the blocks
add. Time enters through d(u)/dt = inv_dt (a0 u + u_hist) for the dynamic fields, u_hist the
sum of the past values with their BDF weights: variable-step BDF of the order and with the
coefficients the time stepper sets (:mod:`ssbfem.integrator`).
"""

from __future__ import annotations

import numpy as np
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.blocks.base import Block
from ssbfem.blocks.charge_transfer import ChargeTransfer, interface, interface_current
from ssbfem.blocks.circuit import GROUND_RESISTANCE_OHM_M2, ExternalCircuit, connections
from ssbfem.blocks.conduction import ElectrolyteConduction, ElectronicConduction
from ssbfem.blocks.diffusion import InsertionDiffusion
from ssbfem.blocks.double_layer import DoubleLayer
from ssbfem.blocks.heat import HEAT_ROW_SCALE, ThermalBalance
from ssbfem.blocks.leakage import LEAKAGE_CONTACT_S_M2, ElectronicLeakage
from ssbfem.constants import FARADAY
from ssbfem.errors import InputError
from ssbfem.fem import Fields, Measures, Residual, Submesh, interface_measure, make_submesh
from ssbfem.geometry import tags
from ssbfem.geometry.io import CellMesh
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.materials.ocp import OCP_FUNCTIONS
from ssbfem.materials.property import evaluate
from ssbfem.settings.cell import Cell
from ssbfem.settings.layers import Layer
from ssbfem.settings.run import Thermal

fem = dolfinx.fem

__all__ = [
    "GROUND_RESISTANCE_OHM_M2",
    "HEAT_ROW_SCALE",
    "LEAKAGE_CONTACT_S_M2",
    "CellModel",
    "Submesh",
    "interface_current",
    "interface_measure",
    "make_submesh",
]


def cell_blocks(cell: Cell, thermal: Thermal, has_negative: bool) -> list[Block]:
    """The blocks a cell's settings ask for, in the order of the monolithic system's fields."""
    blocks: list[Block] = [
        ElectrolyteConduction(),
        ElectronicConduction("positive"),
        InsertionDiffusion(),
        ExternalCircuit(),
    ]
    if has_negative:
        blocks.append(ElectronicConduction("negative"))
    blocks += [ChargeTransfer("positive"), ChargeTransfer("negative")]
    if max(cell.positive.double_layer_F_m2, cell.negative.double_layer_F_m2) > 0.0:
        blocks.append(DoubleLayer())
    if cell.electrolyte.electronic_conductivity_S_m not in (None, 0.0):  # a number, table or law
        blocks.append(ElectronicLeakage())
    if thermal.model != "isothermal":
        blocks.append(ThermalBalance())
    return blocks


class CellModel:
    """Fields and residual of a cell, built from its ``[cell]`` and ``[thermal]`` settings by its blocks.

    Attributes:
        fields: The unknowns by name (``fields["theta"].u``), in the system's order.
        residual: Named residual terms by field (``residual.terms["phi_e"]``).
        q: Quantities the blocks publish (``q["j:positive"]``, ``q["eta:negative"]``, ...).
        blocks: The physics blocks, in order.
        unknowns, residuals, entity_maps, dynamic: What the solvers take (derived from the above).
    """

    def __init__(
        self,
        cellmesh: CellMesh,
        cell: Cell | dict,
        degree: int = 2,
        thermal: Thermal | dict | None = None,
        blocks: list[Block] | None = None,
    ):
        self.cellmesh = cellmesh
        self.cell = cell if isinstance(cell, Cell) else Cell.model_validate(cell)
        self.thermal = thermal if isinstance(thermal, Thermal) else Thermal.model_validate(thermal or {})
        for key in ("initial_temperature_K", "ambient_K"):  # default to the cell's, as Settings does
            if getattr(self.thermal, key) is None:
                setattr(self.thermal, key, self.cell.temperature_K)
        # A stack of unit cells collects current through tabs on every collector; a single cell
        # through its two outer faces (terminals).
        self.tabs = self.cell.units > 1
        self._require_groups()
        self.has_negative = tags.NEGATIVE in cellmesh.cell_names
        self._controls()
        self.fields = Fields(cellmesh, degree)
        self._temperature()
        self.residual = Residual()
        self.q: dict = {"T": self._T_electrochemistry}
        self.q["T_face"] = self.q["T"]("+") if self.temperature_rise is not None else self.q["T"]
        self.bcs: list = []
        self.heat_forms: dict[str, fem.Form] = {}
        self.ocp = OCP_FUNCTIONS[self.cell.positive.ocp]
        self.blocks = blocks if blocks is not None else self.default_blocks()
        for block in self.blocks:
            block.declare(self)
        # The kinetics are exponentials of the fields: left to itself the form compiler would
        # estimate a quadrature degree of 12 or more on every interface facet, which dominates the
        # assembly of 3D composites. A rule exact for the product of two degree-p functions (2p)
        # keeps the discretisation's order of convergence (Ciarlet, The Finite Element Method for
        # Elliptic Problems, section 4.1); on the 39k-unknown P1 composite of benchmarks/scale.py
        # it assembles the Jacobian 25 % faster than 2p + 2.
        self.interface_rule = {"quadrature_degree": 2 * degree}
        self.measures = Measures(cellmesh, self.interface_names(), self.fields["phi_e"].submesh, self.interface_rule)
        self.connections = connections(self)
        self.terminal_area = self.connections.area
        for block in self.blocks:
            block.quantities(self)
        for block in self.blocks:
            block.residual(self)
        self._output_forms()

    def default_blocks(self) -> list[Block]:
        """The blocks of the cell's settings (when none are given)."""
        return cell_blocks(self.cell, self.thermal, self.has_negative)

    def interface_names(self) -> list[str]:
        """The facet groups where charge transfer happens (integrated with ``measures.dS``)."""
        return [tags.POSITIVE_INTERFACE] + ([tags.NEGATIVE_INTERFACE] if self.has_negative else [])

    def _require_groups(self) -> None:
        if self.tabs:
            self.cellmesh.require(
                cells=(tags.ELECTROLYTE, tags.POSITIVE, tags.NEGATIVE, tags.NEGATIVE_CC, tags.POSITIVE_CC),
                facets=(tags.BOTTOM, tags.POSITIVE_INTERFACE, tags.NEGATIVE_INTERFACE),
            )
        else:
            self.cellmesh.require(
                cells=(tags.ELECTROLYTE, tags.POSITIVE),
                facets=(tags.NEGATIVE_TERMINAL, tags.POSITIVE_TERMINAL, tags.POSITIVE_INTERFACE),
            )
        if tags.NEGATIVE in self.cellmesh.cell_names:
            self.cellmesh.require(facets=(tags.NEGATIVE_INTERFACE,))

    def _constant(self, value: float) -> fem.Constant:
        return fem.Constant(self.cellmesh.mesh, dolfinx.default_scalar_type(value))

    def _controls(self) -> None:
        """Controls and time discretisation, all Constants so that no form is recompiled."""
        c = self._constant
        self.mode = tuple(c(x) for x in (1.0, 0.0, 0.0))
        self.setpoint = tuple(c(0.0) for _ in range(3))
        self.inv_dt = c(0.0)
        self.bdf = (c(1.0),)  # a0 of the BDF formula; the rest of it is in each field's u_hist
        # The mechanical shift of Li's equilibrium potential (V, 0 unless the mechanics feeds back:
        # set by ssbfem.mechanics.CellMechanics from its latest solve).
        self.mechanical_shift_negative = c(0.0)

    def _temperature(self) -> None:
        """The cell temperature: a Constant (isothermal), or T0 + the rise (a field on the whole
        mesh, or one lumped value); with lagged coupling the electrochemistry sees a temperature
        extrapolated from the previous steps (set by the time stepper), not the unknown."""
        model = self.thermal.model
        self.temperature_rise = self.T_lagged = None
        if model == "isothermal":
            self.T0 = self.cell.temperature_K
            self.temperature = self._constant(self.T0)
            self._T_electrochemistry = self.temperature
            return
        space = self.fields.lagrange()[0] if model == "full" else self.fields.real()
        self.T0 = self.thermal.initial_temperature_K
        self.temperature_rise = fem.Function(space, name="temperature_rise")
        self.temperature = self.T0 + self.temperature_rise
        self.T_hist = fem.Function(space)
        self._T_electrochemistry = self.temperature
        if self.thermal.coupling == "lagged":
            self.T_lagged = fem.Function(space)
            self._T_electrochemistry = self.T0 + self.T_lagged

    # -- what the solvers, the time stepper and the outputs take
    @property
    def unknowns(self) -> list[fem.Function]:
        return self.fields.unknowns

    @property
    def residuals(self) -> list[ufl.Form]:
        """One residual form per unknown, same order."""
        return self.residual.forms(self.fields.names())

    @property
    def entity_maps(self) -> list:
        return self.fields.entity_maps

    @property
    def dynamic(self) -> list:
        return self.fields.dynamic

    def cells_in(self, space: fem.FunctionSpace, cells: np.ndarray) -> np.ndarray:
        """The cells of `space`'s mesh that are `cells` of the cell mesh (-1 where it has none)."""
        return self.fields.cells_in(space, cells)

    def __getattr__(self, name: str):
        """A field's function by its name (``model.phi_e``, ``model.psi_neg``)."""
        fields = self.__dict__.get("fields")
        if fields is not None and name in fields:
            return fields[name].u
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    @property
    def theta(self) -> fem.Function:
        """The positive electrode's stoichiometry."""
        return self.fields["theta"].u

    @property
    def voltage(self) -> fem.Function:
        """The cell voltage, one global unknown."""
        return self.fields["voltage"].u

    @property
    def capacitive(self) -> bool:
        return any(isinstance(b, DoubleLayer) for b in self.blocks)

    @property
    def leakage(self) -> bool:
        return "phi_leak" in self.fields

    def layer_section(self, layer: str) -> Layer:
        """The settings of a meshed layer (``tags.POSITIVE_CC``: ``cell.positive_current_collector``)."""
        return getattr(self.cell, tags.SECTION_OF_LAYER[layer])

    def material_property(
        self, layer: str, key: str, activation_energy_key: str | None = None, stoichiometry=None, temperature=None
    ) -> ufl.core.expr.Expr | float:
        """A layer's material property (UFL, or a number): see :mod:`ssbfem.materials.property`
        for its forms; at `temperature`, by default the one the electrochemistry sees; the
        stoichiometry of a law f(x, T) is `stoichiometry`, by default the positive electrode's."""
        if stoichiometry is None and layer == tags.POSITIVE:
            stoichiometry = self.local_stoichiometry()
        section = self.layer_section(layer)
        energy = getattr(section, activation_energy_key) if activation_energy_key else None
        return evaluate(
            getattr(section, key),
            self.q["T"] if temperature is None else temperature,
            self.cell.reference_temperature_K,
            stoichiometry=stoichiometry,
            activation_energy_J_mol=energy,
            key=f"cell.{tags.SECTION_OF_LAYER[layer]}.{key}",
        )

    def heat_capacity(self, layer: str) -> ufl.core.expr.Expr | float:
        """rho c_p of a meshed layer, J/(m3 K): its material's density times its heat capacity."""
        prop = self.material_property
        return prop(layer, "density_kg_m3") * prop(layer, "heat_capacity_J_kg_K")

    def thermal_conductivity(self, layer: str) -> tuple:
        """(k across the stack, k in plane) of a meshed layer, W/(m K): its material's (in plane
        defaults to across)."""
        k_cross = self.material_property(layer, "thermal_conductivity_W_m_K")
        if self.layer_section(layer).thermal_conductivity_in_plane_W_m_K is None:
            return k_cross, k_cross
        return k_cross, self.material_property(layer, "thermal_conductivity_in_plane_W_m_K")

    def local_stoichiometry(self) -> ufl.core.expr.Expr:
        """The positive electrode's stoichiometry where its properties are evaluated."""
        return self.theta

    def _output_forms(self) -> None:
        """Scalar outputs (per m2 of footprint) and the means of the voltage breakdown."""
        form = lambda e: fem.form(e, entity_maps=self.entity_maps)
        self._current_form = form(self.q["current_out"] / self.terminal_area * self.connections.positive)
        self.max_concentration = self.cell.positive.max_concentration_mol_m3
        self._breakdown_forms = self._electrode_outputs(form)
        msh = self.cellmesh.mesh
        # The cell's footprint, m2: the outputs per m2 of footprint times it are the whole cell's
        # (heat in W and J), whatever part of the cell the mesh holds.
        self.cell_area_m2 = self.cell.area_cm2 * 1e-4
        total_volume = msh.comm.allreduce(fem.assemble_scalar(fem.form(1.0 * self.measures.dx())))
        self.stack_thickness_m = total_volume / self.terminal_area * MESH_UNIT_M
        if self.temperature_rise is not None:
            self._temperature_mean = fem.form(
                self.temperature_rise / total_volume * self.measures.dx(), entity_maps=self.entity_maps
            )

    def _electrode_outputs(self, form) -> dict:
        """The lithium content's form and the interface means of the voltage breakdown (name:
        (form, area)), all with one quadrature rule so that the terms telescope to the cell
        voltage exactly."""
        comm, q, m = self.cellmesh.mesh.comm, self.q, self.measures
        positive = m.dx(tags.POSITIVE)
        self._lithium_form = form(self.theta * positive)
        self._volume = comm.allreduce(fem.assemble_scalar(form(1.0 * positive)))
        self.lithium_scale = self.max_concentration * MESH_UNIT_M / self.terminal_area  # mol/m2 per int(theta)
        pos, neg = interface(self, "positive"), interface(self, "negative")
        psi_neg = neg.electrode(self.psi_neg) if neg.meshed else 0.0
        phi_e_neg = neg.electrolyte(self.phi_e)
        area = lambda measure: comm.allreduce(fem.assemble_scalar(form(1.0 * measure)))
        self._interface_area = area(pos.measure)
        negative_area = area(neg.measure)
        return {
            name: (form(integrand * measure), a)
            for name, integrand, measure, a in (
                ("surface_ocp", self.ocp(q["theta_surface"]), pos.measure, self._interface_area),
                ("surface_stoichiometry", q["theta_surface"], pos.measure, self._interface_area),
                ("eta_pos", q["eta:positive"], pos.measure, self._interface_area),
                ("psi_pos", self.psi_pos("-"), pos.measure, self._interface_area),
                ("phi_e_pos", self.phi_e("+"), pos.measure, self._interface_area),
                ("phi_e_neg", phi_e_neg, neg.measure, negative_area),
                ("eta_neg", q["eta:negative"], neg.measure, negative_area),
                ("psi_neg", psi_neg + 0.0 * phi_e_neg, neg.measure, negative_area),
            )
        }

    # -- state
    def set_initial_state(self) -> None:
        """Rest at the initial stoichiometry: no current, phi_e = 0, V = U(x0)."""
        if self.temperature_rise is not None:
            for f in (self.temperature_rise, self.T_hist, self.T_lagged or self.T_hist):
                f.x.array[:] = 0.0
        self.set_equilibrium(self.cell.positive.initial_stoichiometry)

    def set_equilibrium(self, stoichiometry: float) -> None:
        """Open-circuit equilibrium at a uniform stoichiometry: phi_e = 0 (the Li side is ground),
        phi_s = V = U(x) in the positive; the temperature is kept."""
        for f in self.unknowns:
            if f is not self.temperature_rise:
                f.x.array[:] = 0.0
        theta = self.fields["theta"]
        theta.u.x.array[:] = stoichiometry
        theta.u_hist.x.array[:] = -stoichiometry  # at rest: a0 = 1, the rate is zero
        self.voltage.x.array[:] = float(self.ocp(stoichiometry, np))

    def stoichiometry_at_ocp(self, voltage: float) -> float:
        """The stoichiometry at which the positive's open-circuit potential equals `voltage`."""
        low, high = 1e-6, 1.0 - 1e-6
        u = lambda x: float(self.ocp(x, np)) - voltage
        u_low, u_high = u(low), u(high)
        if u_low * u_high > 0:
            raise InputError(
                "experiment.steps",
                f"{voltage:g} V is outside the positive electrode's open-circuit range "
                f"[{min(u_low, u_high) + voltage:.4g}, {max(u_low, u_high) + voltage:.4g}] V",
            )
        for _ in range(100):  # bisection: the OCP need not be monotonic everywhere
            mid = 0.5 * (low + high)
            if (u(mid) > 0) == (u_low > 0):
                low = mid
            else:
                high = mid
        return 0.5 * (low + high)

    def stoichiometry_per_charge(self) -> float:
        """Change of the mean stoichiometry per C/m2 of footprint passed."""
        return 1.0 / (FARADAY * self.lithium_scale * self._volume)

    def set_control(self, mode: str, value: float) -> None:
        """mode: "current" (A/m2), "voltage" (V), "power" (W/m2); "rest" is zero current."""
        weights = {"current": (1, 0, 0), "rest": (1, 0, 0), "voltage": (0, 1, 0), "power": (0, 0, 1)}[mode]
        for const, weight in zip(self.mode, weights, strict=True):
            const.value = weight
        index = {"current": 0, "rest": 0, "voltage": 1, "power": 2}[mode]
        for i, const in enumerate(self.setpoint):
            const.value = value if i == index else 0.0

    # -- scalar outputs
    def _sum(self, form) -> float:
        return float(self._sums([form])[0])

    def _sums(self, forms: list) -> np.ndarray:
        """Several scalar forms, assembled here and summed over the ranks in one reduction."""
        values = np.array([fem.assemble_scalar(f) for f in forms], dtype=float)
        self.cellmesh.mesh.comm.Allreduce(MPI.IN_PLACE, values, op=MPI.SUM)
        return values

    def current_density(self) -> float:
        """Current density through the positive terminal, A/m2, positive on discharge."""
        return self._sum(self._current_form)

    def cell_voltage(self) -> float:
        """Potential of the positive terminal's external conductor, V."""
        return float(self.voltage.x.array[0])

    def lithium_content(self) -> float:
        """Lithium in the positive electrode per footprint area, mol/m2."""
        return self._sum(self._lithium_form) * self.lithium_scale

    def temperatures(self) -> dict[str, float]:
        """Minimum, mean and maximum temperature, K."""
        if self.temperature_rise is None:
            value = float(self.temperature.value)
            return {"temperature_min_K": value, "temperature_mean_K": value, "temperature_max_K": value}
        rise = self.temperature_rise.x.array
        extremes = np.array([-rise.min(initial=np.inf), rise.max(initial=-np.inf)])
        self.cellmesh.mesh.comm.Allreduce(MPI.IN_PLACE, extremes, op=MPI.MAX)  # both in one reduction
        return {
            "temperature_min_K": self.T0 - extremes[0],
            "temperature_mean_K": self.T0 + self._sum(self._temperature_mean),
            "temperature_max_K": self.T0 + extremes[1],
        }

    def heat(self) -> dict[str, float]:
        """Heat sources (joule: electrolyte, electrodes, contacts; reaction: irreversible j eta;
        reversible: j T dU/dT), heat removed through the boundaries (W per m2 of footprint) and
        heat stored since the start (stored, J/m2); empty for an isothermal cell."""
        values = self._sums(list(self.heat_forms.values())) / self.terminal_area
        return dict(zip(self.heat_forms, values, strict=True))

    def mean_stoichiometry(self) -> float:
        """Mean stoichiometry of the positive electrode."""
        return self._sum(self._lithium_form) / self._volume

    def interface_means(self) -> dict[str, float]:
        """Means over the interfaces (surface OCP and stoichiometry, overpotentials, potentials)
        and the electrode's ``mean_stoichiometry``, in one reduction."""
        forms = [f for f, _ in self._breakdown_forms.values()] + [self._lithium_form]
        values = self._sums(forms)
        areas = [a for _, a in self._breakdown_forms.values()]
        means = {name: v / a for name, v, a in zip(self._breakdown_forms, values, areas, strict=False)}
        means["mean_stoichiometry"] = float(values[-1]) / self._volume
        return means

    def double_layer_charge(self, means: dict[str, float]) -> float:
        """Charge on the electrode side of the positive double layer, C per m2 of footprint: the
        charge passed equals F times the lithium inserted minus its change."""
        drop = means["psi_pos"] + self.cell_voltage() - means["phi_e_pos"]
        return self.cell.positive.double_layer_F_m2 * drop * self._interface_area / self.terminal_area

    def voltage_breakdown(self, means: dict[str, float] | None = None) -> dict[str, float]:
        """The cell voltage split into OCPs and losses (Pang et al. 2021, eq. 16), in V:

        V = ocp_positive - ocp_negative + sum of loss_*, exactly (the terms telescope), with
        ocp_positive = U(mean x), the positive OCP at its mean stoichiometry;
        loss_diffusion_positive = mean U(x_surface) - U(mean x) (solid diffusion);
        loss_charge_transfer_positive = mean eta at the positive interface;
        loss_ohmic_positive = V - mean phi_s there (electrode, collector, series resistance);
        loss_ohmic_electrolyte = mean phi_e(positive side) - mean phi_e(negative side);
        loss_charge_transfer_negative = -mean eta at the Li interface;
        loss_ohmic_negative = mean phi_s at the Li interface (Li and its collector).
        All losses are negative on discharge. `means`: interface_means(), if already at hand.
        """
        m = means or self.interface_means()
        u_mean = float(self.ocp(m["mean_stoichiometry"], np))
        return {
            "ocp_positive_V": u_mean,
            "ocp_negative_V": float(self.mechanical_shift_negative.value),  # Li: 0, or its stress shift
            "loss_diffusion_positive_V": m["surface_ocp"] - u_mean,
            "loss_charge_transfer_positive_V": m["eta_pos"],
            "loss_ohmic_positive_V": -m["psi_pos"],
            "loss_ohmic_electrolyte_V": m["phi_e_pos"] - m["phi_e_neg"],
            "loss_charge_transfer_negative_V": -m["eta_neg"],
            "loss_ohmic_negative_V": m["psi_neg"],
        }
