"""PNG renderings of a 2D or 3D run's fields at its first and last field snapshot (``fields/*.png``).

What is drawn, each as the mean of the field over a facet (3D) or a cell or interface segment (2D),
coloured, with a colour bar naming the field and its unit and a title giving the time:

- ``reaction_current``: the charge-transfer current density j at the positive electrode's
  interface with the electrolyte (the particle surfaces of a composite cathode), A/m2, anodic
  positive (a discharge makes it negative): j = i0 (exp(alpha_a F eta/RT) - exp(-alpha_c F eta/RT))
  as the model's kinetics block publishes it (``q["j:positive"]``).
- ``stoichiometry``: the positive active material's stoichiometry c/c_max (1) on that interface
  (3D) or over the positive electrode's cells (2D).
- ``temperature``: T (K) on the cell's outer boundary (3D) or over its cells (2D), with a thermal field.
- ``von_mises``: the von Mises stress (MPa) on the outer boundary (3D) or over the cells (2D),
  with mechanics.

Only the interface facets are drawn for the particle fields (the electrolyte would hide them) and
only the outer boundary for the whole cell's: both are a small part of a 3D mesh. Each value is
the facet (or cell) mean, (int_F f dA) / |F|, assembled against a piecewise-constant test
function on a submesh of those facets; each rank keeps its owned facets and rank 0 gathers them to
draw with matplotlib (Agg; no display and no system package needed). Mesh coordinates are in
micrometres; the stacking direction x is drawn vertical in 3D.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.geometry import tags
from ssbfem.observers import Observer
from ssbfem.results import time_unit

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ssbfem.simulation import Simulation

fem = dolfinx.fem
log = logging.getLogger(__name__)


@dataclass
class Picture:
    """One rendering's data: polygons (n, k, dim) in micrometres and one value per polygon."""

    name: str
    label: str
    polygons: np.ndarray
    values: np.ndarray
    diverging: bool = False
    outline: np.ndarray | None = None  # 2D: the cell's boundary segments


class _Source:
    """A field's facet (or cell) means: the submesh of the entities, the forms of int f v and of
    int v over them (v piecewise constant on the submesh), and the owned entities' polygons."""

    def __init__(self, model, name: str, label: str, expr, entities: np.ndarray, dim: int, kind: str, scale: float):
        msh = model.cellmesh.mesh
        self.name, self.label, self.scale, self.diverging = name, label, scale, name == "reaction_current"
        sub, emap, _, _ = dolfinx.mesh.create_submesh(msh, dim, entities)
        space = fem.functionspace(sub, ("DG", 0))
        v = ufl.TestFunction(space)
        measure, v = _measure(model, kind, entities, dim), v("+") if kind == "interface" else v
        maps = [*model.entity_maps, emap]
        self.value_form = fem.form(expr * v * measure, entity_maps=maps)
        size = sub.topology.index_map(dim).size_local
        self.dofs = space.dofmap.list[:size, 0]  # the owned entities' values
        self.area = self._assemble(fem.form(v * measure, entity_maps=maps))
        self.polygons = _polygons(sub, size, msh.topology.dim)
        if dim == 2 and msh.topology.dim == 3:  # facets: corners anticlockwise seen from outside
            inside = model.cellmesh.cells(tags.POSITIVE) if kind == "interface" else None
            facets = emap.sub_topology_to_topology(np.arange(size, dtype=np.int32), inverse=False)
            self.polygons = _outward(msh, self.polygons, facets, inside)
        # 2D: the cell's outline, which the interface segments are drawn in
        self.outline = _outline(msh) if msh.topology.dim == 2 else None

    def _assemble(self, form) -> np.ndarray:
        b = fem.assemble_vector(form)
        b.scatter_reverse(dolfinx.la.InsertMode.add)
        return b.array[self.dofs].copy()

    def values(self) -> np.ndarray:
        """The owned entities' means of the field (its unit, scaled)."""
        return self.scale * self._assemble(self.value_form) / self.area


def _polygons(mesh, size: int, gdim: int) -> np.ndarray:
    """The first `size` cells of `mesh` as polygons (corners in order around the cell), (n, k, gdim)."""
    corners = dolfinx.cpp.mesh.cell_num_vertices(mesh.topology.cell_type)
    nodes = mesh.geometry.dofmaps[0][:size, :corners]
    if mesh.topology.cell_type == dolfinx.mesh.CellType.quadrilateral:
        nodes = nodes[:, [0, 1, 3, 2]]  # tensor-product numbering to a loop
    return mesh.geometry.x[nodes, :gdim].copy()


