"""A solid-state cell as a coupled finite-element model on submeshes.

Unknowns, each on the cells where it exists (one submesh per field domain):

* ``phi_e``: ionic potential of the single-ion electrolyte (V), on the electrolyte;
* ``psi_pos``, ``psi_neg``: electronic potential of the positive and negative conductors
  (electrode and its current collector), measured from the external conductor each is joined
  to (see :class:`CellModel`); ``phi_s`` jumps across each interface relative to ``phi_e``;
* ``theta``: Li stoichiometry c/c_max of the positive electrode;
* ``voltage``: the cell voltage, one global unknown (the potential of the external conductor
  attached to the positive terminal, or to every positive collector's tab in a stack);
* ``temperature_rise``: with a thermal model, the temperature above its initial value, a field
  on the whole mesh (collectors included) or one lumped value.

The residual is assembled from the blocks of :mod:`ssbfem.physics`. Time enters through
d(u)/dt = inv_dt (a0 u + a1 u_n + a2 u_nm1) for u = theta and the temperature: backward Euler or
variable-step BDF2 depending on the coefficients the time stepper sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import basix.ufl
import numpy as np
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.geometry import tags
from ssbfem.geometry.io import CellMesh
from ssbfem.constants import FARADAY, VACUUM_PERMITTIVITY
from ssbfem.errors import InputError
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.materials.arrhenius import arrhenius
from ssbfem.materials.ocp import ENTROPIC_COEFFICIENTS, OCP_FUNCTIONS
from ssbfem.physics import heat
from ssbfem.physics.charge import ohmic_conduction
from ssbfem.physics.diffusion import fickian_diffusion
from ssbfem.physics.kinetics import EXCHANGE_CURRENT_LAWS, KINETICS_LAWS, with_film_resistance
from ssbfem.physics.terminal import control_law

fem = dolfinx.fem

#: Resistance joining the negative terminal to ground, ohm m2: the terminal is equipotential
#: to within I * this value (2e-9 V at 20 A/m2).
GROUND_RESISTANCE_OHM_M2 = 1.0e-10


#: Conductance of the ohmic contact between an electrode and the electrolyte's electron
#: phase, S/m2 (1e-8 ohm m2): negligible beside any electrolyte's electronic resistance.
LEAKAGE_CONTACT_S_M2 = 1.0e8


#: The energy balance's rows are scaled by this factor: conduction through micrometre layers of
#: metal (k/L0 up to 4e8 W/(m2 K) per mesh unit) puts their round-off near the Newton tolerance
#: that suits the charge balance. Scaled, all rows converge in the same iterations; heat is still
#: balanced to 1e-6 W/m2 per row.
HEAT_ROW_SCALE = 1.0e-3


def interface_current(side: str, section: dict, i0, eta, alpha_anodic, alpha_cathodic, temperature):
    """Charge-transfer current density at an electrode's interface (A/m2, anodic positive): its
    kinetics law with the contact factor gamma_c scaling i0 (a partly lost contact, Pang et al.
    2021) and, with an interphase film, that film's resistance in series."""
    law, parameters = KINETICS_LAWS[section["kinetics"]], section["kinetics_parameters"]
    i0 = section["contact_factor"] * i0

    def current(x):
        try:
            return law(i0, x, alpha_anodic, alpha_cathodic, temperature, **parameters)
        except TypeError as exc:
            raise InputError(f"cell.{side}.kinetics_parameters", f"{section['kinetics']}: {exc}") from None

    film = section["film_resistance_ohm_cm2"] * 1e-4
    return current(eta) if film == 0.0 else with_film_resistance(current, eta, film)


@dataclass
class Submesh:
    """A submesh of the cell mesh and its map to the parent's cells."""

    mesh: dolfinx.mesh.Mesh
    entity_map: dolfinx.mesh.EntityMap


def make_submesh(cellmesh: CellMesh, cells: np.ndarray) -> Submesh:
    msh = cellmesh.mesh
    sub, emap, _, _ = dolfinx.mesh.create_submesh(msh, msh.topology.dim, cells)
    return Submesh(sub, emap)


def interface_measure(cellmesh: CellMesh, names: list[str], plus_side: Submesh) -> ufl.Measure:
    """One interior-facet measure over the named interfaces, `plus_side`'s cells always on "+".

    Integrate over interface n with ``measure(cellmesh.facet_names[n])``. A form may hold one
    set of interior-facet data only, so every interface shares this measure.
    """
    msh = cellmesh.mesh
    subdomains = []
    for name in names:
        data = fem.compute_integration_domains(
            fem.IntegralType.interior_facet, msh.topology, cellmesh.facets(name)
        ).reshape(-1, 4)
        in_plus = plus_side.entity_map.sub_topology_to_topology(data[:, 0].copy(), inverse=True) >= 0
        data[~in_plus] = data[~in_plus][:, [2, 3, 0, 1]]
        subdomains.append((cellmesh.facet_names[name], data.ravel()))
    return ufl.Measure("dS", domain=msh, subdomain_data=subdomains)


