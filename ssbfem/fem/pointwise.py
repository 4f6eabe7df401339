"""Interface integrals evaluated once per quadrature point for the residual and every Jacobian block.

An interior-facet integral of a residual row, int_Gamma g(u) v(s) dS, with the row's test
function v restricted to one side s and g an expression of fields restricted to either side,
Constants and numbers (the charge-transfer current j of the Butler-Volmer law at an electrode's
interface), is assembled by DOLFINx one compiled kernel per form: g is evaluated again in each
residual row that holds it and each of its derivatives in each Jacobian block, and each block's
element matrix is inserted with both cells' dofs, though each argument lives on one side (an
8 x 8 matrix of which 9 entries are nonzero at P1). On the composite cathode the interface took
63 % of a residual (three rows) and nearly all of a Jacobian (twelve blocks) of which half was
insertion (benchmarks/RESULTS.md, "Interface integrals point by point").

:class:`PointwiseInterface` evaluates, at the quadrature points of the interface's facets:

* the fields' values, from their dofs and basis functions tabulated once at the points
  (``u(x_q) = sum_k u_k phi_k(x_q)``, the cell of each field's side);
* every row's g, and for the Jacobian every dg/du(s) of every unknown u on each side it is read
  from, by one compiled DOLFINx Expression each (the form compiler shares their common
  subexpressions: the exponentials and the open-circuit potential once per point);

and assembles from them:

* residual row a: ``R_a[i] += sum_q w_q |F| g_a(x_q) phi_i(x_q)`` (w_q the weights of the
  integral's quadrature rule on the reference facet, |F| the facet's Jacobian determinant);
* Jacobian block (a, u(s)): ``J[i, j] += sum_q w_q |F| dg_a/du(s)(x_q) phi_i(x_q) psi_j(x_q)``,
  over the dofs whose basis functions are nonzero on the facet only, all blocks of a facet in one
  insertion.

It is the same discrete operator as the forms' (the same rule, the same points: the rules of
Basix on a triangle are symmetric, so the points are the same whichever vertex a facet's
reference map starts from), to round-off. The expressions are evaluated on a mesh of their own
(an interval per facet, as many as the facets of a chunk, on this process alone) whose
quadrature space holds the fields' values at the points: an Expression's coefficients must
live on the mesh it is evaluated on.

Integrals that do not have this form (a test function on both sides or differentiated, a
field's gradient, a facet normal or another geometric quantity in g, a space other than scalar
Lagrange or Real, a mesh other than affine simplices in 2D or 3D, a rule not fixed in the
integral's metadata) stay with DOLFINx (:func:`split_pointwise`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import basix
import basix.ufl
import numpy as np
import ufl
from mpi4py import MPI
from ufl.algorithms import expand_derivatives
from ufl.algorithms.apply_algebra_lowering import apply_algebra_lowering
from ufl.algorithms.apply_restrictions import apply_restrictions
from ufl.corealg.map_dag import map_expr_dag
from ufl.corealg.multifunction import MultiFunction
from ufl.corealg.traversal import unique_pre_traversal

from ssbfem._dolfinx import PETSc, dolfinx

fem = dolfinx.fem

#: Facets evaluated at once: bounds the temporary arrays. Chunks of 2000 keep each below the
#: 1 MiB from which a cell's solver has glibc map blocks apart (ssbfem.heap): at 1.09M
#: unknowns on two ranks a Jacobian's assembly then took 0.93 s against 1.16 s with chunks of
#: 20 000, whose blocks were mapped and faulted in again at every call (benchmarks/RESULTS.md,
#: "The heap's free memory").
_CHUNK = 2000


class _NotPointwise(Exception):
    """An integral that keeps DOLFINx's assembly."""


def _is_real(space) -> bool:
    return bool(getattr(space.ufl_element(), "is_real", False))


