"""The external circuit: the cell voltage, the terminal connections and the control law.

Each terminal is joined to its external conductor through an area-specific resistance; the
current density leaving the positive conductor there is g psi_pos (A/m2, g = 1/R_s, positive on
discharge), the negative side is grounded through a negligible resistance. The cell voltage V
(one global unknown, V) obeys the control law of :mod:`ssbfem.physics.terminal` (current,
voltage or power, chosen by Constants so that no form is recompiled between steps).
Heat: the terminal contacts' Joule heat I^2 R = g psi^2 (W/m2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.blocks.base import Block
from ssbfem.geometry import tags
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.physics.terminal import control_law

if TYPE_CHECKING:
    from ssbfem.model import CellModel

fem = dolfinx.fem

#: Resistance joining the negative terminal to ground, ohm m2: the terminal is equipotential
#: to within I * this value (2e-9 V at 20 A/m2).
GROUND_RESISTANCE_OHM_M2 = 1.0e-10


@dataclass
class Connections:
    """Where each side meets the external circuit and with what conductance.

    positive, negative: the terminal faces (single cell), or every collector's volume (a stack's
    tabs); g_*: conductance per area there (S/m2, or per m2 and mesh-unit thickness of a tab);
    footprint: a measure of the cell's footprint, of area ``area`` in mesh units.
    """

    positive: ufl.Measure
    g_positive: float
    negative: ufl.Measure
    g_negative: float
    footprint: ufl.Measure
    area: float


def connections(model: CellModel) -> Connections:
    """The connections of a single cell (its outer faces) or a stack (tabs on every collector)."""
    cell, m = model.cell, model.measures
    series_resistance = cell.series_resistance_ohm_cm2 * 1e-4
    if model.tabs:

        def tab(layer: str, resistance: float) -> tuple[ufl.Measure, float]:
            thickness_m = model.layer_section(layer).thickness_um * 1e-6
            return m.dx(layer), MESH_UNIT_M / (resistance * thickness_m)

        pos, g_pos = tab(tags.POSITIVE_CC, series_resistance)
        neg, g_neg = tab(tags.NEGATIVE_CC, GROUND_RESISTANCE_OHM_M2)
        footprint = m.ds(tags.BOTTOM)
    else:
        pos, g_pos = m.ds(tags.POSITIVE_TERMINAL), 1.0 / series_resistance
        neg, g_neg = m.ds(tags.NEGATIVE_TERMINAL), 1.0 / GROUND_RESISTANCE_OHM_M2
        footprint = pos
    comm = model.cellmesh.mesh.comm
    area = comm.allreduce(fem.assemble_scalar(fem.form(1.0 * footprint)))
    return Connections(pos, g_pos, neg, g_neg, footprint, area)


class ExternalCircuit(Block):
    """Cell voltage ``voltage`` (V) and the currents through the terminals.

    Publishes ``q["current_out"]`` = g psi_pos, the current density leaving the positive
    conductor where it is connected (A/m2, positive on discharge).
    """

    def declare(self, model: CellModel) -> None:
        model.fields.add("voltage", fem.Function(model.fields.real(), name="voltage"))

    def quantities(self, model: CellModel) -> None:
        model.q["current_out"] = model.connections.g_positive * model.fields["psi_pos"].u

    def residual(self, model: CellModel) -> None:
        c, fields, out = model.connections, model.fields, model.q["current_out"]
        model.residual.add("psi_pos", "terminal", out * fields["psi_pos"].v * c.positive)
        if "psi_neg" in fields:
            psi_neg = fields["psi_neg"]
            model.residual.add("psi_neg", "ground", c.g_negative * psi_neg.u * psi_neg.v * c.negative)
        voltage = fields["voltage"]
        law = control_law(out, voltage.u, voltage.v, c.positive, c.footprint, c.area, model.mode, model.setpoint)
        model.residual.add("voltage", "control", law)

    def heat_sources(self, model: CellModel) -> dict[str, ufl.Form]:
        """The terminal contacts' I^2 R."""
        c, fields = model.connections, model.fields
        joule = c.g_positive * fields["psi_pos"].u ** 2 * c.positive
        if "psi_neg" in fields:
            joule += c.g_negative * fields["psi_neg"].u ** 2 * c.negative
        return {"joule": joule}
