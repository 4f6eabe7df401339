"""A physics block: one piece of the cell's physics on named fields.

A block runs in three passes over the model's block list, so that any block may use what any
other publishes:

1. ``declare(model)``: the fields it owns (``model.fields.add``) and which change in time;
2. ``quantities(model)``: UFL expressions it publishes in ``model.q`` by name (an interface's
   current ``"j:positive"``, its overpotential ``"eta:positive"``, ...);
3. ``residual(model)``: its named terms, each added to the row of the field whose test function
   it carries (``model.residual.add("phi_e", "charge_transfer:positive", form)``).

With a thermal model, :class:`ssbfem.blocks.heat.ThermalBalance` also asks every block for the
heat its physics releases (``heat_sources(model)``: integrals by kind, ``"joule"``, ``"reaction"``
or ``"reversible"``), so that a model's blocks define its heat sources as they define its residual.

Its docstring states the equation, the units and the sign convention.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ufl

if TYPE_CHECKING:
    from ssbfem.model import CellModel


class Block:
    """Base class: every pass does nothing unless the block has something to add."""

    def declare(self, model: CellModel) -> None:
        """Declare the fields this block owns."""

    def quantities(self, model: CellModel) -> None:
        """Publish expressions in ``model.q``."""

    def residual(self, model: CellModel) -> None:
        """Add named residual terms to ``model.residual``."""

    def heat_sources(self, model: CellModel) -> dict[str, ufl.Form]:
        """Heat released by this block's physics, by kind (``"joule"``, ``"reaction"``,
        ``"reversible"``), each an integral in W per mesh-unit area; none by default. Called in
        the residual pass, when every block has published its quantities."""
        return {}
