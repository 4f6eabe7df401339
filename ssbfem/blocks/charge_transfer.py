"""Charge transfer at the electrode|electrolyte interfaces.

Equation: j = f(i0, eta, alpha_a, alpha_c, T) (A/m2, anodic positive: on discharge the positive
interface is cathodic, j < 0), f a law of :data:`ssbfem.physics.kinetics.KINETICS_LAWS`
(Butler-Volmer by default) with the contact factor scaling i0 and an interphase film in series.
The overpotential is eta = phi_s - phi_e - U (V): U the positive's open-circuit potential at its
surface stoichiometry, and for Li metal 0, or its mechanical shift. j leaves the electrolyte and
enters the electrode as a current density; on the positive it also removes j/F of lithium per
area (an anodic current delithiates).

Heat (W/m2): the irreversible heat j eta (j and eta share their sign, so it is never negative)
and, on the positive, the reversible heat j T dU/dT (the entropic coefficient
``cell.positive.entropic_coefficient``; anodic j with dU/dT > 0 releases heat); Li's entropy is
not counted.

The positive interface is the facet group between the electrolyte ("+") and the electrode
("-"). The negative one is the Li interface of a meshed Li layer, or else the negative terminal
itself, where phi_s = 0 (ground).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import ufl

from ssbfem.blocks.base import Block
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.materials.ocp import ENTROPIC_COEFFICIENTS
from ssbfem.materials.property import evaluate
from ssbfem.physics import heat
from ssbfem.physics.kinetics import EXCHANGE_CURRENT_LAWS, KINETICS_LAWS, with_film_resistance

if TYPE_CHECKING:
    from ssbfem.model import CellModel
    from ssbfem.settings.layers import Interface as InterfaceSettings


def interface_current(side: str, section: InterfaceSettings, i0, eta, alpha_anodic, alpha_cathodic, temperature):
    """Charge-transfer current density at an electrode's interface (A/m2, anodic positive): its
    kinetics law with the contact factor gamma_c scaling i0 (a partly lost contact, Pang et al.
    2021) and, with an interphase film, that film's resistance in series."""
    law, parameters = KINETICS_LAWS[section.kinetics], section.kinetics_parameters
    i0 = section.contact_factor * i0

    def current(x):
        try:
            return law(i0, x, alpha_anodic, alpha_cathodic, temperature, **parameters)
        except TypeError as exc:
            raise InputError(f"cell.{side}.kinetics_parameters", f"{section.kinetics}: {exc}") from None

    film = section.film_resistance_ohm_cm2 * 1e-4
    return current(eta) if film == 0.0 else with_film_resistance(current, eta, film)


@dataclass
class Interface:
    """Where an interface is integrated and how its two sides are read.

    electrolyte, electrode: restrict an expression to the electrolyte's or the electrode's side
    (identity on the unmeshed Li terminal, a boundary).
    """

    measure: ufl.Measure
    meshed: bool

    def electrolyte(self, expr):
        return expr("+") if self.meshed else expr

    def electrode(self, expr):
        return expr("-") if self.meshed else expr


def interface(model: CellModel, side: str) -> Interface:
    """The positive interface, or the negative one (the Li interface, or the negative terminal)."""
    if side == "positive":
        return Interface(model.measures.dS(tags.POSITIVE_INTERFACE), True)
    if model.has_negative:
        return Interface(model.measures.dS(tags.NEGATIVE_INTERFACE), True)
    return Interface(model.connections.negative, False)


class ChargeTransfer(Block):
    """Publishes ``j:<side>``, ``eta:<side>`` and ``i0:<side>`` (A/m2, V, A/m2), and on the
    positive side ``theta_surface``; adds the current to the electrolyte's, the electrode's and
    (positive) the lithium balance."""

    def __init__(self, side: str):
        self.side = side

    def quantities(self, model: CellModel) -> None:
        section, fields, q = getattr(model.cell, self.side), model.fields, model.q
        where = interface(model, self.side)
        T = q["T_face"] if where.meshed else q["T"]
        positive = self.side == "positive"
        theta_surface = where.electrode(fields["theta"].u) if positive else None
        i0 = evaluate(  # at the interface: the face's temperature, the surface stoichiometry
            section.exchange_current_A_m2,
            T,
            model.cell.reference_temperature_K,
            stoichiometry=theta_surface,
            activation_energy_J_mol=section.exchange_current_activation_energy_J_mol,
            key=f"cell.{self.side}.exchange_current_A_m2",
        )
        alphas = section.transfer_coefficient, section.cathodic_transfer_coefficient
        phi_e = where.electrolyte(fields["phi_e"].u)
        if positive:
            i0 = EXCHANGE_CURRENT_LAWS[section.exchange_current_law](i0, theta_surface, *alphas)
            phi_s = where.electrode(fields["psi_pos"].u) + where.electrode(fields["voltage"].u)
            eta = phi_s - phi_e - model.ocp(theta_surface)
            q["theta_surface"] = theta_surface
        else:
            phi_s = where.electrode(fields["psi_neg"].u) if where.meshed else 0.0
            # the mechanical shift of Li's equilibrium potential (V; 0 unless the mechanics feeds back)
            eta = phi_s - phi_e - model.mechanical_shift_negative
        q[f"phi_s:{self.side}"] = phi_s
        q[f"i0:{self.side}"] = i0
        q[f"eta:{self.side}"] = eta
        q[f"j:{self.side}"] = interface_current(self.side, section, i0, eta, *alphas, T)

    def residual(self, model: CellModel) -> None:
        fields, where, j = model.fields, interface(model, self.side), model.q[f"j:{self.side}"]
        term = f"charge_transfer:{self.side}"
        model.residual.add("phi_e", term, -j * where.electrolyte(fields["phi_e"].v) * where.measure)
        if self.side == "positive":
            model.residual.add("psi_pos", term, j * where.electrode(fields["psi_pos"].v) * where.measure)
            model.residual.add("theta", term, j * where.electrode(fields["theta"].v) * where.measure)
        elif where.meshed:
            model.residual.add("psi_neg", term, j * where.electrode(fields["psi_neg"].v) * where.measure)

    def heat_sources(self, model: CellModel) -> dict[str, ufl.Form]:
        """Irreversible heat j eta at the interface; on the positive also the reversible j T dU/dT."""
        q, where = model.q, interface(model, self.side)
        j = q[f"j:{self.side}"]
        sources = {"reaction": heat.reaction_heat(j, q[f"eta:{self.side}"]) * where.measure}
        if self.side == "positive":
            dU_dT = ENTROPIC_COEFFICIENTS[model.cell.positive.entropic_coefficient]
            T = where.electrolyte(model.temperature)
            sources["reversible"] = heat.reversible_heat(j, T, dU_dT(q["theta_surface"])) * where.measure
        return sources
