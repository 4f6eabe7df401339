"""Gmsh builder for a 3D unit cell whose Li | electrolyte contact is lost except on circular spots.

Voids at the Li | electrolyte interface are modelled as insulating patches of zero thickness: the
electrolyte's face at the Li side touches Li only on one circular spot per square of side `pitch`
(a periodic array). The mesh is the symmetry cell of that array, a quarter spot at the corner
y = z = 0 of a square of side pitch/2, so the contact area fraction is f = pi a^2 / pitch^2.
Only the spot carries the physical group of the interface (``negative_terminal`` when Li is not
meshed, ``negative|electrolyte`` when it is); the rest of the face is in no group, and a facet
in no group is insulating (see :mod:`ssbfem.model`). The current density is singular at the
spot's edge (as 1/sqrt(distance), Newman 1966), so the mesh is refined towards that edge.
The voids block charge only: heat conduction and mechanics see one bonded mesh.

Layers are stacked along x with the negative terminal at x = 0 (see :mod:`ssbfem.geometry.tags`);
coordinates are in micrometres.
"""

from __future__ import annotations

import itertools
import math

import gmsh

from ssbfem.geometry import tags
from ssbfem.geometry.thin_film import Layer


def pitch_of(spot_radius_um: float, area_fraction: float) -> float:
    """Side of the square per spot, micrometres: pi a^2 / pitch^2 = f."""
    return spot_radius_um * math.sqrt(math.pi / area_fraction)


def refine_towards_curves(curves: list[int], size_min: float, size_max: float, growth: float = 0.25) -> None:
    """Set the mesh size to `size_min` on `curves`, growing by `growth` per unit distance from them
    up to `size_max` (Gmsh fields Distance + Threshold). A size proportional to the distance
    from a singular edge is the grading that recovers the convergence rate there."""
    field = gmsh.model.mesh.field
    dist = field.add("Distance")
    field.setNumbers(dist, "CurvesList", curves)
    field.setNumber(dist, "Sampling", 200)
    threshold = field.add("Threshold")
    field.setNumber(threshold, "InField", dist)
    field.setNumber(threshold, "SizeMin", size_min)
    field.setNumber(threshold, "SizeMax", size_max)
    field.setNumber(threshold, "DistMin", 0.0)
    field.setNumber(threshold, "DistMax", max(size_max - size_min, 0.0) / growth)
    field.setAsBackgroundMesh(threshold)
    # The field alone sets the size (no sizes from points, curvature or boundary extension).
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)


def quarter_disk(x: float, radius: float) -> int:
    """A quarter disk in the plane x = const, centred on (x, 0, 0), in y, z >= 0 (OpenCASCADE);
    returns its surface tag. Its arc is the only curve of Gmsh type "Circle"."""
    occ = gmsh.model.occ
    centre = occ.addPoint(x, 0.0, 0.0)
    on_y = occ.addPoint(x, radius, 0.0)
    on_z = occ.addPoint(x, 0.0, radius)
    arc = occ.addCircleArc(on_y, centre, on_z)
    return occ.addPlaneSurface([occ.addCurveLoop([occ.addLine(centre, on_y), arc, occ.addLine(on_z, centre)])])


