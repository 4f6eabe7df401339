"""From a Gmsh model or a ``.msh`` file to a distributed DOLFINx mesh with named tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gmsh
import numpy as np
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.errors import InputError
from ssbfem.heap import release_freed_memory


@dataclass
class CellMesh:
    """A distributed mesh with its cell and facet tags, addressed by physical-group name.

    Attributes:
        mesh: The DOLFINx mesh (coordinates in micrometres).
        cell_tags: Tags of the cells (layers, phases).
        facet_tags: Tags of the facets (interfaces, terminals, outer boundaries).
        cell_names: Physical-group name -> cell tag value.
        facet_names: Physical-group name -> facet tag value.
    """

    mesh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    facet_tags: dolfinx.mesh.MeshTags
    cell_names: dict[str, int]
    facet_names: dict[str, int]

    @property
    def dimension(self) -> int:
        return self.mesh.topology.dim

    def require(self, cells: tuple[str, ...] = (), facets: tuple[str, ...] = (), source: str = "mesh") -> None:
        """Raise InputError naming every required physical group the mesh lacks."""
        missing = [n for n in cells if n not in self.cell_names]
        missing += [n for n in facets if n not in self.facet_names]
        if missing:
            raise InputError(
                "mesh",
                f"{source} lacks the physical group(s) {', '.join(repr(m) for m in missing)}; "
                f"it has {sorted(self.cell_names) + sorted(self.facet_names)}",
            )

    def cells(self, *names: str) -> np.ndarray:
        """Local indices of the cells in any of the named groups."""
        values = [self.cell_names[n] for n in names if n in self.cell_names]
        return np.sort(self.cell_tags.indices[np.isin(self.cell_tags.values, values)]).astype(np.int32)

    def facets(self, name: str) -> np.ndarray:
        """Local indices of the facets of a named group."""
        tags = self.facet_tags
        return tags.indices[tags.values == self.facet_names[name]].astype(np.int32)

    def require_boundary(self, name: str, key: str) -> None:
        """Raise InputError (naming `key`) unless the facet group `name` exists and lies on the
        mesh's boundary: a condition integrated with ``ds`` over an interface would silently give
        zero. Collective: each rank counts its owned facets of the group and those among them on
        the boundary (one cell), and the counts are summed over the ranks."""
        if name not in self.facet_names:
            raise InputError(key, f"the mesh has no boundary {name!r}; it has {sorted(self.facet_names)}")
        topology, fdim = self.mesh.topology, self.mesh.topology.dim - 1
        topology.create_connectivity(fdim, fdim + 1)
        owned = self.facets(name)
        owned = owned[owned < topology.index_map(fdim).size_local]
        # exterior_facet_indices: owned facets with one cell in the whole distributed mesh
        exterior = np.isin(owned, dolfinx.mesh.exterior_facet_indices(topology)).sum()
        total, exterior = self.mesh.comm.allreduce(np.array([len(owned), exterior], dtype=np.int64))
        if exterior == 0 and total > 0:
            raise InputError(key, f"{name!r} is an interior facet group (an interface), not a boundary")
        if exterior < total:
            raise InputError(
                key,
                f"{name!r} is partly an interior facet group ({total - exterior} of its {total} facets), "
                "not a boundary",
            )


def mesh_from_model(comm: MPI.Comm, build: Callable[[], object] | None = None, path: Path | None = None) -> CellMesh:
    """Build (or read) a Gmsh model on rank 0 and distribute it over `comm`.

    Args:
        comm: Communicator of the mesh.
        build: Adds a meshed model to the current Gmsh session (rank 0 only).
        path: A ``.msh`` file to read instead.
    """
    dim = None
    error = None
    if comm.rank == 0:
        gmsh.initialize(interruptible=False)
        gmsh.option.setNumber("General.Terminal", 0)
        try:
            if path is not None:
                gmsh.merge(str(path))
            else:
                assert build is not None
                build()
            dim = gmsh.model.getDimension()
        except Exception as exc:  # Gmsh raises bare Exceptions
            error = f"{path or 'geometry'}: {exc}"
    dim, error = comm.bcast((dim, error), root=0)
    if error is not None:
        if comm.rank == 0:
            gmsh.finalize()
        raise InputError("mesh", error)
    try:
        # Shared-facet ghosts: interface integrals (dS) may cross the partition boundaries, as
        # they do in a composite electrode whose particle surfaces fill the volume.
        partitioner = dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode.shared_facet, 2)
        model = _GroupedModel(gmsh.model) if comm.rank == 0 else None
        data = dolfinx.io.gmsh.model_to_mesh(model, comm, 0, gdim=dim, partitioner=partitioner)
    finally:
        if comm.rank == 0:
            gmsh.finalize()
            release_freed_memory()
    groups = data.physical_groups
    tdim = data.mesh.topology.dim
    data.mesh.topology.create_connectivity(tdim - 1, tdim)
    return CellMesh(
        mesh=data.mesh,
        cell_tags=data.cell_tags,
        facet_tags=data.facet_tags,
        cell_names={n: g.tag for n, g in groups.items() if g.dim == tdim},
        facet_names={n: g.tag for n, g in groups.items() if g.dim == tdim - 1},
    )


class _GroupedModel:
    """A Gmsh model seen by ``dolfinx.io.gmsh.model_to_mesh`` as one entity per physical group.

    DOLFINx 0.11 gathers a group's elements entity by entity, growing its arrays by one
    concatenation per entity: quadratic in the entities, of which a composite cathode has two per
    particle (its volume and its surface). On a 1.09M-unknown composite (3582 entities) that took
    20 s of the 48 s of reading and distributing the mesh (23-27 s in all since). Here each
    group's elements of every entity are gathered once and concatenated once; the mesh is the
    same (the elements in the same order)."""

    def __init__(self, model):
        self._model = model
        self.mesh = self
        self._groups: dict[tuple[int, int], tuple] = {}

    def __getattr__(self, name: str):
        return getattr(self._model, name)  # getPhysicalGroups, getPhysicalName, setCurrent

    def getEntitiesForPhysicalGroup(self, dim: int, tag: int) -> list[int]:
        return [tag]  # the group stands for its entities: getElements(dim, tag) gathers them

    def getElements(self, dim: int = -1, tag: int = -1):
        if tag < 0:
            return self._model.mesh.getElements(dim, tag)
        if (dim, tag) not in self._groups:
            gathered: dict[int, tuple[list, list]] = {}
            for entity in self._model.getEntitiesForPhysicalGroup(dim, tag):
                for kind, elements, nodes in zip(*self._model.mesh.getElements(dim, entity), strict=True):
                    gathered.setdefault(kind, ([], []))
                    gathered[kind][0].append(elements)
                    gathered[kind][1].append(nodes)
            kinds = list(gathered)
            self._groups[dim, tag] = (
                kinds,
                [np.concatenate(gathered[k][0]) for k in kinds],
                [np.concatenate(gathered[k][1]) for k in kinds],
            )
        return self._groups.pop((dim, tag))

    def getElementProperties(self, kind: int):
        return self._model.mesh.getElementProperties(kind)

    def getNodes(self, *args, **kwargs):
        return self._model.mesh.getNodes(*args, **kwargs)


def load_mesh(path: str | Path, comm: MPI.Comm = MPI.COMM_WORLD) -> CellMesh:
    """Read a ``.msh`` file (coordinates in micrometres, named physical groups)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("mesh.file", f"no such file: {path}")
    return mesh_from_model(comm, path=path)