def _outward(msh, polygons: np.ndarray, facets: np.ndarray, inside: np.ndarray | None) -> np.ndarray:
    """Facet polygons ordered so that their normal points away from their cell in `inside` (the
    boundary's one cell when None): the side a viewer outside sees."""
    tdim = msh.topology.dim
    connectivity = msh.topology.connectivity(tdim - 1, tdim)
    offsets, links = connectivity.offsets, connectivity.array
    first, last = links[offsets[facets]], links[offsets[facets + 1] - 1]
    cells = first if inside is None else np.where(np.isin(first, inside), first, last)
    centre = dolfinx.mesh.compute_midpoints(msh, tdim, cells.astype(np.int32))
    normal = np.cross(polygons[:, 1] - polygons[:, 0], polygons[:, 2] - polygons[:, 0])
    flip = np.einsum("ij,ij->i", normal, polygons.mean(axis=1) - centre) < 0.0
    out = polygons.copy()
    out[flip] = out[flip][:, ::-1]
    return out


def _outline(msh) -> np.ndarray:
    """A 2D mesh's owned boundary segments, (n, 2, 2)."""
    facets = dolfinx.mesh.exterior_facet_indices(msh.topology)
    sub = dolfinx.mesh.create_submesh(msh, 1, facets)[0]
    return _polygons(sub, sub.topology.index_map(1).size_local, 2)


def _measure(model, kind: str, entities: np.ndarray, dim: int) -> ufl.Measure:
    """The measure over the entities: the interface's (electrolyte on "+"), the outer boundary's or the cells'."""
    msh = model.cellmesh.mesh
    if kind == "interface":
        return model.measures.dS(tags.POSITIVE_INTERFACE)
    if kind == "cells":
        owned = entities[entities < msh.topology.index_map(dim).size_local]
        return ufl.Measure("dx", domain=msh, subdomain_data=[(1, owned)])(1)
    data = fem.compute_integration_domains(fem.IntegralType.exterior_facet, msh.topology, entities)
    return ufl.Measure("ds", domain=msh, subdomain_data=[(1, data)])(1)


def renders(model) -> bool:
    """Whether a model has fields to render: a resolved 2D or 3D cell (CellModel)."""
    from ssbfem.model import CellModel

    return isinstance(model, CellModel) and model.cellmesh.dimension > 1


def field_sources(model, mechanics=None) -> list[_Source]:
    """What a 2D or 3D model renders (none for 1D): the interface's current density and
    stoichiometry, and where present the temperature and von Mises stress."""
    cm, msh = model.cellmesh, model.cellmesh.mesh
    tdim = msh.topology.dim
    if tdim < 2:
        return []
    msh.topology.create_connectivity(tdim - 1, tdim)
    interface = cm.facets(tags.POSITIVE_INTERFACE)
    outer = dolfinx.mesh.exterior_facet_indices(msh.topology) if tdim == 3 else None
    cells = np.arange(msh.topology.index_map(tdim).size_local, dtype=np.int32)
    theta = model.fields["theta"].u
    found = [
        _Source(
            model,
            "reaction_current",
            "Reaction current density (A/m$^2$, anodic > 0)",
            model.q["j:positive"],
            interface,
            tdim - 1,
            "interface",
            1.0,
        ),
    ]
    if tdim == 3:
        found.append(
            _Source(
                model,
                "stoichiometry",
                "Stoichiometry of the active material (1)",
                theta("-"),
                interface,
                2,
                "interface",
                1.0,
            )
        )
    else:
        found.append(
            _Source(
                model,
                "stoichiometry",
                "Stoichiometry of the active material (1)",
                theta,
                cm.cells(tags.POSITIVE),
                2,
                "cells",
                1.0,
            )
        )
    where = (outer, 2, "outer") if tdim == 3 else (cells, 2, "cells")
    if model.temperature_rise is not None:
        found.append(_Source(model, "temperature", "Temperature (K)", model.temperature, *where, 1.0))
    if mechanics is not None:
        found.append(_Source(model, "von_mises", "von Mises stress (MPa)", mechanics.von_mises, *where, 1e-6))
    return found


