"""Microstructure of a cell mesh: percolation, utilisation, interface area, effective conductivity.

Percolation is connectivity through shared facets: two cells of a phase are connected when they
share a facet, and a cluster percolates when it reaches a source face (the collector or the
terminal). The cell-facet graph is gathered on rank 0 (global facet indices, so ghost copies
join up), its connected components found there, and the result scattered back: memory on rank 0
grows with the phase's cell count (a few hundred bytes per cell).

Effective conductivity: the steady conduction block of the cell model
(:func:`ssbfem.physics.charge.ohmic_conduction`, -div(sigma0 grad phi) = 0) on the phase alone,
phi = 1 V and 0 V on two opposite faces of a slab, all other boundaries insulating. The power
P = int sigma0 |grad phi|^2 dV gives the current I = P/dV and sigma_eff = I L/(A dV) for a slab
of thickness L and cross-section A. The tortuosity factor is tau = eps sigma0/sigma_eff with eps
the phase's volume fraction in the slab; Bruggeman's relation is sigma_eff = eps^1.5 sigma0. The slab
is a box region of the mesh (a composite layer's extent along x, the mesh's in y and z), its two
faces normal to the chosen axis the electrodes. With several conducting phases (sigma piecewise
constant, :func:`mixed_conductivity`) the same solve gives the effective conductivity of the mixture.
"""

from __future__ import annotations

import math

import numpy as np
import ufl
from mpi4py import MPI
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ssbfem._dolfinx import dolfinx
from ssbfem.geometry import tags
from ssbfem.geometry.io import CellMesh
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.physics.charge import ohmic_conduction
from ssbfem.settings.cell import Cell

fem = dolfinx.fem


def cell_volumes(cellmesh: CellMesh, cells: np.ndarray) -> np.ndarray:
    """Volumes (lengths, areas) of local cells, mesh units."""
    V = fem.functionspace(cellmesh.mesh, ("DG", 0))
    volumes = fem.assemble_vector(fem.form(ufl.TestFunction(V) * ufl.dx)).array
    return volumes[V.dofmap.list[cells, 0]]


def connected_to(cellmesh: CellMesh, cells: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Which of the owned `cells` (local indices) are joined to a facet in `sources` (local facet
    indices, any rank may hold some) through a chain of cells of `cells` sharing facets."""
    msh = cellmesh.mesh
    comm = msh.comm
    tdim = msh.topology.dim
    cells = np.asarray(cells, dtype=np.int32)
    cells = cells[cells < msh.topology.index_map(tdim).size_local]
    local, counts = _cell_facets(cellmesh, cells)
    facet_map = msh.topology.index_map(tdim - 1)
    owner = np.repeat(np.arange(len(cells)), counts)
    global_facets = facet_map.local_to_global(local.astype(np.int32))
    global_sources = facet_map.local_to_global(np.asarray(sources, dtype=np.int32))
    gathered = comm.gather((len(cells), owner, global_facets, global_sources), root=0)
    result = None
    if comm.rank == 0:
        counts = [g[0] for g in gathered]
        offsets = np.concatenate([[0], np.cumsum(counts)])
        rows = np.concatenate([g[1] + offsets[k] for k, g in enumerate(gathered)])
        facet_ids, facet_index = np.unique(np.concatenate([g[2] for g in gathered]), return_inverse=True)
        n_cells = offsets[-1]
        n = n_cells + len(facet_ids)
        graph = coo_matrix((np.ones(len(rows)), (rows, n_cells + facet_index)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        source_ids = np.unique(np.concatenate([g[3] for g in gathered]))
        hit = np.isin(facet_ids, source_ids)
        reached = np.isin(labels[:n_cells], labels[n_cells:][hit])
        result = [reached[offsets[k] : offsets[k + 1]] for k in range(comm.size)]
    return comm.scatter(result, root=0)


def percolating_fraction(cellmesh: CellMesh, phases: tuple[str, ...], sources: np.ndarray, of: tuple[str, ...]):
    """Volume fraction of the cells of `of` (a subset of `phases`) joined to `sources` through `phases`."""
    comm = cellmesh.mesh.comm
    cells = cellmesh.cells(*phases)
    cells = cells[cells < cellmesh.mesh.topology.index_map(cellmesh.dimension).size_local]
    reached = connected_to(cellmesh, cells, sources)
    counted = np.isin(cells, cellmesh.cells(*of))
    volumes = cell_volumes(cellmesh, cells)
    total = comm.allreduce(volumes[counted].sum())
    return comm.allreduce(volumes[counted & reached].sum()) / total if total > 0 else 0.0


def utilisations(cellmesh: CellMesh) -> dict[str, float]:
    """Percolating volume fractions: of the active material through itself and the positive
    collector to the positive terminal (electronic), of the electrolyte to the Li interface
    (the negative terminal, or the meshed Li) (ionic)."""
    positive_side = [n for n in (tags.POSITIVE_TERMINAL,) if n in cellmesh.facet_names]
    negative_side = [n for n in (tags.NEGATIVE_TERMINAL, tags.NEGATIVE_INTERFACE) if n in cellmesh.facet_names]
    conductor = (tags.POSITIVE, tags.POSITIVE_CC)
    electronic_sources = np.concatenate([cellmesh.facets(n) for n in positive_side] or [np.zeros(0, np.int32)])
    if tags.POSITIVE_CC in cellmesh.cell_names:  # the collector (of a stack: its tabs) is the source
        electronic_sources = _facets_of(cellmesh, cellmesh.cells(tags.POSITIVE_CC))
    ionic_sources = np.concatenate([cellmesh.facets(n) for n in negative_side] or [np.zeros(0, np.int32)])
    electronic = percolating_fraction(cellmesh, conductor, electronic_sources, (tags.POSITIVE,))
    ionic = percolating_fraction(cellmesh, (tags.ELECTROLYTE,), ionic_sources, (tags.ELECTROLYTE,))
    return {"utilisation_electronic": float(electronic), "utilisation_ionic": float(ionic)}


def _cell_facets(cellmesh: CellMesh, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local facet indices of the given cells, concatenated, and how many each cell has."""
    msh = cellmesh.mesh
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim, tdim - 1)
    c2f = msh.topology.connectivity(tdim, tdim - 1)
    per_cell = np.diff(c2f.offsets)
    if len(cells) == 0:
        return np.zeros(0, np.int32), np.zeros(0, int)
    if np.all(per_cell == per_cell[0]):  # one cell type: vectorised
        return c2f.array.reshape(-1, per_cell[0])[cells].ravel(), per_cell[cells]
    return np.concatenate([c2f.links(c) for c in cells]), per_cell[cells]