#: Below this worst element quality (Gmsh's minSICN, 1 for a regular simplex) a mesh holds a
#: nearly flat element that GAMG's Chebyshev smoothers can miss: on two composite meshes with
#: one element at 1.9e-5 the Poisson solve failed and the coupled solves took twice the Krylov
#: iterations of well-shaped meshes (1.1e-3 to 5.8e-3), on two more at 4.2e-5 1.8-2 times
#: (benchmarks/RESULTS.md, "The odd meshes", "Krylov iterations ... the 27 um composite").
FLAT_ELEMENT_QUALITY = 1.0e-3


def worst_quality() -> float | None:
    """The smallest minSICN quality of the current Gmsh model's tetrahedra (None without any)."""
    _, per_type, _ = gmsh.model.mesh.getElements(3)
    elements = np.concatenate([np.asarray(t) for t in per_type]) if per_type else np.zeros(0)
    return float(gmsh.model.mesh.getElementQualities(elements, "minSICN").min()) if elements.size else None


def write_msh(build: Callable[[], dict | None], path: str | Path) -> dict:
    """Build a Gmsh model and write it as a ``.msh`` file (serial); returns what `build` returns,
    with the worst quality of its tetrahedra, if any (``worst_quality``, :func:`worst_quality`;
    graded 1D and 2D films are anisotropic by design and not measured)."""
    gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    try:
        stats = build() or {}
        if (worst := worst_quality()) is not None:
            stats["worst_quality"] = worst
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        gmsh.write(str(path))
    except InputError:
        raise
    except Exception as exc:  # Gmsh raises bare Exceptions
        raise InputError("mesh", f"geometry: {exc}") from None
    finally:
        gmsh.finalize()
    return stats