def _check_space(space) -> None:
    if _is_real(space):
        return
    element = space.ufl_element()
    if element.family_name not in ("P", "Lagrange", "CG", "Q") or element.reference_value_shape != ():
        raise _NotPointwise(f"element {element}")
    if space.element.needs_dof_transformations:
        raise _NotPointwise("dof transformations")


def _split_integrand(integral: ufl.classes.Integral) -> tuple[ufl.core.expr.Expr, str]:
    """(g, side) of an integrand g v(side) (a residual's, linear in its one test function v)."""
    # Restrictions on the terminals only ((a + b)('+') -> a('+') + b('+')).
    integrand = apply_restrictions(apply_algebra_lowering(integral.integrand()))
    arguments = ufl.algorithms.extract_arguments(integrand)
    if len(arguments) != 1:
        raise _NotPointwise("not one argument")
    v = arguments[0]
    sides = set()
    for node in unique_pre_traversal(integrand):
        if isinstance(node, ufl.classes.Derivative | ufl.classes.GeometricQuantity):
            raise _NotPointwise(f"{type(node).__name__} in the integrand")
        if isinstance(node, ufl.classes.Restricted):
            operand = node.ufl_operands[0]
            if operand == v:
                sides.add(node.side())
            elif not isinstance(operand, ufl.Coefficient | ufl.classes.Constant):
                raise _NotPointwise("a restricted expression")
    if len(sides) != 1:
        raise _NotPointwise("the test function on both sides or neither")
    # Linear in v, which appears undifferentiated: the integrand is g v(side), g = integrand(v = 1).
    g = ufl.replace(integrand, {v: ufl.as_ufl(1.0)})
    return g, sides.pop()


@dataclass
class _Side:
    """A space read on one side of the facets: its dofs whose basis functions are nonzero on each
    facet, and their values at the facet's quadrature points. On an affine simplex those values
    depend only on where the facet sits in its cell (which of the cell's vertices its own are, in
    which order): one table per such placement (24 for a tetrahedron's facets), and each facet's.
    Tables per facet took 0.6 kB per unknown at 1M unknowns with the sparse matrices that applied
    them (benchmarks/RESULTS.md, "A million unknowns in less memory")."""

    dofs: np.ndarray  # (facets, m): local dofs of the space (owned and ghost numbering)
    tables: np.ndarray  # (placements, points, m)
    placement: np.ndarray  # (facets,): each facet's table

    def basis(self, start: int, stop: int) -> np.ndarray:
        """(facets start:stop, points, m): the basis functions' values at the points."""
        return self.tables[self.placement[start:stop]]


@dataclass
class _Group:
    """Integrals on the same facets with the same rule."""

    entities: np.ndarray  # (facets, 4): cell and local facet of "+", then of "-"
    degree: int
    rows: list = field(default_factory=list)  # (row index, space, side, g)


@dataclass
class _Prepared:
    """A group ready to evaluate: the rows' and columns' sides, the weights, the container. The
    expressions are evaluated _CHUNK facets at a time on a container of as many cells."""

    rows: list[tuple[int, _Side]]  # (row index, test space's side)
    columns: list[tuple[int, _Side]]  # (unknown's index, its side): the Jacobian's
    weights: np.ndarray  # (facets, points): quadrature weights times |F|
    fields: list[tuple[fem.Function, fem.Function, _Side]]  # (point values, the field, its side)
    constants: list[tuple[fem.Constant, fem.Constant]]  # (the container's copy, the original)
    container: object
    cells: np.ndarray  # the container's cells, in the order of a chunk's facets
    points: np.ndarray  # (container cells, points): each cell's point values in a field's array
    residual: fem.Expression  # every row's g, (points, rows) per facet
    jacobian: fem.Expression | None  # dg_row/dcolumn, column by column
    row_dofs: np.ndarray  # (facets, rows' dofs): the Jacobian's rows, monolithic local numbering
    column_dofs: np.ndarray  # (facets, columns' dofs)

    @property
    def size(self) -> int:
        return len(self.weights)

    def chunks(self):
        """(start, stop, each side's basis functions at the points of the facets start:stop),
        chunk by chunk: the facets evaluated at once."""
        sides = {id(side): side for _, side in self.rows + self.columns} | {id(s): s for _, _, s in self.fields}
        for start in range(0, self.size, _CHUNK):
            stop = min(start + _CHUNK, self.size)
            yield start, stop, {key: side.basis(start, stop) for key, side in sides.items()}


