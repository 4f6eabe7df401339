"""Named unknowns: each field lives on the cells of its domain (a submesh of the cell mesh), on
the whole mesh, or is one global value (a Real space).

A field that changes in time has one history function; its rate is the time stepper's formula
d(u)/dt = inv_dt (a0 u + u_hist), u_hist = a1 u_n + ... + ak u_{n+1-k} (variable-step BDF of order
k = 1..5, whose coefficients and past values the stepper combines before every solve, so that no
form depends on the order), and its kind ("stoichiometry", "potential", "temperature") selects
its local-error tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import basix.ufl
import numpy as np
import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.geometry.io import CellMesh

fem = dolfinx.fem


@dataclass
class Submesh:
    """A submesh of the cell mesh and its map to the parent's cells."""

    mesh: dolfinx.mesh.Mesh
    entity_map: dolfinx.mesh.EntityMap


def make_submesh(cellmesh: CellMesh, cells: np.ndarray) -> Submesh:
    msh = cellmesh.mesh
    sub, emap, _, _ = dolfinx.mesh.create_submesh(msh, msh.topology.dim, cells)
    return Submesh(sub, emap)


@dataclass
class Field:
    """One unknown: its function, test function and, when it changes in time, its history."""

    name: str
    u: fem.Function
    v: ufl.Argument
    submesh: Submesh | None = None
    kind: str | None = None  # tolerance kind of a dynamic field
    u_hist: fem.Function | None = None  # the BDF formula's sum over the past values

    @property
    def dynamic(self) -> bool:
        return self.u_hist is not None


class Fields:
    """The unknowns of a model by name, in the order of the monolithic system."""

    def __init__(self, cellmesh: CellMesh, degree: int):
        self.cellmesh = cellmesh
        self.degree = degree
        self._fields: dict[str, Field] = {}
        self._submeshes: dict[tuple[str, ...], Submesh] = {}
        self._dynamic_order: list[str] = []

    # -- spaces
    def submesh(self, *layers: str) -> Submesh:
        """The submesh of the named cell groups (one per set of groups)."""
        if layers not in self._submeshes:
            self._submeshes[layers] = make_submesh(self.cellmesh, self.cellmesh.cells(*layers))
        return self._submeshes[layers]

    def lagrange(self, *layers: str, shape: tuple[int, ...] = ()) -> tuple[fem.FunctionSpace, Submesh | None]:
        """Continuous Lagrange space of the model's degree on the named layers (all: the whole
        mesh); `shape`: the value shape of a vector field (several components per node)."""
        element = ("Lagrange", self.degree, shape) if shape else ("Lagrange", self.degree)
        if not layers:
            return fem.functionspace(self.cellmesh.mesh, element), None
        sub = self.submesh(*layers)
        return fem.functionspace(sub.mesh, element), sub

    def real(self) -> fem.FunctionSpace:
        """One global value (a Real space on the whole mesh)."""
        msh = self.cellmesh.mesh
        return fem.functionspace(msh, basix.ufl.real_element(msh.basix_cell(), (), dtype=dolfinx.default_real_type))

    # -- fields
    def add(self, name: str, function: fem.Function, submesh: Submesh | None = None) -> Field:
        """Register `function` as the unknown `name` (appended to the system's order)."""
        if name in self._fields:
            raise ValueError(f"field {name!r} is declared twice")
        field = Field(name, function, ufl.TestFunction(function.function_space), submesh)
        self._fields[name] = field
        return field

    def make_dynamic(self, name: str, kind: str, history: fem.Function | None = None) -> Field:
        """Give a field its history function (a new one unless given) and its tolerance kind."""
        field = self._fields[name]
        if not field.dynamic:
            field.u_hist = history or fem.Function(field.u.function_space)
            field.kind = kind
            self._dynamic_order.append(name)
        return field

    def rate(self, name: str, inv_dt, bdf) -> ufl.core.expr.Expr:
        """d(u)/dt by the stepper's formula inv_dt (a0 u + u_hist), bdf = (a0,) (the field must be
        dynamic)."""
        f = self._fields[name]
        return inv_dt * (bdf[0] * f.u + f.u_hist)

    def __getitem__(self, name: str) -> Field:
        return self._fields[name]

    def __contains__(self, name: str) -> bool:
        return name in self._fields

    def names(self) -> list[str]:
        return list(self._fields)

    @property
    def unknowns(self) -> list[fem.Function]:
        return [f.u for f in self._fields.values()]

    @property
    def dynamic(self) -> list[tuple[fem.Function, fem.Function, str]]:
        """(u, its history function u_hist, tolerance kind) of every field that changes in time."""
        return [(f.u, f.u_hist, f.kind) for f in (self._fields[n] for n in self._dynamic_order)]

    @property
    def entity_maps(self) -> list[dolfinx.mesh.EntityMap]:
        return [sub.entity_map for sub in self._submeshes.values()]

    def cells_in(self, space: fem.FunctionSpace, cells: np.ndarray) -> np.ndarray:
        """The cells of `space`'s mesh that are `cells` of the cell mesh (-1 where it has none)."""
        for sub in self._submeshes.values():
            if space.mesh is sub.mesh:
                return sub.entity_map.sub_topology_to_topology(np.ascontiguousarray(cells), inverse=True)
        return cells