def _facets_of(cellmesh: CellMesh, cells: np.ndarray) -> np.ndarray:
    return np.unique(_cell_facets(cellmesh, cells)[0])


def facet_area(cellmesh: CellMesh, name: str) -> float:
    """Area of a named facet group (interior or exterior), mesh units."""
    msh = cellmesh.mesh
    tag = cellmesh.facet_names[name]
    dS = ufl.Measure("dS", domain=msh, subdomain_data=cellmesh.facet_tags)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=cellmesh.facet_tags)
    area = fem.assemble_scalar(fem.form(1.0 * dS(tag))) + fem.assemble_scalar(fem.form(1.0 * ds(tag)))
    return msh.comm.allreduce(area)


def phase_volumes(cellmesh: CellMesh) -> dict[str, float]:
    """Volume of every cell group, mesh units."""
    dx = ufl.Measure("dx", domain=cellmesh.mesh, subdomain_data=cellmesh.cell_tags)
    comm = cellmesh.mesh.comm
    return {n: comm.allreduce(fem.assemble_scalar(fem.form(1.0 * dx(t)))) for n, t in cellmesh.cell_names.items()}


def effective_conductivity(
    cellmesh: CellMesh,
    phases: tuple[str, ...],
    axis: int = 0,
    bounds: tuple[float, float] | None = None,
    box: np.ndarray | None = None,
) -> dict[str, float]:
    """Effective conductivity of a phase across a slab bounds[0] <= x[axis] <= bounds[1].

    The slab is the phase's cells whose midpoints lie in the region: `box` (rows (lo, hi) per
    direction, mesh units; default the mesh's bounding box), along `axis` narrowed to `bounds`.
    Its cross-section is the region's extent in the other directions, so a slab along y through
    a composite layer takes ``box = [[x0, x1], [y0, y1], [z0, z1]]`` with the layer's x0, x1. The
    region's faces other than the two at bounds are insulating. Clusters that reach neither face
    carry no current and are left out (they would leave the potential undetermined); with no
    cluster spanning the slab the conductivity is 0.

    Returns:
        ``relative_conductivity`` sigma_eff/sigma0, ``volume_fraction`` eps of the phase in the
        slab, ``tortuosity`` (the tortuosity factor) eps sigma0/sigma_eff (inf when 0),
        ``bruggeman`` eps^1.5.
    """
    region = slab_region(cellmesh, axis, bounds, box)
    cells = cells_in_region(cellmesh, phases, region)
    eps = cellmesh.mesh.comm.allreduce(cell_volumes(cellmesh, cells).sum()) / float(np.prod(_extents(cellmesh, region)))
    relative = _slab_conductivity(cellmesh, cells, np.ones(len(cells)), axis, region)  # sigma0 = 1 S/m
    return {
        "relative_conductivity": float(relative),
        "volume_fraction": float(eps),
        "tortuosity": float(eps / relative) if relative > 0 else math.inf,
        "bruggeman": float(eps**1.5),
    }


