"""Names of the physical groups every ssbfem mesh carries.

A mesh is usable by ssbfem when its Gmsh physical groups carry these names; the integer
tags behind them are free. Layers are named by their role in the stack, interfaces by the
two layers they separate (``"a|b"``, in stacking order from negative to positive), and the
two outer faces through which current leaves the cell are the terminals.

Stacking direction is x (0 at the negative terminal); the in-plane directions are y and z.
A stack of N unit cells repeats the layers mirrored, so that neighbouring cells share a current
collector (same names throughout); its outer faces are ``bottom`` and ``top``.
Mesh coordinates are in micrometres.
"""

from __future__ import annotations

NEGATIVE_CC = "negative_current_collector"
NEGATIVE = "negative"
ELECTROLYTE = "electrolyte"
POSITIVE = "positive"
POSITIVE_CC = "positive_current_collector"

#: Layers in stacking order, negative terminal first.
LAYER_ORDER = (NEGATIVE_CC, NEGATIVE, ELECTROLYTE, POSITIVE, POSITIVE_CC)

#: The config section (``[cell.<section>]``) that describes each layer.
SECTION_OF_LAYER = {
    NEGATIVE_CC: "negative_current_collector",
    NEGATIVE: "negative",
    ELECTROLYTE: "electrolyte",
    POSITIVE: "positive",
    POSITIVE_CC: "positive_current_collector",
}

NEGATIVE_TERMINAL = "negative_terminal"
POSITIVE_TERMINAL = "positive_terminal"
LATERAL = "lateral"

#: Outer faces of a stack of unit cells (its collectors connect through tabs, not these faces).
BOTTOM = "bottom"
TOP = "top"

#: Interfaces at which charge transfer happens.
NEGATIVE_INTERFACE = f"{NEGATIVE}|{ELECTROLYTE}"
POSITIVE_INTERFACE = f"{ELECTROLYTE}|{POSITIVE}"

#: Facets between the positive electrode and the electrolyte that have lost contact (a gap): no
#: interface of the model, insulating for every field; a group of their own so that their area
#: can be reported (composite cathodes with ``cell.composite.contact_loss_fraction``).
DETACHED = "detached"

#: Length unit of mesh coordinates, m.
MESH_UNIT_M = 1.0e-6


def interface_name(first: str, second: str) -> str:
    """Name of the interface between two adjacent layers, in the order of LAYER_ORDER (so a
    mirrored unit cell of a stack gives the same names)."""
    a, b = sorted((first, second), key=LAYER_ORDER.index)
    return f"{a}|{b}"
