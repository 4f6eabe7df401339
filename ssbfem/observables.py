"""Observables: named columns of the time series, computed from the model at every row.

An observable is one integral of the model's fields and published quantities over a measure,
assembled and MPI-reduced by the package, then either kept (``reduce="integral"``) or divided
by the measure's size (``reduce="mean"``), and optionally passed through ``then``::

    eta_rms = Observable(
        "eta_positive_rms_V",
        integrand=lambda m: m.q["eta:positive"] ** 2,
        where=lambda m: interface(m, "positive").measure,
        then=math.sqrt,
    )
    run(cfg, observables=[eta_rms])   # a column "eta_positive_rms_V" in timeseries.csv

Its forms are compiled once, when the run starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import ufl

from ssbfem._dolfinx import dolfinx

if TYPE_CHECKING:
    from ssbfem.model_interface import Model

fem = dolfinx.fem


@dataclass(frozen=True)
class Observable:
    """A time-series column.

    Attributes:
        name: The column's name, with its unit (``eta_positive_rms_V``).
        integrand: The model -> a UFL expression (restricted to a side on interior facets).
        where: The model -> the measure to integrate over.
        reduce: "mean" (the integral over the measure's size) or "integral".
        then: Applied to the reduced value (e.g. ``math.sqrt`` for a root mean square).
    """

    name: str
    integrand: Callable[[Model], ufl.core.expr.Expr]
    where: Callable[[Model], ufl.Measure]
    reduce: Literal["mean", "integral"] = "mean"
    then: Callable[[float], float] | None = None

    def bind(self, model: Model) -> Callable[[], float]:
        """Compile the forms on `model`; the returned function evaluates the column."""
        if self.reduce not in ("mean", "integral"):
            raise ValueError(f"observable {self.name!r}: reduce must be 'mean' or 'integral', got {self.reduce!r}")
        measure = self.where(model)
        comm = model.cellmesh.mesh.comm
        compile_ = lambda e: fem.form(e, entity_maps=model.entity_maps)
        value_form = compile_(self.integrand(model) * measure)
        size = comm.allreduce(fem.assemble_scalar(compile_(1.0 * measure))) if self.reduce == "mean" else 1.0

        def evaluate() -> float:
            value = comm.allreduce(fem.assemble_scalar(value_form)) / size
            return float(self.then(value) if self.then is not None else value)

        return evaluate