def gather(comm, source: _Source, values: np.ndarray) -> Picture | None:
    """The whole mesh's picture of one field on rank 0 (None elsewhere)."""
    polygons, values = comm.gather(source.polygons, root=0), comm.gather(values, root=0)
    outline = comm.gather(source.outline, root=0) if source.outline is not None else None
    if comm.rank != 0:
        return None
    whole = np.concatenate(outline) if outline is not None else None
    return Picture(source.name, source.label, np.concatenate(polygons), np.concatenate(values), source.diverging, whole)


def _time_text(t: float) -> str:
    seconds, unit = time_unit(t)
    return f"{t / seconds:.4g} {unit}"


def _norm(picture: Picture) -> tuple:
    """The colour scale (norm, colour map, colour bar extension). A few outlying facets (an
    isolated particle left at its initial stoichiometry) would squeeze the rest into one colour:
    the scale spans the 1st to 99th percentile when that is less than half the whole range, and
    the outliers take the end colours. A current of both signs is coloured blue to red about zero."""
    from matplotlib.colors import Normalize

    lo, hi = float(picture.values.min()), float(picture.values.max())
    extend = "neither"
    p1, p99 = (float(p) for p in np.percentile(picture.values, [1.0, 99.0]))
    if hi > lo and p99 - p1 < 0.5 * (hi - lo):
        lo, hi, extend = p1, p99, "both"
    if picture.diverging and lo < 0.0 < hi:  # both signs (a current): white at zero
        bound = max(-lo, hi)
        return Normalize(-bound, bound), "coolwarm", extend
    if lo == hi:  # a uniform field: a visible colour, the value on the bar
        lo, hi = lo - 0.05 * abs(lo) - 1e-12, hi + 0.05 * abs(hi) + 1e-12
    return Normalize(lo, hi), "viridis", extend


#: Above this many facets a 3D picture draws only those facing the viewer, without edges (a large
#: mesh's picture stays a matter of seconds; the facets turned away are hidden anyway).
CULL_ABOVE = 20_000

#: The view of 3D pictures: elevation and azimuth (degrees) in matplotlib's axes (y, z, x).
VIEW = (25.0, 35.0)


def facing(polygons: np.ndarray, view: tuple[float, float] = VIEW) -> np.ndarray:
    """Which polygons (corners in the drawn axes, ordered anticlockwise seen from outside) face an
    orthographic viewer at elevation and azimuth `view` (degrees)."""
    elev, azim = np.radians(view)
    towards = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    normal = np.cross(polygons[:, 1] - polygons[:, 0], polygons[:, 2] - polygons[:, 0])
    return normal @ towards > 0.0


def _draw_3d(fig, picture: Picture, norm, cmap, cull_above: int):
    """The facets in an isometric (orthographic) view, x (the stacking direction) up, seen from +y, +z
    (the outward side of a symmetry cell's faces)."""
    from matplotlib.ticker import MaxNLocator
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    ax = fig.add_axes((0.0, 0.02, 0.8, 0.9), projection="3d", computed_zorder=False)
    shown = picture.polygons[:, :, [1, 2, 0]]  # y, z across, x up (a cyclic permutation: same orientation)
    lo, hi = shown.reshape(-1, 3).min(axis=0), shown.reshape(-1, 3).max(axis=0)
    values, edges = picture.values, {"edgecolor": (0, 0, 0, 0.15), "linewidth": 0.2}
    if len(shown) > cull_above:
        keep = facing(shown)
        shown, values, edges = shown[keep], values[keep], {"edgecolor": "none", "linewidth": 0.0}
    collection = Poly3DCollection(shown, cmap=cmap, norm=norm, **edges)
    collection.set_array(values)
    ax.add_collection3d(collection)
    for set_lim, a, b in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), lo, hi, strict=True):
        set_lim(a, b)
    aspect = np.maximum(hi - lo, 1e-3 * (hi - lo).max())
    ax.set_box_aspect(aspect, zoom=0.8 if aspect[2] > aspect[:2].max() else 1.0)  # a tall box kept in the figure
    ax.set_proj_type("ortho")
    ax.view_init(elev=VIEW[0], azim=VIEW[1])
    for axis, bins in ((ax.xaxis, 3), (ax.yaxis, 3), (ax.zaxis, 5)):
        axis.set_major_locator(MaxNLocator(bins))
    ax.tick_params(labelsize=8)
    ax.set_xlabel("y (µm)")
    ax.set_ylabel("z (µm)")
    ax.zaxis.set_rotate_label(False)
    ax.set_zlabel("x (µm)", rotation=90)
    return ax, collection


