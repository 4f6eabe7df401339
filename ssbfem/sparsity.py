"""The monolithic Jacobian matrix, allocated with the sparsity of its integrals.

A cell's interfaces are interior-facet integrals whose arguments live on one side only: the
electrolyte's potential on one, an electrode's fields on the other. DOLFINx 0.11 allocates such
integrals with spurious entries (fixed upstream after 0.11, FEniCS/dolfinx#4337): the missing
side reuses dofs left in a buffer, on a cell's interfaces the space's first local dof, whose row
and column then couple to every interface dof. The entries stay zero, but algebraic
multigrid builds its coarse operators on the pattern, and a full row makes them dense: on a
39k-unknown composite cathode the first coarse level of each potential (about 2000 rows) was
full, and GAMG's set-up took 3-9 s per block instead of 0.05 s.

:func:`jacobian_matrix` allocates the matrix from each block's integration domains instead,
with the layout (local-to-global map, row ownership) of DOLFINx's monolithic ("mpi") matrix.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from ssbfem._dolfinx import PETSc, dolfinx

#: Integration entities handled per insertion call: bounds the temporary dof arrays.
_CHUNK = 50_000

#: (parent cells) -> cells of a space's mesh, -1 where the space has none.
CellMap = Callable[[object, np.ndarray], np.ndarray]


def _integration_cells(form, integral_type, index: int) -> list[np.ndarray]:
    """The cells (of the form's mesh) on each side of one integral's entities: one array for
    cell and exterior-facet integrals, two ("+", "-") for interior facets."""
    entities = np.asarray(form.domains(integral_type, index))
    IntegralType = dolfinx.fem.IntegralType
    if integral_type == IntegralType.cell:
        return [entities.reshape(-1)]
    if integral_type == IntegralType.exterior_facet:
        return [entities.reshape(-1, 2)[:, 0]]
    if integral_type == IntegralType.interior_facet:
        pairs = entities.reshape(-1, 4)
        return [pairs[:, 0], pairs[:, 2]]
    raise NotImplementedError(f"sparsity of {integral_type} integrals")


def _local_dofs(space, cells: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(cells x dofs) positions in the monolithic local numbering of `space`'s dofs on `cells`."""
    dofmap = space.dofmap
    dofs = dofmap.list[cells]
    bs = dofmap.index_map_bs
    if bs > 1:
        dofs = (dofs[:, :, None] * bs + np.arange(bs)).reshape(len(cells), -1)
    return positions[dofs]


def _exactly_on(cells: list[np.ndarray], on: tuple[int, ...]) -> np.ndarray:
    """Entities whose cells exist (>= 0) on the sides `on` and on no other."""
    return np.logical_and.reduce([(side_cells >= 0) == (s in on) for s, side_cells in enumerate(cells)])


def _insert(pattern: PETSc.Mat, rows: np.ndarray, cols: np.ndarray) -> None:
    for start in range(0, len(rows), _CHUNK):
        r = np.ascontiguousarray(rows[start : start + _CHUNK], dtype=PETSc.IntType)
        c = np.ascontiguousarray(cols[start : start + _CHUNK], dtype=PETSc.IntType)
        values = np.zeros((len(r), r.shape[1] * c.shape[1]), dtype=PETSc.ScalarType)
        pattern.setValuesLocalRCV(r, c, values)


def local_positions(spaces: Sequence) -> list[np.ndarray]:
    """Each space's local dofs (owned, then ghosts) in the monolithic local numbering."""
    index_maps = [(V.dofmap.index_map, V.dofmap.index_map_bs) for V in spaces]
    return [np.asarray(iset.indices) for iset in dolfinx.cpp.la.petsc.create_index_sets(index_maps)]


def jacobian_matrix(
    vector: PETSc.Vec,
    offsets: Sequence[tuple[int, int, int, int]],
    jacobian: Sequence[Sequence],
    spaces: Sequence,
    cells_in: CellMap,
    extra: Sequence[tuple[np.ndarray, np.ndarray]] = (),
) -> PETSc.Mat:
    """A monolithic matrix for the block Jacobian ``jacobian[i][j]`` (compiled forms or None;
    test space ``spaces[i]``, trial space ``spaces[j]``), with the couplings its integrals make
    and the diagonal of every diagonal block, laid out as DOLFINx's monolithic ("mpi") matrix of
    the spaces: rows owned as in `vector` (DOLFINx's monolithic vector of the spaces: the owned
    dofs of every space, then their ghosts; `offsets`: (owned start, owned stop, ghost start,
    ghost stop) of each space in its local form), local numbering space by space, each space's
    owned dofs then its ghosts.

    ``cells_in(space, cells)`` maps cells of the integration mesh to the cells of the space's
    mesh (-1 where the space does not exist). ``extra``: more couplings, (rows, columns) per
    entity in the local numbering (those of integrals assembled apart,
    :class:`ssbfem.fem.pointwise.PointwiseInterface`). Values set outside the pattern are ignored: the
    only ones DOLFINx writes there are the zeros of a missing side.
    """
    comm = vector.comm
    local_to_global = vector.getLGMap().getIndices()
    indices = np.concatenate([np.concatenate([local_to_global[a:b], local_to_global[c:d]]) for a, b, c, d in offsets])
    lgmap = PETSc.LGMap().create(indices.astype(PETSc.IntType), comm=comm)
    sizes = (vector.getSizes(), vector.getSizes())
    positions = local_positions(spaces)
    pattern = PETSc.Mat().create(comm)
    pattern.setType(PETSc.Mat.Type.PREALLOCATOR)
    pattern.setSizes(sizes)
    pattern.setLGMap(lgmap, lgmap)
    pattern.setUp()
    for i, j in itertools.product(range(len(spaces)), repeat=2):
        if i == j:
            owned = spaces[i].dofmap.index_map.size_local * spaces[i].dofmap.index_map_bs
            diagonal = positions[i][:owned].reshape(-1, 1)
            _insert(pattern, diagonal, diagonal)
        form = jacobian[i][j]
        if form is None:
            continue
        form = form._cpp_object
        test, trial = spaces[i], spaces[j]
        for integral_type in form.integral_types:
            for index in range(form.num_integrals(integral_type, 0)):
                sides = _integration_cells(form, integral_type, index)
                test_cells = [cells_in(test, s) for s in sides]
                trial_cells = [cells_in(trial, s) for s in sides]
                # Entities are grouped by the sides each argument exists on; the rows (columns) of
                # an entity are the test (trial) dofs of those sides.
                n = len(sides)
                side_sets = [on for k in range(1, n + 1) for on in itertools.combinations(range(n), k)]
                for rows_on, cols_on in itertools.product(side_sets, repeat=2):
                    here = _exactly_on(test_cells, rows_on) & _exactly_on(trial_cells, cols_on)
                    if not here.any():
                        continue
                    rows = np.hstack([_local_dofs(test, test_cells[s][here], positions[i]) for s in rows_on])
                    cols = np.hstack([_local_dofs(trial, trial_cells[s][here], positions[j]) for s in cols_on])
                    _insert(pattern, rows, cols)
    for rows, cols in extra:
        _insert(pattern, rows, cols)
    pattern.assemble()
    matrix = PETSc.Mat().create(comm)
    matrix.setType(PETSc.Mat.Type.AIJ)
    matrix.setSizes(sizes)
    matrix.setLGMap(lgmap, lgmap)
    pattern.preallocatorPreallocate(matrix, fill=True)
    matrix.setOption(PETSc.Mat.Option.NEW_NONZERO_LOCATIONS, False)
    # Interface blocks come as two-sided element matrices of which one side is zeros (three
    # quarters of each block): skipping zeros before the search for their column made the Jacobian
    # of the 39k-unknown P1 composite 17 % faster. Adding zeros changes nothing in a fixed pattern.
    matrix.setOption(PETSc.Mat.Option.IGNORE_ZERO_ENTRIES, True)
    pattern.destroy()
    lgmap.destroy()
    return matrix
