"""Gmsh builder for a planar stack of layers in 1D, 2D or 3D.

The stack is meshed as a tensor product: a graded 1D mesh through the thickness (x), extruded
with uniform quadrilaterals (2D, in y) or hexahedra (3D, in y and z). Every layer is graded
towards the faces it shares with the electrolyte, where concentration and potential vary
fastest. Coordinates are in micrometres (see :mod:`ssbfem.geometry.tags`).
"""

from __future__ import annotations

from dataclasses import dataclass

import gmsh

from ssbfem.geometry import tags


@dataclass(frozen=True)
class Layer:
    """One layer of the stack.

    Attributes:
        name: Physical-group name of the layer (see :mod:`ssbfem.geometry.tags`).
        thickness_um: Thickness through the stack, micrometres.
        elements: Number of elements through the thickness.
        refine_start: Grade the mesh towards the face at smaller x.
        refine_end: Grade the mesh towards the face at larger x.
        grading: This layer's ratio of largest to smallest element (None: the stack's).
    """

    name: str
    thickness_um: float
    elements: int
    refine_start: bool = False
    refine_end: bool = False
    grading: float | None = None


def _graded_line(p0: int, p1: int, n: int, grading: float, towards_start: bool) -> int:
    """A transfinite line of n elements whose sizes grow geometrically by `grading` overall."""
    line = gmsh.model.geo.addLine(p0, p1)
    ratio = grading ** (1.0 / max(n - 1, 1)) if n > 1 else 1.0
    gmsh.model.geo.mesh.setTransfiniteCurve(line, n + 1, "Progression", ratio if towards_start else 1 / ratio)
    return line


def _stack_lines(layers: list[Layer], grading: float) -> tuple[list[int], list[list[int]]]:
    """The points at x = 0 and at every layer's end, and each layer's transfinite lines (two
    for a layer refined at both ends, graded towards its middle)."""
    geo = gmsh.model.geo
    x = 0.0
    points = [geo.addPoint(0.0, 0.0, 0.0)]
    layer_lines: list[list[int]] = []
    for layer in layers:
        x0, x = x, x + layer.thickness_um
        end = geo.addPoint(x, 0.0, 0.0)
        start = points[-1]
        n = layer.elements
        grading_here = layer.grading or grading
        if layer.refine_start and layer.refine_end:
            mid = geo.addPoint(0.5 * (x0 + x), 0.0, 0.0)
            n0 = max(n // 2, 1)
            lines = [
                _graded_line(start, mid, n0, grading_here, towards_start=True),
                _graded_line(mid, end, max(n - n0, 1), grading_here, towards_start=False),
            ]
        elif layer.refine_end:
            lines = [_graded_line(start, end, n, grading_here, towards_start=False)]
        elif layer.refine_start:
            lines = [_graded_line(start, end, n, grading_here, towards_start=True)]
        else:
            lines = [_graded_line(start, end, n, 1.0, towards_start=True)]
        layer_lines.append(lines)
        points.append(end)
    return points, layer_lines


def build_thin_film(
    layers: list[Layer],
    dimension: int,
    width_um: float = 10.0,
    in_plane_elements: int = 1,
    grading: float = 10.0,
    name: str = "thin_film",
    outer_names: tuple[str, str] = (tags.NEGATIVE_TERMINAL, tags.POSITIVE_TERMINAL),
) -> None:
    """Add a meshed planar stack to the current Gmsh model (call on one rank only).

    Args:
        layers: Layers in stacking order, negative terminal first.
        dimension: 1, 2 or 3.
        width_um: In-plane edge length of the square (3D) or strip (2D), micrometres.
        in_plane_elements: Elements along each in-plane edge.
        grading: Ratio of the largest to the smallest element within a refined layer.
        name: Gmsh model name.
        outer_names: Names of the faces at the two ends of the stack.

    Physical groups: one per layer (its name), one per interface between adjacent layers
    (``"a|b"``), ``negative_terminal`` and ``positive_terminal`` on the two outer faces, and
    ``lateral`` on the in-plane boundary (2D and 3D).
    """
    if dimension not in (1, 2, 3):
        raise ValueError(f"dimension must be 1, 2 or 3, got {dimension}")
    geo = gmsh.model.geo
    gmsh.model.add(name)
    points, layer_lines = _stack_lines(layers, grading)

    # Entities of each layer and each x = const plane, per dimension.
    layer_entities = [list(lines) for lines in layer_lines]
    plane_entities = [[p] for p in points]
    lateral: list[int] = []
    for axis in range(1, dimension):
        dy, dz = (width_um, 0.0) if axis == 1 else (0.0, width_um)
        new_layers, new_planes = [], []
        # Extrude plane entities first so that the layer extrusions reuse their images.
        for ents in plane_entities:
            out = geo.extrude([(axis - 1, e) for e in ents], 0.0, dy, dz, [in_plane_elements], recombine=True)
            new_planes.append([tag for dim, tag in out if dim == axis])
        for ents in layer_entities:
            out = geo.extrude([(axis, e) for e in ents], 0.0, dy, dz, [in_plane_elements], recombine=True)
            new_layers.append([tag for dim, tag in out if dim == axis + 1])
        layer_entities, plane_entities = new_layers, new_planes
    geo.removeAllDuplicates()
    gmsh.model.geo.synchronize()

    tdim = dimension
    xs = _interfaces_x(layers)
    groups: dict[tuple[int, str], list[int]] = {}  # a name may recur (the layers of a stack)
    for i, layer in enumerate(layers):
        groups.setdefault((tdim, layer.name), []).extend(_entities_between(tdim, xs[i], xs[i + 1]))
    for i, xi in enumerate(xs):
        if i == 0:
            pname = outer_names[0]
        elif i == len(xs) - 1:
            pname = outer_names[1]
        else:
            pname = tags.interface_name(layers[i - 1].name, layers[i].name)
        groups.setdefault((tdim - 1, pname), []).extend(_entities_between(tdim - 1, xi, xi))
    for (dim, pname), ents in groups.items():
        gmsh.model.addPhysicalGroup(dim, ents, name=pname)
    if dimension > 1:
        planes = {e for xi in xs for e in _entities_between(tdim - 1, xi, xi)}
        lateral = [tag for _, tag in gmsh.model.getEntities(tdim - 1) if tag not in planes]
        gmsh.model.addPhysicalGroup(tdim - 1, lateral, name=tags.LATERAL)
    gmsh.model.mesh.generate(tdim)


def _interfaces_x(layers: list[Layer]) -> list[float]:
    xs = [0.0]
    for layer in layers:
        xs.append(xs[-1] + layer.thickness_um)
    return xs


def _entities_between(dim: int, x0: float, x1: float) -> list[int]:
    """Entities of dimension `dim` whose bounding box lies within x0 <= x <= x1."""
    eps = 1e-9 * max(1.0, abs(x1))
    found = []
    for _, tag in gmsh.model.getEntities(dim):
        xmin, _, _, xmax, _, _ = gmsh.model.getBoundingBox(dim, tag)
        if xmin >= x0 - eps and xmax <= x1 + eps:
            found.append(tag)
    return found