def mixed_conductivity(
    cellmesh: CellMesh,
    conductivities: dict[str, float],
    axis: int = 0,
    bounds: tuple[float, float] | None = None,
    box: np.ndarray | None = None,
) -> float:
    """Effective conductivity (units of `conductivities`, e.g. S/m) of several conducting phases
    across a slab: -div(sigma grad phi) = 0 with sigma piecewise constant, sigma = conductivities[
    group] on each named cell group; groups not named are insulating and left out. The slab, its
    faces and the treatment of clusters are those of :func:`effective_conductivity`; the result is
    I L/(A dV) for the current I through cross-section A under dV across thickness L.

    Layers of the phases normal to `axis` give the series (harmonic) mean sum_i(f_i/sigma_i)^-1,
    layers along it the parallel (arithmetic) mean sum_i f_i sigma_i (f_i the slab fractions).
    """
    if any(s <= 0 for s in conductivities.values()):
        raise ValueError(f"conductivities must be positive: {conductivities} (leave insulating groups out)")
    region = slab_region(cellmesh, axis, bounds, box)
    cells = cells_in_region(cellmesh, tuple(conductivities), region)
    sigma = np.zeros(len(cells))
    for name, value in conductivities.items():
        sigma[np.isin(cells, cellmesh.cells(name))] = value
    return _slab_conductivity(cellmesh, cells, sigma, axis, region)


def slab_region(
    cellmesh: CellMesh, axis: int, bounds: tuple[float, float] | None = None, box: np.ndarray | None = None
) -> np.ndarray:
    """The region of a slab, rows (lo, hi) per direction in mesh units: `box` (default: the mesh's
    bounding box) with its `axis` row replaced by `bounds` when given. Collective."""
    if box is None:
        comm, x = cellmesh.mesh.comm, cellmesh.mesh.geometry.x
        lo = [comm.allreduce(x[:, k].min(initial=np.inf), op=MPI.MIN) for k in range(3)]
        hi = [comm.allreduce(x[:, k].max(initial=-np.inf), op=MPI.MAX) for k in range(3)]
        box = np.column_stack([lo, hi])
    region = np.array(box, dtype=float).reshape(3, 2)
    if bounds is not None:
        region[axis] = bounds
    return region


def _extents(cellmesh: CellMesh, region: np.ndarray) -> np.ndarray:
    """Edge lengths of the region in the mesh's directions (x; x, y; x, y, z), mesh units."""
    return np.diff(region[: cellmesh.dimension], axis=1)[:, 0]


def cells_in_region(cellmesh: CellMesh, phases: tuple[str, ...], region: np.ndarray) -> np.ndarray:
    """Owned cells (local indices) of the phases whose midpoints lie inside the region (rows (lo, hi)
    per direction, mesh units)."""
    msh, tdim = cellmesh.mesh, cellmesh.dimension
    cells = cellmesh.cells(*phases)
    cells = cells[cells < msh.topology.index_map(tdim).size_local]
    if not len(cells):
        return cells
    mid = dolfinx.mesh.compute_midpoints(msh, tdim, cells)
    inside = np.all((mid[:, :tdim] > region[:tdim, 0]) & (mid[:, :tdim] < region[:tdim, 1]), axis=1)
    return cells[inside]