class CellModel:
    """Residual and unknowns of a cell, built from a resolved ``[cell]`` config.

    The electronic potential is carried relative to the external conductor each electrode is
    joined to: ``psi_pos = phi_s - V`` on the positive side and ``psi_neg = phi_s`` (ground) on
    the negative side. Both stay of the order of the ohmic drop in the conductor, so metals of
    1e7 S/m sit beside a 1e-4 S/m electrolyte without round-off swamping the residual.

    Attributes:
        unknowns: [phi_e, psi_pos, theta, voltage], then psi_neg when the negative is meshed,
            phi_leak when the electrolyte conducts electrons, and temperature_rise (K above the
            initial temperature, on the whole mesh or lumped) with a thermal model.
        residuals: One residual form per unknown, same order.
        entity_maps: Submesh entity maps the forms need.
    """

    def __init__(self, cellmesh: CellMesh, cell: dict, degree: int = 2, thermal: dict | None = None):
        self.cellmesh = cellmesh
        self.cell = cell
        self.thermal = thermal or {"model": "isothermal"}
        msh = cellmesh.mesh
        comm = msh.comm
        # A stack of unit cells collects current through tabs on every collector; a single cell
        # through its two outer faces (terminals).
        self.tabs = cell.get("units", 1) > 1
        if self.tabs:
            cellmesh.require(
                cells=(tags.ELECTROLYTE, tags.POSITIVE, tags.NEGATIVE, tags.NEGATIVE_CC, tags.POSITIVE_CC),
                facets=(tags.BOTTOM, tags.POSITIVE_INTERFACE, tags.NEGATIVE_INTERFACE),
            )
        else:
            cellmesh.require(
                cells=(tags.ELECTROLYTE, tags.POSITIVE),
                facets=(tags.NEGATIVE_TERMINAL, tags.POSITIVE_TERMINAL, tags.POSITIVE_INTERFACE),
            )
        self.has_negative = tags.NEGATIVE in cellmesh.cell_names
        if self.has_negative:
            cellmesh.require(facets=(tags.NEGATIVE_INTERFACE,))
        neg, ely, pos = cell["negative"], cell["electrolyte"], cell["positive"]

        # -- controls and time discretisation, all Constants so that no form is recompiled
        c = lambda v: fem.Constant(msh, dolfinx.default_scalar_type(v))
        thermal_model = self.thermal["model"]
        self.temperature_rise = None
        if thermal_model == "isothermal":
            self.temperature = c(cell["temperature_K"])
        else:  # a field on the whole stack, or one lumped value (a global unknown)
            space = (
                fem.functionspace(msh, ("Lagrange", degree))
                if thermal_model == "full"
                else fem.functionspace(
                    msh, basix.ufl.real_element(msh.basix_cell(), (), dtype=dolfinx.default_real_type)
                )
            )
            # The unknown is the rise above the initial temperature T0: conduction in metals
            # (k/L0 ~ 1e8 per mesh unit) applied to ~300 K would put the residual's round-off
            # far above the Newton tolerance.
            self.T0 = self.thermal["initial_temperature_K"]
            self.temperature_rise = fem.Function(space, name="temperature_rise")
            self.temperature = self.T0 + self.temperature_rise
            self.T_n = fem.Function(space)
            self.T_nm1 = fem.Function(space)
        self.mode = tuple(c(x) for x in (1.0, 0.0, 0.0))
        self.setpoint = tuple(c(0.0) for _ in range(3))
        self.inv_dt = c(0.0)
        self.bdf = tuple(c(x) for x in (1.0, -1.0, 0.0))
        t_ref = cell["reference_temperature_K"]

        # -- submeshes and spaces
        self.electrolyte = make_submesh(cellmesh, cellmesh.cells(tags.ELECTROLYTE))
        self.positive_conductor = make_submesh(cellmesh, cellmesh.cells(tags.POSITIVE, tags.POSITIVE_CC))
        self.positive = make_submesh(cellmesh, cellmesh.cells(tags.POSITIVE))
        P = lambda sub: fem.functionspace(sub.mesh, ("Lagrange", degree))
        R = fem.functionspace(msh, basix.ufl.real_element(msh.basix_cell(), (), dtype=dolfinx.default_real_type))
        self.phi_e = fem.Function(P(self.electrolyte), name="phi_e")
        self.psi_pos = fem.Function(P(self.positive_conductor), name="psi_pos")
        self.theta = fem.Function(P(self.positive), name="theta")
        self.voltage = fem.Function(R, name="voltage")
        self.theta_n = fem.Function(self.theta.function_space)
        self.theta_nm1 = fem.Function(self.theta.function_space)
        self.unknowns = [self.phi_e, self.psi_pos, self.theta, self.voltage]
        self.entity_maps = [self.electrolyte.entity_map, self.positive_conductor.entity_map, self.positive.entity_map]
        if self.has_negative:
            self.negative_conductor = make_submesh(cellmesh, cellmesh.cells(tags.NEGATIVE, tags.NEGATIVE_CC))
            self.psi_neg = fem.Function(P(self.negative_conductor), name="psi_neg")
            self.unknowns.append(self.psi_neg)
            self.entity_maps.append(self.negative_conductor.entity_map)
        self.submeshes = [self.electrolyte, self.positive_conductor, self.positive] + (
            [self.negative_conductor] if self.has_negative else []
        )
        tests = [ufl.TestFunction(u.function_space) for u in self.unknowns]
        v_e, v_p, w, w_v = tests[:4]

        # -- measures on the parent mesh
        dx = ufl.Measure("dx", domain=msh, subdomain_data=cellmesh.cell_tags)
        ds = ufl.Measure("ds", domain=msh, subdomain_data=cellmesh.facet_tags)
        names = cellmesh.cell_names
        fnames = cellmesh.facet_names
        interfaces = [tags.POSITIVE_INTERFACE] + ([tags.NEGATIVE_INTERFACE] if self.has_negative else [])
        # The kinetics are exponentials of the fields: left to itself the form compiler would
        # estimate a quadrature degree of 12 or more on every interface facet, which dominates the
        # assembly of 3D composites. A rule exact for the product of two degree-p functions (2p)
        # keeps the discretisation's order of convergence (Ciarlet, The Finite Element Method for
        # Elliptic Problems, section 4.1); on the 39k-unknown P1 composite of benchmarks/scale.py
        # it assembles the Jacobian 25 % faster than 2p + 2.
        interface_rule = {"quadrature_degree": 2 * degree}
        dS = interface_measure(cellmesh, interfaces, self.electrolyte)(metadata=interface_rule)
        dS_pos = dS(fnames[tags.POSITIVE_INTERFACE])
        # Connections to the external circuit: the current density leaving a conductor there is
        # g psi (A per m2 of face, or per m2 and mesh-unit thickness of a tab's collector volume).
        series_resistance = cell["series_resistance_ohm_cm2"] * 1e-4
        if self.tabs:

            def tab(layer: str, resistance: float):
                thickness_m = (
                    cell[
                        {
                            tags.POSITIVE_CC: "positive_current_collector",
                            tags.NEGATIVE_CC: "negative_current_collector",
                        }[layer]
                    ]["thickness_um"]
                    * 1e-6
                )
                return dx(names[layer]), MESH_UNIT_M / (resistance * thickness_m)

            (conn_pos, g_pos), (conn_neg, g_neg) = (
                tab(tags.POSITIVE_CC, series_resistance),
                tab(tags.NEGATIVE_CC, GROUND_RESISTANCE_OHM_M2),
            )
            footprint = ds(fnames[tags.BOTTOM])
        else:
            conn_pos, g_pos = ds(fnames[tags.POSITIVE_TERMINAL]), 1.0 / series_resistance
            conn_neg, g_neg = ds(fnames[tags.NEGATIVE_TERMINAL]), 1.0 / GROUND_RESISTANCE_OHM_M2
            footprint = conn_pos
        ds_neg_terminal = conn_neg
        self.terminal_area = comm.allreduce(fem.assemble_scalar(fem.form(1.0 * footprint)))

        # -- material laws at the cell temperature (restricted to a side on interior facets); with
        #    lagged coupling the electrochemistry sees a temperature extrapolated from the previous
        #    steps (set by the time stepper), not the unknown
        T = self.temperature
        self.T_lagged = None
        if self.thermal.get("coupling") == "lagged" and self.temperature_rise is not None:
            self.T_lagged = fem.Function(self.temperature_rise.function_space)
            T = self.T0 + self.T_lagged
        T_face = T("+") if self.temperature_rise is not None else T
        sigma_e = arrhenius(ely["conductivity_S_m"], ely["conductivity_activation_energy_J_mol"], T, t_ref)
        D = pos["diffusivity_m2_s"]  # a number, or a user law D(theta, T) in UFL, m2/s
        D = D(self.theta, T) if callable(D) else arrhenius(D, pos["diffusivity_activation_energy_J_mol"], T, t_ref)
        c_max = pos["max_concentration_mol_m3"]
        self.ocp = OCP_FUNCTIONS[pos["ocp"]]

        # -- positive interface: Butler-Volmer, electrolyte on "+", electrode on "-"
        theta_surf = self.theta("-")
        alpha_a, alpha_c = pos["transfer_coefficient"], pos["cathodic_transfer_coefficient"]
        i0_half = arrhenius(
            pos["exchange_current_A_m2"], pos["exchange_current_activation_energy_J_mol"], T_face, t_ref
        )
        i0_pos = EXCHANGE_CURRENT_LAWS[pos["exchange_current_law"]](i0_half, theta_surf, alpha_a, alpha_c)
        phi_s_pos = self.psi_pos("-") + self.voltage("-")
        eta_pos = phi_s_pos - self.phi_e("+") - self.ocp(theta_surf)
        j_pos = interface_current("positive", pos, i0_pos, eta_pos, alpha_a, alpha_c, T_face)

        # -- negative interface: Li metal (U = 0); a meshed layer, or the negative terminal itself
        T_neg = T_face if self.has_negative else T
        i0_neg = arrhenius(neg["exchange_current_A_m2"], neg["exchange_current_activation_energy_J_mol"], T_neg, t_ref)
        if self.has_negative:
            dS_neg = dS(fnames[tags.NEGATIVE_INTERFACE])
            phi_e_neg, phi_s_neg, v_e_neg = self.phi_e("+"), self.psi_neg("-"), v_e("+")
        else:
            dS_neg = ds_neg_terminal
            phi_e_neg, phi_s_neg, v_e_neg = self.phi_e, 0.0, v_e
        # The mechanical shift of Li's equilibrium potential (V, 0 unless the mechanics feeds back:
        # set by ssbfem.mechanics.CellMechanics from its latest solve): eta = phi_s - phi_e - dU_mech.
        self.mechanical_shift_negative = c(0.0)
        eta_neg = phi_s_neg - phi_e_neg - self.mechanical_shift_negative
        alphas_neg = neg["transfer_coefficient"], neg["cathodic_transfer_coefficient"]
        j_neg = interface_current("negative", neg, i0_neg, eta_neg, *alphas_neg, T_neg)
        self.eta_pos, self.j_pos, self.eta_neg, self.j_neg = eta_pos, j_pos, eta_neg, j_neg

        # -- capacitive currents (optional): each interface's double layer, i_dl = C_dl d(phi_s -
        #    phi_e)/dt (A/m2, anodic positive, Pang et al. 2021 eq. 15), in parallel with the
        #    charge transfer: the charge balances see j + i_dl, the lithium balance j alone. With
        #    them the electrolyte carries the displacement current -eps d(grad phi_e)/dt, whose
        #    geometric capacitance eps/L gives the bulk arc of an impedance spectrum.
        self.capacitive = max(pos["double_layer_F_m2"], neg["double_layer_F_m2"]) > 0.0
        # time-dependent unknowns: (u, u at t_n, u at t_n-1, what its error tolerance is on)
        self.dynamic = [(self.theta, self.theta_n, self.theta_nm1, "stoichiometry")]
        i_dl_pos = i_dl_neg = 0.0
        displacement = 0
        if self.capacitive:
            rate = self._potential_rates()
            rate_phi_s_pos = rate[self.psi_pos]("-") + rate[self.voltage]("-")
            i_dl_pos = pos["double_layer_F_m2"] * (rate_phi_s_pos - rate[self.phi_e]("+"))
            if self.has_negative:
                i_dl_neg = neg["double_layer_F_m2"] * (rate[self.psi_neg]("-") - rate[self.phi_e]("+"))
            else:
                i_dl_neg = -neg["double_layer_F_m2"] * rate[self.phi_e]
            permittivity = ely.get("relative_permittivity")
            if permittivity is None:
                raise InputError(
                    "cell.electrolyte.relative_permittivity", "required with a double layer (displacement current)"
                )
            displacement = ohmic_conduction(
                rate[self.phi_e], v_e, permittivity * VACUUM_PERMITTIVITY, dx(names[tags.ELECTROLYTE])
            )
        self.i_dl_pos, self.i_dl_neg = i_dl_pos, i_dl_neg

        # -- electrolyte: charge conservation; the interface currents enter it
        F_e = ohmic_conduction(self.phi_e, v_e, sigma_e, dx(names[tags.ELECTROLYTE])) + displacement
        F_e -= (j_pos + i_dl_pos) * v_e("+") * dS_pos + (j_neg + i_dl_neg) * v_e_neg * dS_neg

        # -- positive conductors: charge conservation; interface and terminal currents leave
        F_p = self._conduction(self.psi_pos, v_p, (tags.POSITIVE, tags.POSITIVE_CC), dx)
        F_p += (j_pos + i_dl_pos) * v_p("-") * dS_pos
        self.current_out = g_pos * self.psi_pos
        F_p += self.current_out * v_p * conn_pos

        # -- positive electrode: Fickian diffusion of Li, fed by the interface current
        bdf = self.bdf
        theta_rate = self.inv_dt * (bdf[0] * self.theta + bdf[1] * self.theta_n + bdf[2] * self.theta_nm1)
        F_theta = fickian_diffusion(theta_rate, self.theta, w, D, c_max, dx(names[tags.POSITIVE]))
        F_theta += j_pos * w("-") * dS_pos

        # -- external circuit
        F_v = control_law(
            self.current_out, self.voltage, w_v, conn_pos, footprint, self.terminal_area, self.mode, self.setpoint
        )
        self.residuals = [F_e, F_p, F_theta, F_v]

        # -- negative conductors (Li and its collector): charge conservation, grounded terminal
        if self.has_negative:
            v_n = tests[4]
            F_n = self._conduction(self.psi_neg, v_n, (tags.NEGATIVE, tags.NEGATIVE_CC), dx)
            F_n += (j_neg + i_dl_neg) * v_n("-") * dS_neg
            F_n += g_neg * self.psi_neg * v_n * conn_neg
            self.residuals.append(F_n)

        # -- electronic leakage through the electrolyte (optional): electrons conduct from the
        #    negative to the positive conductor, a self-discharge in parallel with the ions.
        self.leakage = ely.get("electronic_conductivity_S_m", 0.0) > 0.0
        if self.leakage:
            self._add_leakage(ely, dx, dS_pos, dS_neg, v_p, phi_s_pos)

        self.bcs: list = []
        self.heat_forms: dict[str, fem.Form] = {}
        if thermal_model != "isothermal":
            contact = g_pos * self.psi_pos**2 * conn_pos
            if self.has_negative:
                contact += g_neg * self.psi_neg**2 * conn_neg
            self._add_heat(dx, ds, dS_pos, dS_neg, sigma_e, theta_surf, contact)

        # -- scalar outputs (per m2 of footprint)
        form = lambda e: fem.form(e, entity_maps=self.entity_maps)
        self._current_form = form(self.current_out / self.terminal_area * conn_pos)
        self._lithium_form = form(self.theta * dx(names[tags.POSITIVE]))
        self._volume = comm.allreduce(fem.assemble_scalar(form(1.0 * dx(names[tags.POSITIVE]))))
        self.lithium_scale = c_max * MESH_UNIT_M / self.terminal_area  # mol/m2 per unit of int(theta)
        self.max_concentration = c_max

        # Interface means for the voltage breakdown, all with one quadrature rule so that the
        # terms telescope to the cell voltage exactly (see voltage_breakdown).
        dS_pos_q = dS(fnames[tags.POSITIVE_INTERFACE], metadata=interface_rule)
        dS_neg_q = (
            dS(fnames[tags.NEGATIVE_INTERFACE], metadata=interface_rule) if self.has_negative else ds_neg_terminal
        )
        psi_neg = self.psi_neg("-") if self.has_negative else 0.0
        area = lambda measure: comm.allreduce(fem.assemble_scalar(form(1.0 * measure)))
        self._interface_area = area(dS_pos_q)
        negative_area = area(dS_neg_q)
        self._breakdown_forms = {
            name: (form(integrand * measure), a)
            for name, integrand, measure, a in (
                ("surface_ocp", self.ocp(theta_surf), dS_pos_q, self._interface_area),
                ("surface_stoichiometry", theta_surf, dS_pos_q, self._interface_area),
                ("eta_pos", eta_pos, dS_pos_q, self._interface_area),
                ("psi_pos", self.psi_pos("-"), dS_pos_q, self._interface_area),
                ("phi_e_pos", self.phi_e("+"), dS_pos_q, self._interface_area),
                ("phi_e_neg", phi_e_neg, dS_neg_q, negative_area),
                ("eta_neg", eta_neg, dS_neg_q, negative_area),
                ("psi_neg", psi_neg + 0.0 * phi_e_neg, dS_neg_q, negative_area),
            )
        }

    def _add_heat(self, dx, ds, dS_pos, dS_neg, sigma_e, theta_surf, contact) -> None:
        """Energy balance of the whole stack (temperature on the parent mesh, or lumped).

        Sources: Joule heat in the electrolyte and every electronic conductor; at each interface
        the irreversible heat j eta and the reversible heat j T dU/dT; the terminal contacts'
        I^2 R. Boundaries: convection, radiation, a given flux, a fixed temperature (full model
        only); any other boundary is insulated (symmetry). The heat removed is what leaves
        through all of them, a fixed temperature's as the reaction of the balance (see
        :meth:`_dirichlet_reaction`), so that generated - stored - removed = 0.
        """
        T, rise, cm = self.temperature, self.temperature_rise, self.cellmesh
        names, dim = cm.cell_names, cm.dimension
        lumped = self.thermal["model"] == "lumped"
        self.unknowns.append(rise)
        self.dynamic.append((rise, self.T_n, self.T_nm1, "temperature"))
        w = ufl.TestFunction(rise.function_space)
        bdf = self.bdf
        rate = self.inv_dt * (bdf[0] * rise + bdf[1] * self.T_n + bdf[2] * self.T_nm1)
        F_T = 0
        for layer in tags.LAYER_ORDER:
            if layer not in names:
                continue
            props = self.layer_section(layer)
            k = heat.conductivity_tensor(
                props["thermal_conductivity_W_m_K"],
                props.get("thermal_conductivity_in_plane_W_m_K") or props["thermal_conductivity_W_m_K"],
                dim,
            )
            rho_cp = props["density_kg_m3"] * props["heat_capacity_J_kg_K"]
            F_T += heat.heat_balance(rate, T, w, rho_cp, k, dx(names[layer]), conduct=not lumped)
        # sources (W per mesh-unit area); each also kept as an output form
        joule_e = heat.joule_heat(sigma_e, self.phi_e) * dx(names[tags.ELECTROLYTE])
        if self.leakage:
            joule_e += heat.joule_heat(self.cell["electrolyte"]["electronic_conductivity_S_m"], self.phi_leak) * dx(
                names[tags.ELECTROLYTE]
            )
        conductors = [(self.psi_pos, (tags.POSITIVE, tags.POSITIVE_CC))]
        if self.has_negative:
            conductors.append((self.psi_neg, (tags.NEGATIVE, tags.NEGATIVE_CC)))
        joule_s = sum(
            heat.joule_heat(self._electronic_conductivity(layer), psi) * dx(names[layer])
            for psi, layers in conductors
            for layer in layers
            if layer in names
        )
        dU_dT = ENTROPIC_COEFFICIENTS[self.cell["positive"]["entropic_coefficient"]]
        irreversible = (
            heat.reaction_heat(self.j_pos, self.eta_pos) * dS_pos
            + heat.reaction_heat(self.j_neg, self.eta_neg) * dS_neg
        )
        reversible = heat.reversible_heat(self.j_pos, T("+"), dU_dT(theta_surf)) * dS_pos
        sources = {"joule": joule_e + joule_s + contact, "reaction": irreversible, "reversible": reversible}
        w_face = w("+")
        for integral in sources.values():
            F_T -= self._weighted(integral, w, w_face)
        natural, lost, fixed_dofs = self._heat_boundaries(ds, w)
        F_T += natural
        self.residuals.append(HEAT_ROW_SCALE * F_T)
        form = lambda e: fem.form(e, entity_maps=self.entity_maps)
        self.heat_forms = {name: form(integral) for name, integral in sources.items()}
        if fixed_dofs is not None:  # decided by the config, the same on every rank
            reaction = self._dirichlet_reaction(F_T, w, fixed_dofs)
            lost = -reaction if lost == 0 else lost - reaction
        if lost != 0:
            self.heat_forms["removed"] = form(lost)
        stored = sum(
            self.layer_section(layer)["density_kg_m3"]
            * self.layer_section(layer)["heat_capacity_J_kg_K"]
            * MESH_UNIT_M
            * rise
            * dx(names[layer])
            for layer in tags.LAYER_ORDER
            if layer in names
        )
        self.heat_forms["stored"] = form(stored)
        # The simulated domain's cross-section, m2 (1 m2 for a 1D mesh): heat in W is integrated over it.
        self.domain_area_m2 = self.terminal_area * MESH_UNIT_M ** (dim - 1) if dim > 1 else 1.0
        total_volume = self.cellmesh.mesh.comm.allreduce(fem.assemble_scalar(fem.form(1.0 * dx)))
        self.stack_thickness_m = total_volume / self.terminal_area * MESH_UNIT_M
        self._temperature_mean = form(rise / total_volume * dx)

    def _heat_boundaries(self, ds: ufl.Measure, w) -> tuple[ufl.Form | int, ufl.Form | int, np.ndarray | None]:
        """The thermal boundary conditions: (their terms of the energy residual, the heat leaving
        through convection, radiation and flux boundaries as a form, this rank's dofs of the fixed
        temperatures or None without any). A fixed temperature becomes a Dirichlet condition in
        ``self.bcs`` (full model only; allowed on an interface, a thermostat inside the stack); the
        others integrate q_out (W/m2, outwards) with ds, so they must name a boundary."""
        th, T, rise, cm = self.thermal, self.temperature, self.temperature_rise, self.cellmesh
        fnames, dim = cm.facet_names, cm.dimension
        natural, lost, fixed = 0, 0, []
        for name, bc in th["boundaries"].items():
            key = f"thermal.boundaries.{name}"
            if name not in fnames:
                raise InputError(key, f"the mesh has no boundary {name!r}; it has {sorted(fnames)}")
            if bc["type"] == "fixed":
                if th["model"] == "lumped":
                    raise InputError(key, "a fixed temperature needs the full thermal model")
                space = rise.function_space
                dofs = fem.locate_dofs_topological(space, dim - 1, cm.facets(name))
                self.bcs.append(
                    fem.dirichletbc(dolfinx.default_scalar_type(bc["temperature_K"] - self.T0), dofs, space)
                )
                fixed.append(dofs)
                continue
            cm.require_boundary(name, key)  # ds over an interface would silently remove nothing
            q_out = heat.boundary_heat(bc, T, bc.get("ambient_K", th["ambient_K"]))
            lost += q_out * ds(fnames[name])
            natural += q_out * w * ds(fnames[name])
        return natural, lost, np.unique(np.concatenate(fixed)) if fixed else None

    def _dirichlet_reaction(self, F_T: ufl.Form, w, dofs: np.ndarray) -> ufl.Form:
        """Heat flowing into the stack through its fixed temperatures, as a form (W per mesh-unit
        area): the reaction of the energy balance at the constrained dofs.

        The discrete balance holds for every test function but those of the constrained dofs,
        and the test functions sum to 1, so F_T(w = 1) = F_T(w = chi), chi = 1 at the constrained
        dofs and 0 elsewhere. F_T(1) = stored rate - generated + heat leaving through the other
        boundaries, hence the heat the fixed temperatures take out is -F_T(chi): the residual-based
        ("consistent") boundary flux. Unlike the flux k grad T . n of the discrete field, it is
        evaluated with the same quadrature and BDF rate as the residual, so the energy balance
        closes to the Newton tolerance; and it also holds for a temperature fixed on an interface.
        """
        chi = fem.Function(self.temperature_rise.function_space)
        chi.x.array[dofs] = 1.0  # dofs include this rank's ghost copies of every constrained dof
        chi.x.scatter_forward()
        self._fixed_indicator = chi  # the form refers to it
        return ufl.replace(F_T, {w: chi})

    def _potential_rates(self) -> dict:
        """d/dt of the potentials (V/s) by the time stepper's formula; registers them as dynamic.

        Returns unknown -> UFL rate for phi_e, psi_pos, the voltage and psi_neg.
        """
        rates = {}
        potentials = [self.phi_e, self.psi_pos, self.voltage] + ([self.psi_neg] if self.has_negative else [])
        for u in potentials:
            u_n, u_nm1 = fem.Function(u.function_space), fem.Function(u.function_space)
            self.dynamic.append((u, u_n, u_nm1, "potential"))
            rates[u] = self.inv_dt * (self.bdf[0] * u + self.bdf[1] * u_n + self.bdf[2] * u_nm1)
        return rates

    @staticmethod
    def _weighted(integral: ufl.Form, w, w_face) -> ufl.Form:
        """The source integral tested with w (w("+") on interior facets)."""
        out = 0
        for itg in integral.integrals():
            weight = w_face if itg.integral_type() == "interior_facet" else w
            out += ufl.Form([itg.reconstruct(integrand=itg.integrand() * weight)])
        return out

    def _add_leakage(self, ely: dict, dx, dS_pos, dS_neg, v_p, phi_s_pos) -> None:
        """Electron potential phi_leak (V) in the electrolyte, -div(sigma_leak grad phi_leak) = 0.

        It joins each electrode through an ohmic contact of conductance G_c (S/m2): the
        electron current density entering the electrolyte there is G_c (phi_s - phi_leak).
        """
        self.phi_leak = fem.Function(self.phi_e.function_space, name="phi_leak")
        self.unknowns.append(self.phi_leak)
        v_l = ufl.TestFunction(self.phi_leak.function_space)
        sigma = ely["electronic_conductivity_S_m"]
        F_l = ohmic_conduction(self.phi_leak, v_l, sigma, dx(self.cellmesh.cell_names[tags.ELECTROLYTE]))
        into_pos = LEAKAGE_CONTACT_S_M2 * (self.phi_leak("+") - phi_s_pos)  # electron current, electrolyte -> positive
        F_l += into_pos * v_l("+") * dS_pos
        self.residuals[self.unknowns.index(self.psi_pos)] -= into_pos * v_p("-") * dS_pos
        if self.has_negative:
            into_neg = LEAKAGE_CONTACT_S_M2 * (self.phi_leak("+") - self.psi_neg("-"))
            F_l += into_neg * v_l("+") * dS_neg
            v_n = ufl.TestFunction(self.psi_neg.function_space)
            self.residuals[self.unknowns.index(self.psi_neg)] -= into_neg * v_n("-") * dS_neg
        else:
            F_l += LEAKAGE_CONTACT_S_M2 * self.phi_leak * v_l * dS_neg
        self.residuals.append(F_l)

    def _conduction(self, psi, v, layers, dx) -> ufl.Form:
        names = self.cellmesh.cell_names
        return sum(
            ohmic_conduction(psi, v, self._electronic_conductivity(layer), dx(names[layer]))
            for layer in layers
            if layer in names
        )

    def layer_section(self, layer: str) -> dict:
        """The config section of a layer."""
        return self.cell[
            {
                tags.NEGATIVE_CC: "negative_current_collector",
                tags.NEGATIVE: "negative",
                tags.ELECTROLYTE: "electrolyte",
                tags.POSITIVE: "positive",
                tags.POSITIVE_CC: "positive_current_collector",
            }[layer]
        ]

    def _electronic_conductivity(self, layer: str):
        return self.layer_section(layer)["electronic_conductivity_S_m"]

    def cells_in(self, space: fem.FunctionSpace, cells: np.ndarray) -> np.ndarray:
        """The cells of `space`'s mesh that are `cells` of the cell mesh (-1 where it has none)."""
        for sub in self.submeshes:
            if space.mesh is sub.mesh:
                return sub.entity_map.sub_topology_to_topology(np.ascontiguousarray(cells), inverse=True)
        return cells

    # -- state
    def set_initial_state(self) -> None:
        """Rest at the initial stoichiometry: no current, phi_e = 0, V = U(x0)."""
        if self.temperature_rise is not None:
            for f in (self.temperature_rise, self.T_n, self.T_nm1, self.T_lagged or self.T_n):
                f.x.array[:] = 0.0
        self.set_equilibrium(self.cell["positive"]["initial_stoichiometry"])

    def set_equilibrium(self, stoichiometry: float) -> None:
        """Open-circuit equilibrium at a uniform stoichiometry: phi_e = 0 (the Li side is ground),
        phi_s = V = U(x) in the positive; the temperature is kept."""
        for f in self.unknowns:
            if f is not self.temperature_rise:
                f.x.array[:] = 0.0
        for f in (self.theta, self.theta_n, self.theta_nm1):
            f.x.array[:] = stoichiometry
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
        return self.cellmesh.mesh.comm.allreduce(fem.assemble_scalar(form))

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
        comm, rise = self.cellmesh.mesh.comm, self.temperature_rise.x.array
        return {
            "temperature_min_K": self.T0 + comm.allreduce(rise.min(initial=np.inf), op=MPI.MIN),
            "temperature_mean_K": self.T0 + self._sum(self._temperature_mean),
            "temperature_max_K": self.T0 + comm.allreduce(rise.max(initial=-np.inf), op=MPI.MAX),
        }

    def heat(self) -> dict[str, float]:
        """Heat sources (joule: electrolyte, electrodes, contacts; reaction: irreversible j eta;
        reversible: j T dU/dT), heat removed through the boundaries (W per m2 of footprint) and
        heat stored since the start (stored, J/m2); empty for an isothermal cell."""
        return {name: self._sum(f) / self.terminal_area for name, f in self.heat_forms.items()}

    def mean_stoichiometry(self) -> float:
        """Mean stoichiometry of the positive electrode."""
        return self._sum(self._lithium_form) / self._volume

    def interface_means(self) -> dict[str, float]:
        """Means over the interfaces: surface OCP and stoichiometry, overpotentials, potentials."""
        return {name: self._sum(f) / a for name, (f, a) in self._breakdown_forms.items()}

    def double_layer_charge(self, means: dict[str, float]) -> float:
        """Charge on the electrode side of the positive double layer, C per m2 of footprint: the
        charge passed equals F times the lithium inserted minus its change."""
        drop = means["psi_pos"] + self.cell_voltage() - means["phi_e_pos"]
        return self.cell["positive"]["double_layer_F_m2"] * drop * self._interface_area / self.terminal_area

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
        u_mean = float(self.ocp(self.mean_stoichiometry(), np))
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