def draw(picture: Picture, path: Path, title: str, cull_above: int = CULL_ABOVE) -> Figure:
    """One picture as a PNG: 3D facets in an isometric view, or 2D cells and interface segments;
    a colour bar with the field's name and unit (its scale from all the values)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PolyCollection

    norm, cmap, extend = _norm(picture)
    polygons = picture.polygons
    if polygons.shape[2] == 3:
        fig = plt.figure(figsize=(7.0, 6.0))
        ax, collection = _draw_3d(fig, picture, norm, cmap, cull_above)
        bar = fig.colorbar(collection, cax=fig.add_axes((0.84, 0.2, 0.025, 0.6)), label=picture.label, extend=extend)
    else:
        fig, ax = plt.subplots(figsize=(7.0, 5.0), layout="constrained")
        if polygons.shape[1] == 2:  # interface segments over the cells' outline
            collection = LineCollection(polygons, cmap=cmap, norm=norm, linewidth=2.5)
        else:
            collection = PolyCollection(polygons, cmap=cmap, norm=norm, edgecolor="face", linewidth=0.2)
        collection.set_array(picture.values)
        if picture.outline is not None:
            ax.add_collection(LineCollection(picture.outline, colors="0.6", linewidth=0.8))
        ax.add_collection(collection)
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_xlabel("x (µm)")
        ax.set_ylabel("y (µm)")
        bar = fig.colorbar(collection, ax=ax, label=picture.label, shrink=0.7, extend=extend)
    bar.formatter.set_useOffset(False)  # whole values on the ticks (a temperature, not an offset from it)
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig


class Renderer(Observer):
    """Renderings (``<directory>/<field>_first.png``, ``_last.png``) at the run's first and last
    field snapshot; a run that starts again from its checkpoint keeps its first ones. A failure
    here is logged as a warning and the run goes on."""

    def __init__(self, model, directory: Path, mechanics=None, logger: logging.Logger | None = None):
        self.model, self.directory, self.mechanics = model, directory, mechanics
        self.log = logger or log
        self.comm = model.cellmesh.mesh.comm
        self.sources: list[_Source] | None = None
        self.rendered_first = False
        self.last: tuple[float, list[np.ndarray]] | None = None  # the latest snapshot's owned values
        self.broken = False

    def values(self) -> list[np.ndarray]:
        if self.sources is None:
            self.sources = field_sources(self.model, self.mechanics)
        return [s.values() for s in self.sources]

    def pictures(self, values: list[np.ndarray]) -> list[Picture | None]:
        """Every field's picture on rank 0 (collective)."""
        return [gather(self.comm, s, v) for s, v in zip(self.sources, values, strict=True)]

    def render(self, t: float, values: list[np.ndarray], which: str) -> list[tuple[Picture, Figure]]:
        """Draw every field at time t (s) into ``<name>_<which>.png``; rank 0 returns what it drew."""
        drawn = []
        for picture in self.pictures(values):
            if picture is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                title = f"{picture.label.split(' (')[0]}, t = {_time_text(t)}"
                drawn.append((picture, draw(picture, self.directory / f"{picture.name}_{which}.png", title)))
        return drawn

    def _guarded(self, action, *args) -> None:
        if self.broken:
            return
        failed = False
        try:
            action(*args)
        except Exception as exc:  # a picture must never stop a run
            failed = True
            self.log.warning("renderings of the fields stopped: %s: %s", type(exc).__name__, exc)
        self.broken = self.comm.allreduce(failed, op=MPI.LOR)  # every rank stops together

    def on_snapshot(self, sim: Simulation, t: float) -> None:
        self._guarded(self._snapshot, t)

    def _snapshot(self, t: float) -> None:
        values = self.values()
        if not self.rendered_first:
            self.render(t, values, "first")
            self.rendered_first = True
        else:
            self.last = (t, values)

    def on_stop(self, sim: Simulation, status: str) -> None:
        if self.last is not None:
            self._guarded(self.render, *self.last, "last")

    def state(self) -> dict:
        return {"rendered_first": self.rendered_first}

    def load_state(self, state: dict) -> None:
        self.rendered_first = bool(state.get("rendered_first", False))