class PointwiseInterface:
    """The interior-facet integrals of a residual that :func:`split_pointwise` took from its forms,
    assembled point by point (see the module's docstring).

    Args:
        mesh: The cell mesh (the integrals' domain).
        groups: The integrals, by facets and rule.
        unknowns: The system's unknowns (rows and columns in this order).
        cells_in: Maps cells of the cell mesh to cells of a space's mesh (-1 where none).
        positions: Each unknown's local dofs in the monolithic local numbering of the Jacobian.
    """

    def __init__(self, mesh, groups: list[_Group], unknowns: list, cells_in, positions: list[np.ndarray]):
        self._groups = [_prepare(mesh, group, unknowns, cells_in, positions) for group in groups]

    @property
    def rows(self) -> set[int]:
        """The residual rows that hold integrals assembled here."""
        return {row for group in self._groups for row, _ in group.rows}

    def add_residual(self, blocks: list[np.ndarray]) -> None:
        """Add the interface's integrals into each residual row's local array (`blocks`, owned
        and ghost entries, before the ghosts are summed)."""
        for group in self._groups:
            if group.size == 0:
                continue
            # R_a[i] += sum_q w_q |F| g_a(x_q) phi_i(x_q), facet by facet, summed into the dofs
            # chunk by chunk: no array of all facets, nor of a whole row, is made at each call
            # (arrays of 1 MiB and more are mapped afresh each time: ssbfem.heap).
            for start, stop, basis in group.chunks():
                _fill(group, start, stop, basis)
                values = _evaluate(group, group.residual, start, stop)  # (facets, points, rows)
                w = group.weights[start:stop]
                for k, (row, side) in enumerate(group.rows):
                    term = np.einsum("fq,fqi->fi", w * values[:, :, k], basis[id(side)])
                    np.add.at(blocks[row], side.dofs[start:stop].ravel(), term.ravel())

    def add_jacobian(self, J: PETSc.Mat) -> None:
        """Add the interface's Jacobian blocks into J (local numbering; J assembled afterwards):
        each facet's entries of every block in one insertion."""
        for group in self._groups:
            if group.jacobian is None or group.size == 0:
                continue
            n_rows = len(group.rows)
            for start, stop, basis in group.chunks():
                _fill(group, start, stop, basis)
                derivatives = _evaluate(group, group.jacobian, start, stop)  # (f, q, columns x rows)
                w = group.weights[start:stop, :, None]
                blocks = []
                for a, (_, row_side) in enumerate(group.rows):
                    weighted = (w * basis[id(row_side)]).transpose(0, 2, 1)  # (f, i, q)
                    blocks.append(
                        np.concatenate(
                            [
                                np.matmul(weighted * derivatives[:, None, :, c * n_rows + a], basis[id(side)])
                                for c, (_, side) in enumerate(group.columns)
                            ],
                            axis=2,
                        )
                    )
                values = np.concatenate(blocks, axis=1).reshape(stop - start, -1)  # (f, rows x columns)
                J.setValuesLocalRCV(
                    group.row_dofs[start:stop], group.column_dofs[start:stop], values, addv=PETSc.InsertMode.ADD
                )

    def pattern(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(rows, columns) per facet of the Jacobian entries :meth:`add_jacobian` adds (local
        monolithic numbering), for the matrix's sparsity."""
        return [(group.row_dofs, group.column_dofs) for group in self._groups if group.columns]


def _prepare(msh, group: _Group, unknowns: list, cells_in, positions: list[np.ndarray]) -> _Prepared:
    tdim = msh.topology.dim
    facet_type = basix.CellType.interval if tdim == 2 else basix.CellType.triangle
    points, weights = basix.make_quadrature(facet_type, group.degree)
    entities = group.entities
    nf, nq = len(entities), len(weights)
    nodes, scale = _facet_nodes(msh, entities)
    sides: dict[tuple[int, str], _Side] = {}
    tables: dict[tuple, tuple] = {}  # shared by the spaces of one mesh and element

    def side_of(space, side: str) -> _Side:
        key = (id(space), side)
        if key not in sides:
            cells = cells_in(space, entities[:, 0 if side == "+" else 2])
            if np.any(cells < 0):
                raise ValueError(f"an interface integral reads a field on side {side!r}, where it does not exist")
            table = (id(space.mesh), str(space.ufl_element()), side)
            if table not in tables:
                tables[table] = _tabulate(space, cells, nodes, points)
            keep, basis, placement = tables[table]
            dofs = np.take_along_axis(space.dofmap.list[cells], keep[placement], 1)
            sides[key] = _Side(dofs, basis, placement)
        return sides[key]

    container, Q, cells, reference = _container(min(nf, _CHUNK), nq)

    to_points = _ToPoints(container, Q)
    rows, values = [], []
    for row, space, side, g in group.rows:
        rows.append((row, side_of(space, side)))
        values.append(map_expr_dag(to_points, g))
    fields, columns, derivatives = [], [], []
    index = {id(u): k for k, u in enumerate(unknowns)}
    for (function, side), (q, variable) in to_points.fields.items():
        data = side_of(function.function_space, side)
        fields.append((q, function, data))
        if id(function) not in index:
            continue  # not an unknown: no column
        derivative = [expand_derivatives(ufl.diff(value, variable)) for value in values]
        if all(isinstance(d, ufl.classes.Zero) for d in derivative):
            continue
        columns.append((index[id(function)], data))
        derivatives.extend(derivative)

    def monolithic(sides: list[tuple[int, _Side]]) -> np.ndarray:
        if not sides:
            return np.zeros((nf, 0), dtype=PETSc.IntType)
        return np.hstack([positions[k][side.dofs] for k, side in sides]).astype(PETSc.IntType)

    return _Prepared(
        rows=rows,
        columns=columns,
        weights=weights[None, :] * scale[:, None],
        fields=fields,
        constants=to_points.constants,
        container=container,
        cells=cells,
        points=Q.dofmap.list[cells],
        residual=_expression(ufl.as_vector(values), reference, msh.comm),
        jacobian=_expression(ufl.as_vector(derivatives), reference, msh.comm) if derivatives else None,
        row_dofs=monolithic(rows),
        column_dofs=monolithic(columns),
    )


def _container(count: int, nq: int) -> tuple:
    """(an interval mesh of `count` cells on this process, its quadrature space of nq points per
    cell, its cells in the order of a chunk's facets, the reference points): where the
    expressions are evaluated."""
    count = max(count, 1)  # a mesh needs a cell
    container = dolfinx.mesh.create_interval(MPI.COMM_SELF, count, [0.0, 1.0])
    reference = ((np.arange(nq) + 0.5) / nq).reshape(-1, 1)
    element = basix.ufl.quadrature_element(
        container.basix_cell(), value_shape=(), points=reference, weights=np.full(nq, 1.0 / nq)
    )
    Q = fem.functionspace(container, element)
    cell_of = np.empty(count, dtype=np.int32)
    cell_of[np.asarray(container.topology.original_cell_index)] = np.arange(count, dtype=np.int32)
    return container, Q, cell_of, reference


def _fill(group: _Prepared, start: int, stop: int, basis: dict[int, np.ndarray]) -> None:
    """The container's Constants, and its point values at the facets start:stop from the present
    state (`basis`: each side's basis functions at their points), u(x_q) = sum_k u_k phi_k(x_q)."""
    for copy, source in group.constants:
        copy.value[...] = source.value
    points = group.points[: stop - start]
    for q, function, side in group.fields:
        q.x.array[points] = np.einsum("fqk,fk->fq", basis[id(side)], function.x.array[side.dofs[start:stop]])


def _evaluate(group: _Prepared, expression, start: int, stop: int) -> np.ndarray:
    """(facets start:stop, points, components) of `expression` (after :func:`_fill` of the same)."""
    cells = group.cells[: stop - start]
    return expression.eval(group.container, cells).reshape(stop - start, group.weights.shape[1], -1)


def split_pointwise(
    mesh, residuals: list[ufl.Form], unknowns: list, cells_in, positions: list[np.ndarray]
) -> tuple[list[ufl.Form | None], PointwiseInterface | None]:
    """(the residual forms without the integrals assembled point by point, their
    :class:`PointwiseInterface`; None when there are none). A row left without integrals is
    None."""
    groups: dict[tuple, _Group] = {}
    rest: list[list] = [[] for _ in residuals]
    spaces = [u.function_space for u in unknowns]
    for row, form in enumerate(residuals):
        for integral in form.integrals():
            try:
                key, g, side = _pointwise_key(integral, mesh, spaces[row])
            except _NotPointwise:
                rest[row].append(integral)
                continue
            if key not in groups:
                data = dict(integral.subdomain_data())[integral.subdomain_id()]
                groups[key] = _Group(np.asarray(data).reshape(-1, 4), key[2])
            groups[key].rows.append((row, spaces[row], side, g))
    if not groups:
        return residuals, None
    forms = [ufl.Form(integrals) if integrals else None for integrals in rest]
    return forms, PointwiseInterface(mesh, list(groups.values()), unknowns, cells_in, positions)


def _pointwise_key(integral, msh, space) -> tuple[tuple, ufl.core.expr.Expr, str]:
    """((domain data, subdomain, degree), g, side) of an integral assembled point by point."""
    if integral.integral_type() != "interior_facet":
        raise _NotPointwise("not an interior facet")
    degree = integral.metadata().get("quadrature_degree")
    data = integral.subdomain_data()
    if not isinstance(degree, int) or not isinstance(data, list) or not isinstance(integral.subdomain_id(), int):
        raise _NotPointwise("no fixed rule or integration data")
    if msh.topology.dim not in (2, 3) or msh.geometry.dim != msh.topology.dim or msh.geometry.cmaps[0].degree != 1:
        raise _NotPointwise("not an affine simplex mesh in 2D or 3D")
    if msh.topology.cell_type not in (dolfinx.mesh.CellType.triangle, dolfinx.mesh.CellType.tetrahedron):
        raise _NotPointwise("not simplices")
    g, side = _split_integrand(integral)
    _check_space(space)
    for node in unique_pre_traversal(g):
        if isinstance(node, ufl.Coefficient):
            if not isinstance(node, fem.Function):
                raise _NotPointwise("a coefficient that is not a Function")
            _check_space(node.function_space)
    return (id(data), integral.subdomain_id(), degree), g, side


class _ToPoints(MultiFunction):
    """Rewrites g for the container mesh: each restricted field a Function of the point values'
    space (made on first sight, wrapped as a ufl.variable so that g can be differentiated with
    respect to it), each Constant a Constant of the container (its value copied before each
    evaluation)."""

    expr = MultiFunction.reuse_if_untouched

    def __init__(self, container, space):
        super().__init__()
        self.container = container
        self.space = space
        self.fields: dict[tuple, tuple[fem.Function, ufl.classes.Variable]] = {}  # (field, side) ->
        self.constants: list[tuple[fem.Constant, fem.Constant]] = []
        self._constants: dict[int, fem.Constant] = {}

    def restricted(self, o):
        operand = o.ufl_operands[0]
        if isinstance(operand, ufl.classes.Constant):
            return self.constant(operand)
        key = (operand, o.side())
        if key not in self.fields:
            q = fem.Function(self.space)
            self.fields[key] = (q, ufl.variable(q))
        return self.fields[key][1]

    def constant(self, o):
        if id(o) not in self._constants:
            copy = fem.Constant(self.container, np.array(o.value, dtype=PETSc.ScalarType))
            self._constants[id(o)] = copy
            self.constants.append((copy, o))
        return self._constants[id(o)]


def _expression(values, reference: np.ndarray, comm: MPI.Comm):
    """Compiled on `comm` (the cell mesh's: rank 0 compiles, the others wait), though evaluated on
    each process's own container: compiled on each process alone, two processes writing the same
    new module at once failed on one of them."""
    return fem.Expression(values, reference, comm=comm)


def _facet_nodes(msh, entities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the facets' nodes (facets, tdim, 3), each facet's Jacobian determinant). A facet's
    quadrature points are x_0 + sum_k p_k (x_k - x_0), p the reference facet's."""
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim, tdim - 1)
    cell_facets = msh.topology.connectivity(tdim, tdim - 1)
    facets = cell_facets.array.reshape(-1, tdim + 1)[entities[:, 0], entities[:, 1]].astype(np.int32)
    x = msh.geometry.x[dolfinx.mesh.entities_to_geometry(msh, tdim - 1, facets)]  # (facets, tdim, 3)
    edges = x[:, 1:, :] - x[:, :1, :]
    if tdim == 3:
        scale = np.linalg.norm(np.cross(edges[:, 0], edges[:, 1]), axis=1)
    else:
        scale = np.linalg.norm(edges[:, 0], axis=1)
    return x, scale


