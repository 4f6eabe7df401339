"""The residual of a model as named terms: for each field (its test function's row) a dict of
term name -> UFL form. Blocks add terms; a user may replace or remove one by name."""

from __future__ import annotations

import ufl


class Residual:
    """Named residual terms by field."""

    def __init__(self):
        self.terms: dict[str, dict[str, ufl.Form]] = {}
        self.row_scale: dict[str, float] = {}

    def add(self, field: str, term: str, form: ufl.Form) -> None:
        """Add the term `term` to the row of `field` (an error if the name is taken)."""
        row = self.terms.setdefault(field, {})
        if term in row:
            raise ValueError(f"residual term {term!r} of field {field!r} is added twice")
        row[term] = form

    def replace(self, field: str, term: str, form: ufl.Form) -> None:
        """Replace an existing term."""
        if term not in self.terms.get(field, {}):
            raise KeyError(f"field {field!r} has no residual term {term!r}; it has {list(self.terms.get(field, {}))}")
        self.terms[field][term] = form

    def remove(self, field: str, term: str) -> ufl.Form:
        """Remove a term and return it."""
        return self.terms[field].pop(term)

    def form(self, field: str) -> ufl.Form:
        """The row of `field`: the sum of its terms, times its scale."""
        row = self.terms.get(field)
        if not row:
            raise ValueError(f"no residual term tests field {field!r}")
        total = sum(row.values())
        scale = self.row_scale.get(field, 1.0)
        return total if scale == 1.0 else scale * total

    def forms(self, fields: list[str]) -> list[ufl.Form]:
        """The rows in the order of `fields` (the system's order)."""
        return [self.form(name) for name in fields]
