"""Gmsh (OpenCASCADE) builder of a composite cathode: particles of active material in a solid
electrolyte, on a current collector, under a separator.

Along x (the stacking direction, 0 at the negative terminal): a separator of electrolyte
[0, s], the composite [s, s + L] and the positive current collector [s + L, s + L + c]. The
particles of a :class:`~ssbfem.geometry.packing.Packing`, clipped to the composite box and fused,
form the ``positive`` phase; the rest of the box, less the pores, is ``electrolyte``.

Physical groups (see :mod:`ssbfem.geometry.tags`): cells ``positive``, ``electrolyte``,
``positive_current_collector``; facets ``electrolyte|positive`` (every particle surface facing
the electrolyte, the charge-transfer interface), ``positive|positive_current_collector``,
``negative_terminal`` (the separator's outer face: the Li metal interface),
``positive_terminal`` (the collector's outer face; without a collector the particles' cuts by the
bottom face), ``lateral``. Electrolyte|collector contacts and pore walls stay untagged: they
block both currents.

Contact loss (:class:`ContactLoss`, share f): after meshing, a spherical cap of each particle's
contact with the electrolyte is moved from ``electrolyte|positive`` to the facet group
``detached``. The cap is the part of the particle's interface facets farthest along a random unit
axis u (one per particle, drawn from the seed): the facets are taken in order of decreasing (m -
c).u, m a facet's midpoint and c the particle's centre, until their area reaches f of the
particle's interface area (to within half a facet). A coherent patch rather than scattered facets,
so that the distance lithium must diffuse inside a particle from its remaining contact does not
depend on the mesh. The detached facets belong to no interface of the model: the fields of the
particle (electrons, lithium) and of the electrolyte (ions) live on their own submeshes and meet
only through interface integrals, so a detached facet is a boundary with zero flux on both sides,
a gap. The nodes and cells are those of the mesh without contact loss, and the caps of a smaller
f lie inside those of a larger f with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmsh
import numpy as np

from ssbfem.geometry import tags
from ssbfem.geometry.packing import Packing


@dataclass(frozen=True)
class ContactLoss:
    """Lost contact between the particles and the electrolyte.

    Attributes:
        fraction: Share f (0 <= f < 1) of each particle's interface area with the electrolyte that
            becomes a gap.
        seed: Seed of the random cap axes.
    """

    fraction: float = 0.0
    seed: int = 0


def build_composite(
    packing: Packing,
    separator_um: float,
    collector_um: float,
    mesh_size_um: float,
    mesh_size_max_um: float | None = None,
    name: str = "composite",
    contact_loss: ContactLoss | None = None,
) -> dict[str, float]:
    """Add a meshed composite cathode to the current Gmsh model (call on one rank only).

    Args:
        packing: Particles (and pores) in the composite box, micrometres.
        separator_um: Thickness of the electrolyte layer above the composite (0: none).
        collector_um: Thickness of the current collector below it (0: none).
        mesh_size_um: Element size at the particle (and pore) surfaces.
        mesh_size_max_um: Element size away from them (default 2 x mesh_size_um), reached at one
            mean particle radius from the surfaces.
        name: Gmsh model name.
        contact_loss: Caps of the particles' contact with the electrolyte to detach (default none).

    Returns:
        Volumes measured on the mesh, um3: ``positive``, ``electrolyte_composite`` (in the
        composite box), ``pores``, ``box``; ``volume_fraction`` (positive / box on the mesh) and
        ``geometry_volume_fraction`` (the same of the exact CAD solids: the mesh's flat facets
        cut the particle surfaces, losing about (h/r)^2/4 of their volume), ``geometry_porosity``
        and the number of ``particles``; with contact loss ``detached_area_fraction``, the share of
        the particles' electrolyte contact (interface and detached facets) that was detached.
    """
    occ = gmsh.model.occ
    gmsh.model.add(name)
    lx, ly, lz = packing.box
    x0 = separator_um
    composite = (3, occ.addBox(x0, 0.0, 0.0, lx, ly, lz))
    separator = [(3, occ.addBox(0.0, 0.0, 0.0, separator_um, ly, lz))] if separator_um > 0 else []
    collector = [(3, occ.addBox(x0 + lx, 0.0, 0.0, collector_um, ly, lz))] if collector_um > 0 else []
    ball = lambda c, r: (3, occ.addSphere(x0 + c[0], c[1], c[2], r))
    spheres = [ball(c, r) for c, r in zip(packing.centres, packing.radii, strict=True)]
    pores = [ball(c, r) for c, r in zip(packing.void_centres, packing.void_radii, strict=True)]
    # One fragment of everything (more robust than fusing the spheres first): every piece knows
    # which inputs it lies in; particle lenses stay as internal faces of the positive phase.
    layers = [composite, *separator, *collector]
    _, children = occ.fragment(layers, spheres + pores)
    pieces = lambda outs: {tag for out in outs for _, tag in out}
    in_composite = pieces(children[:1])
    in_separator = pieces(children[1 : 1 + len(separator)])
    cc = pieces(children[1 + len(separator) : len(layers)])
    in_particles = pieces(children[len(layers) : len(layers) + len(spheres)])
    in_pores = pieces(children[len(layers) + len(spheres) :])
    positive = in_composite & in_particles
    electrolyte = (in_composite - in_particles - in_pores) | in_separator
    occ.synchronize()
    dropped = [(3, t) for _, t in gmsh.model.getEntities(3) if t not in positive | electrolyte | cc]
    occ.remove(dropped, recursive=True)  # pores, and particle caps outside the cell
    occ.synchronize()
    phase = {**{t: tags.ELECTROLYTE for t in electrolyte}, **{t: tags.POSITIVE for t in positive}}
    phase.update({t: tags.POSITIVE_CC for t in cc})
    for group, members in ((tags.POSITIVE, positive), (tags.ELECTROLYTE, electrolyte), (tags.POSITIVE_CC, cc)):
        if members:
            gmsh.model.addPhysicalGroup(3, sorted(members), name=group)

    x_end = x0 + lx + collector_um
    facets, pore_walls = _facet_groups(phase, x_end, ly, lz)
    for group, members in facets.items():
        gmsh.model.addPhysicalGroup(2, members, name=group)

    _size_field(facets.get(tags.POSITIVE_INTERFACE, []), pore_walls, packing, mesh_size_um, mesh_size_max_um)
    _generate(phase)
    stats = _statistics(packing, positive, electrolyte - in_separator)
    if contact_loss is not None and contact_loss.fraction > 0.0:
        interface = facets.get(tags.POSITIVE_INTERFACE, [])
        stats["detached_area_fraction"] = detach_caps(packing, x0, interface, contact_loss)
    return stats


def detach_caps(packing: Packing, x0: float, surfaces: list[int], loss: ContactLoss) -> float:
    """Move a cap of each particle's interface facets (see the module's docstring) from the Gmsh
    surfaces `surfaces` to a new surface in the physical group ``detached``; the particles lie at
    x0 + their packing centre. Returns the detached share of the interface area."""
    mesh = gmsh.model.mesh
    xyz = _node_coordinates()
    blocks = [mesh.getElementsByType(2, s) for s in surfaces]  # linear triangles
    surface = np.concatenate([np.full(len(e), s) for s, (e, _) in zip(surfaces, blocks, strict=True)])
    elements = np.concatenate([e for e, _ in blocks]).astype(np.uint64)
    nodes = np.concatenate([n for _, n in blocks]).astype(np.uint64).reshape(-1, 3)
    corners = xyz[nodes.astype(int)]
    mid = corners.mean(axis=1)
    area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    centres = packing.centres + np.array([x0, 0.0, 0.0])
    owner = _owners(mid, centres, packing.radii)
    axes = np.random.default_rng(loss.seed).normal(size=(len(centres), 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    height = np.einsum("ij,ij->i", mid - centres[owner], axes[owner])
    detached = np.zeros(len(area), dtype=bool)
    for particle in np.unique(owner):
        mine = np.flatnonzero(owner == particle)
        order = mine[np.argsort(-height[mine], kind="stable")]
        before = np.cumsum(area[order]) - area[order]
        detached[order[before + 0.5 * area[order] < loss.fraction * area[mine].sum()]] = True
    for s in surfaces:
        chosen = elements[detached & (surface == s)]
        if len(chosen):
            mesh.removeElements(2, s, chosen)
    gap = gmsh.model.addDiscreteEntity(2)
    mesh.addElementsByType(gap, 2, elements[detached], nodes[detached].ravel())
    mesh.reclassifyNodes()
    gmsh.model.addPhysicalGroup(2, [gap], name=tags.DETACHED)
    return float(area[detached].sum() / area.sum()) if len(area) else 0.0


def _owners(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """The particle each point of a particle surface belongs to: the one with the smallest
    |p - c| / r (1 on its sphere, below 1 on its flat cuts by the separator, above 1 for the others)."""
    best = np.full(len(points), np.inf)
    owner = np.zeros(len(points), dtype=int)
    for k, (c, r) in enumerate(zip(centres, radii, strict=True)):
        scaled = np.linalg.norm(points - c, axis=1) / r
        closer = scaled < best
        best[closer], owner[closer] = scaled[closer], k
    return owner


def _generate(phase: dict[int, str]) -> None:
    """Mesh the model in 3D; RuntimeError (with a hint) when Gmsh fails or leaves a volume empty."""
    try:
        gmsh.model.mesh.generate(3)
    except Exception as exc:  # Gmsh raises a bare Exception
        raise RuntimeError(f"Gmsh could not mesh the composite ({exc}); {_RETRY_HINT}") from None
    empty = [t for _, t in gmsh.model.getEntities(3) if not len(gmsh.model.mesh.getElements(3, t)[1])]
    if empty:  # Gmsh only warns
        raise RuntimeError(
            f"Gmsh left {len(empty)} volume(s) ({', '.join(sorted({phase[t] for t in empty}))}) without "
            f"elements; {_RETRY_HINT}"
        )


def _facet_groups(phase: dict[int, str], x_end: float, ly: float, lz: float) -> tuple[dict[str, list[int]], list[int]]:
    """The surfaces of each facet group (interfaces between phases, the terminals at x = 0 and
    x_end, the lateral faces) and the pore walls, from the phase of the volumes on either side."""
    facets: dict[str, list[int]] = {}
    pore_walls: list[int] = []
    eps = 1e-6 * max(x_end, ly, lz)
    for _, surface in gmsh.model.getEntities(2):
        volumes = gmsh.model.getAdjacencies(2, surface)[0]
        sides = {phase[v] for v in volumes}
        if len(volumes) == 2:
            if sides == {tags.ELECTROLYTE, tags.POSITIVE}:
                facets.setdefault(tags.POSITIVE_INTERFACE, []).append(surface)
            elif sides == {tags.POSITIVE, tags.POSITIVE_CC}:
                facets.setdefault(tags.interface_name(tags.POSITIVE, tags.POSITIVE_CC), []).append(surface)
            continue
        (side,) = sides
        xmin, ymin, zmin, xmax, ymax, zmax = gmsh.model.getBoundingBox(2, surface)
        if xmax < eps and side == tags.ELECTROLYTE:
            facets.setdefault(tags.NEGATIVE_TERMINAL, []).append(surface)
        elif xmin > x_end - eps and side != tags.ELECTROLYTE:
            facets.setdefault(tags.POSITIVE_TERMINAL, []).append(surface)
        elif min(ymax, zmax) < eps or ymin > ly - eps or zmin > lz - eps:
            facets.setdefault(tags.LATERAL, []).append(surface)
        else:
            pore_walls.append(surface)
    return facets, pore_walls


def _statistics(packing: Packing, positive: set[int], in_box: set[int]) -> dict[str, float]:
    """Volumes of the meshed phases and the volume fractions on the mesh and of the CAD solids."""
    lx, ly, lz = packing.box
    volumes = _mesh_volumes()
    box = lx * ly * lz
    stats = {
        "positive": sum(volumes[t] for t in positive),
        "electrolyte_composite": sum(volumes[t] for t in in_box),
        "box": box,
    }
    stats["pores"] = box - stats["positive"] - stats["electrolyte_composite"]
    stats["particles"] = len(packing.radii)
    stats["volume_fraction"] = stats["positive"] / box
    stats["geometry_volume_fraction"] = sum(gmsh.model.occ.getMass(3, t) for t in positive) / box
    stats["geometry_porosity"] = float(np.sum(4.0 / 3.0 * np.pi * packing.void_radii**3)) / box
    return stats


_RETRY_HINT = "another cell.composite.seed or cell.composite.mesh_size_um may succeed"


def _size_field(particles: list[int], pores: list[int], packing: Packing, size: float, size_max: float | None) -> None:
    """Element size `size` at the particle surfaces (at most a third of the pore radius at the
    pore walls), growing to `size_max` one mean particle radius away."""
    size_max = size_max or 2.0 * size
    for option in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(option, 0)
    gmsh.option.setNumber("Mesh.MeshSizeMax", max(size_max, size))
    field = gmsh.model.mesh.field
    reach = float(np.mean(packing.radii)) if len(packing.radii) else size_max
    thresholds = []
    pore_size = min(size, float(np.min(packing.void_radii)) / 3.0) if len(packing.void_radii) else size
    for surfaces, fine in ((particles, size), (pores, pore_size)):
        if not surfaces:
            continue
        distance = field.add("Distance")
        field.setNumbers(distance, "SurfacesList", surfaces)
        threshold = field.add("Threshold")
        field.setNumber(threshold, "InField", distance)
        field.setNumber(threshold, "SizeMin", fine)
        field.setNumber(threshold, "SizeMax", max(size_max, fine))
        field.setNumber(threshold, "DistMin", 0.0)
        field.setNumber(threshold, "DistMax", reach)
        thresholds.append(threshold)
    if not thresholds:
        return
    smallest = field.add("Min")
    field.setNumbers(smallest, "FieldsList", thresholds)
    field.setAsBackgroundMesh(smallest)


def _node_coordinates() -> np.ndarray:
    """Coordinates of the mesh's nodes, indexed by node tag."""
    node_tags, coords, _ = gmsh.model.mesh.getNodes()
    xyz = np.zeros((int(node_tags.max()) + 1, 3))
    xyz[node_tags.astype(int)] = coords.reshape(-1, 3)
    return xyz


def _mesh_volumes() -> dict[int, float]:
    """Volume of the tetrahedra of each volume entity, um3."""
    xyz = _node_coordinates()
    out = {}
    for _, tag in gmsh.model.getEntities(3):
        _, _, nodes = gmsh.model.mesh.getElements(3, tag)
        tets = xyz[np.asarray(nodes[0], dtype=int).reshape(-1, 4)]
        a, b, c = (tets[:, k] - tets[:, 0] for k in (1, 2, 3))
        out[tag] = float(np.abs(np.einsum("ij,ij->i", a, np.cross(b, c))).sum() / 6.0)
    return out