def build_contact_cell(
    layers: list[Layer],
    spot_radius_um: float,
    area_fraction: float,
    element_size_um: float | None = None,
    edge_element_size_um: float | None = None,
    name: str = "contact",
) -> None:
    """Add the meshed symmetry cell of a stack with patchy Li contact to the current Gmsh model
    (call on one rank only).

    Args:
        layers: Layers in stacking order, negative terminal first (their element counts are
            not used: the mesh is unstructured); must contain the electrolyte.
        spot_radius_um: Radius a of a contact spot, micrometres.
        area_fraction: Contact area fraction f = pi a^2 / pitch^2, 0 < f < pi/4.
        element_size_um: Element size away from the spot's edge (default: a quarter of the
            smaller of the thinnest layer and pitch/2).
        edge_element_size_um: Element size at the spot's edge (default: a/20).
        name: Gmsh model name.

    Physical groups: one per layer, one per interface between adjacent layers (the Li side of
    the electrolyte on the spot only), ``negative_terminal`` and ``positive_terminal`` on the
    faces at the two ends, ``lateral`` on the symmetry planes y, z = 0 and pitch/2.
    """
    if not 0.0 < area_fraction < math.pi / 4:
        raise ValueError(f"area fraction must lie in (0, pi/4) for a spot inside its square, got {area_fraction}")
    names = [layer.name for layer in layers]
    if tags.ELECTROLYTE not in names:
        raise ValueError("the stack has no electrolyte")
    half = 0.5 * pitch_of(spot_radius_um, area_fraction)
    xs = [0.0]
    for layer in layers:
        xs.append(xs[-1] + layer.thickness_um)
    x_face = xs[names.index(tags.ELECTROLYTE)]
    h_max = element_size_um or 0.25 * min(half, *(layer.thickness_um for layer in layers))
    h_min = edge_element_size_um or spot_radius_um / 20.0

    gmsh.model.add(name)
    occ = gmsh.model.occ
    boxes = [occ.addBox(x0, 0.0, 0.0, x1 - x0, half, half) for x0, x1 in itertools.pairwise(xs)]
    spot = quarter_disk(x_face, spot_radius_um)
    occ.fragment([(3, b) for b in boxes], [(2, spot)])
    occ.synchronize()

    eps = 1e-6 * max(1.0, xs[-1], half)  # OpenCASCADE bounding boxes are padded by its tolerance

    def within(dim: int, x0: float, x1: float, extent: float = half) -> list[int]:
        found = []
        for _, tag in gmsh.model.getEntities(dim):
            xmin, _, _, xmax, ymax, zmax = gmsh.model.getBoundingBox(dim, tag)
            if xmin >= x0 - eps and xmax <= x1 + eps and ymax <= extent + eps and zmax <= extent + eps:
                found.append(tag)
        return found

    for i, layer in enumerate(layers):
        gmsh.model.addPhysicalGroup(3, within(3, xs[i], xs[i + 1]), name=layer.name)
    for i, x in enumerate(xs):
        if i == 0:
            pname = tags.NEGATIVE_TERMINAL
        elif i == len(layers):
            pname = tags.POSITIVE_TERMINAL
        else:
            pname = tags.interface_name(layers[i - 1].name, layers[i].name)
        # On the Li side of the electrolyte only the spot is in contact; the rest is void.
        faces = within(2, x, x, spot_radius_um if x == x_face else half)
        gmsh.model.addPhysicalGroup(2, faces, name=pname)
    planes = {tag for x in xs for tag in within(2, x, x)}
    lateral = [tag for _, tag in gmsh.model.getEntities(2) if tag not in planes]
    gmsh.model.addPhysicalGroup(2, lateral, name=tags.LATERAL)

    edge = [
        tag
        for tag in within(1, x_face, x_face, spot_radius_um)
        if gmsh.model.getType(1, tag) == "Circle"  # the arc, not the straight edges on y, z = 0
    ]
    refine_towards_curves(edge, h_min, h_max)
    gmsh.model.mesh.generate(3)


def build_disk_electrode(radius: float, counter_radius: float, size_min: float, growth: float) -> None:
    """Add the meshed quarter of a disk electrode flush with an insulating plane (verification
    case G) to the current Gmsh model (call on one rank only).

    The domain is the quarter x, y, z > 0 of the half-space x > 0 inside the hemisphere of radius
    `counter_radius`; the disk x = 0, y^2 + z^2 < radius^2 is the face group ``disk``, the
    hemisphere the face group ``counter``, the volume ``electrolyte``; the planes x, y, z = 0
    are in no group (insulating or symmetry). The mesh is refined towards the disk's edge: size
    `size_min` there, growing by `growth` per unit distance up to counter_radius/5.
    """
    gmsh.model.add("disk_electrode")
    occ = gmsh.model.occ
    b = counter_radius
    occ.intersect([(3, occ.addSphere(0, 0, 0, b))], [(3, occ.addBox(0, 0, 0, b, b, b))])
    occ.fragment(occ.getEntities(3), [(2, quarter_disk(0.0, radius))])
    occ.synchronize()
    gmsh.model.addPhysicalGroup(3, [t for _, t in gmsh.model.getEntities(3)], name=tags.ELECTROLYTE)
    eps = 1e-6 * b

    def on_disk(dim: int, tag: int) -> bool:
        _, _, _, xmax, ymax, zmax = gmsh.model.getBoundingBox(dim, tag)
        return xmax < eps and ymax < radius + eps and zmax < radius + eps

    faces = [t for _, t in gmsh.model.getEntities(2)]
    gmsh.model.addPhysicalGroup(2, [t for t in faces if on_disk(2, t)], name="disk")
    gmsh.model.addPhysicalGroup(2, [t for t in faces if gmsh.model.getType(2, t) == "Sphere"], name="counter")
    edge = [t for _, t in gmsh.model.getEntities(1) if on_disk(1, t) and gmsh.model.getType(1, t) == "Circle"]
    refine_towards_curves(edge, size_min, 0.2 * b, growth)
    gmsh.model.mesh.generate(3)