def _tabulate(space, cells: np.ndarray, nodes: np.ndarray, points: np.ndarray) -> tuple:
    """For a space's cells on the side read (facets' nodes `nodes`, reference facet points
    `points`): (each placement's dofs whose basis functions are nonzero on the facet (placements,
    m), their values at the points (placements, points, m), each facet's placement (facets,)).

    A placement is which of the cell's vertices the facet's are, in the facet's order: the
    points then sit at the same reference coordinates in every cell of that placement."""
    nf, nq = len(cells), len(points)
    if _is_real(space):
        return np.zeros((1, 1), dtype=np.int32), np.ones((1, nq, 1)), np.zeros(nf, dtype=np.int8)
    msh = space.mesh
    tdim = msh.topology.dim
    vertices = msh.geometry.x[msh.geometry.dofmaps[0][cells]]  # (facets, tdim + 1, 3), affine
    # The facet's nodes are the parent's, the cell's its submesh's copies of them: the same points.
    distance = ((nodes[:, :, None, :] - vertices[:, None, :, :]) ** 2).sum(axis=3)  # (facets, tdim, tdim + 1)
    placements, placement = np.unique(distance.argmin(axis=2), axis=0, return_inverse=True)
    cell_type = msh.basix_cell()
    reference = basix.geometry(cell_type)
    facet_vertices = [sorted(v) for v in basix.topology(cell_type)[tdim - 1]]
    if len(placements) == 0:  # no facet on this process: one table all the same, for the shapes
        placements = np.array([facet_vertices[0]])
    # Barycentric coordinates of the points on the facet, vertex 0 first
    barycentric = np.hstack([1.0 - points.sum(axis=1, keepdims=True), points])
    element, layout = space.element.basix_element, space.dofmap.dof_layout
    keep, tables = [], []
    for order in placements:
        local = barycentric @ reference[order]  # (points, tdim): the points in the reference cell
        basis = element.tabulate(0, local)[0, :, :, 0]  # (points, dofs of the cell)
        dofs = np.asarray(layout.entity_closure_dofs(tdim - 1, facet_vertices.index(sorted(order))))
        keep.append(dofs)
        tables.append(basis[:, dofs])
    return np.array(keep, dtype=np.int32), np.array(tables), placement.reshape(-1).astype(np.int8)
