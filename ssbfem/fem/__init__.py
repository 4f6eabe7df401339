"""Finite-element plumbing shared by the models: named fields, measures, named residual terms."""

from ssbfem.fem.fields import Field, Fields, Submesh, make_submesh
from ssbfem.fem.measures import Measures, interface_measure
from ssbfem.fem.residual import Residual

__all__ = ["Field", "Fields", "Measures", "Residual", "Submesh", "interface_measure", "make_submesh"]
