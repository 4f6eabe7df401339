"""A physics block: one piece of the cell's physics on named fields.

A block runs in three passes over the model's block list, so that any block may use what any
other publishes:

1. ``declare(model)``: the fields it owns (``model.fields.add``) and which change in time;
2. ``quantities(model)``: UFL expressions it publishes in ``model.q`` by name (an interface's
   current ``"j:positive"``, its overpotential ``"eta:positive"``, ...);
3. ``residual(model)``: its named terms, each added to the row of the field whose test function
   it carries (``model.residual.add("phi_e", "charge_transfer:positive", form)``).

Its docstring states the equation, the units and the sign convention.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