def _slab_conductivity(
    cellmesh: CellMesh, cells: np.ndarray, sigma: np.ndarray, axis: int, region: np.ndarray
) -> float:
    """sigma_eff (units of `sigma`, one value per cell of `cells`) of the owned `cells` between the
    region's faces normal to `axis`, at phi = 1 V and 0 V on them; 0 when no cluster spans them."""
    msh, comm, tdim = cellmesh.mesh, cellmesh.mesh.comm, cellmesh.dimension
    x0, x1 = region[axis]
    tol = 1e-8 * float(np.max(np.ptp(region, axis=1)))
    on_plane = lambda a: lambda p: np.isclose(p[axis], a, atol=tol)
    ends = [dolfinx.mesh.locate_entities(msh, tdim - 1, on_plane(a)) for a in (x0, x1)]
    to_start, to_end = connected_to(cellmesh, cells, ends[0]), connected_to(cellmesh, cells, ends[1])
    if not comm.allreduce(bool(np.any(to_start & to_end)), op=MPI.LOR):
        return 0.0
    keep = to_start | to_end
    sub, cell_map, _, _ = dolfinx.mesh.create_submesh(msh, tdim, cells[keep])
    # Piecewise-constant sigma on the submesh: owned submesh cells map to (owned) parent cells.
    Q = fem.functionspace(sub, ("DG", 0))
    conductivity = fem.Function(Q)
    owned = sub.topology.index_map(tdim).size_local
    parent = cell_map.sub_topology_to_topology(np.arange(owned, dtype=np.int32), False)
    conductivity.x.array[Q.dofmap.list[:owned, 0]] = sigma[keep][np.searchsorted(cells[keep], parent)]
    conductivity.x.scatter_forward()
    V = fem.functionspace(sub, ("Lagrange", 1))
    sub.topology.create_connectivity(tdim - 1, tdim)
    bcs = [
        fem.dirichletbc(dolfinx.default_scalar_type(value), fem.locate_dofs_geometrical(V, on_plane(a)), V)
        for a, value in ((x0, 1.0), (x1, 0.0))
    ]
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    dx = ufl.dx(domain=sub)
    problem = dolfinx.fem.petsc.LinearProblem(
        ohmic_conduction(u, v, conductivity, dx),
        fem.Constant(sub, dolfinx.default_scalar_type(0.0)) * v * dx,
        bcs=bcs,
        petsc_options_prefix="ssbfem_conductivity_",
        petsc_options={"ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-12, "ksp_atol": 1e-14},
    )
    phi = problem.solve()
    # Power W = L0^2 int (sigma/L0) |grad phi|^2 dx (mesh units); I = W/dV; sigma_eff = I L/(A dV).
    power = comm.allreduce(fem.assemble_scalar(fem.form(ohmic_conduction(phi, phi, conductivity, dx))))
    power *= MESH_UNIT_M**2
    area = float(np.prod(np.delete(_extents(cellmesh, region), axis))) * MESH_UNIT_M ** (tdim - 1)
    return float(power * (x1 - x0) * MESH_UNIT_M / area)  # the potential difference is 1 V


def electrode_layer(cell: Cell, volumes: dict[str, float], footprint: float) -> tuple[float, dict[str, float]]:
    """The positive electrode layer's volume (mesh units) and the fraction of it each phase fills.

    A planar or composite electrode: the layer ``cell.positive.thickness_um`` thick (per unit,
    times ``cell.units``) holds the active material, the electrolyte beyond the separator and
    pores. An interdigitated cell, whose electrodes interleave: the whole stack between the
    collectors (positive, electrolyte and negative; their fractions sum to 1).
    """
    if cell.architecture == "interdigitated":
        phases = (tags.POSITIVE, tags.ELECTROLYTE, tags.NEGATIVE)
        layer = sum(volumes[name] for name in phases)
        return layer, {name: volumes[name] / layer for name in phases}
    layer = footprint * cell.positive.thickness_um * cell.units
    active = volumes[tags.POSITIVE] / layer
    electrolyte = (volumes[tags.ELECTROLYTE] - footprint * cell.electrolyte.thickness_um * cell.units) / layer
    return layer, {tags.POSITIVE: active, tags.ELECTROLYTE: electrolyte, "pores": max(1.0 - active - electrolyte, 0.0)}


def geometry_summary(cellmesh: CellMesh, footprint: float, cell: Cell) -> dict:
    """What a run records in ``geometry.json``.

    Args:
        cellmesh: The cell mesh.
        footprint: Area of the positive terminal (or stack bottom), mesh units (1 in 1D).
        cell: The ``[cell]`` settings.

    Returns:
        ``aef`` (charge-transfer interface area / footprint), ``interface_area_m2`` (over the
        cell's footprint ``cell.area_cm2``), ``specific_interface_area_1_m`` (per volume of the
        positive electrode layer), ``volume_fractions`` (of the whole mesh, per cell group),
        ``electrode_volume_fractions`` (the phases within the positive electrode layer:
        :func:`electrode_layer`), ``active_volume_per_footprint_um``, ``utilisation_electronic``,
        ``utilisation_ionic`` (see :func:`utilisations`) and ``num_cells``; with a ``detached``
        facet group (contact loss) ``detached_area_fraction``, its share of the interface and
        detached area together.
    """
    units = cell.units
    volumes = phase_volumes(cellmesh)
    total = sum(volumes.values())
    area = facet_area(cellmesh, tags.POSITIVE_INTERFACE)
    aef = area / footprint
    layer, fractions = electrode_layer(cell, volumes, footprint)
    detached = {}
    if tags.DETACHED in cellmesh.facet_names:
        lost = facet_area(cellmesh, tags.DETACHED)
        detached["detached_area_fraction"] = lost / (lost + area) if lost + area > 0 else 0.0
    return {
        "aef": aef,
        "interface_area_m2": aef * cell.area_cm2 * 1e-4,
        "specific_interface_area_1_m": area / layer / MESH_UNIT_M,
        "volume_fractions": {name: v / total for name, v in volumes.items()},
        "electrode_volume_fractions": fractions,
        "active_volume_per_footprint_um": volumes[tags.POSITIVE] / footprint / units,
        **utilisations(cellmesh),
        "num_cells": cellmesh.mesh.topology.index_map(cellmesh.dimension).size_global,
        **detached,
    }
