"""Gmsh builder for a 3D interdigitated cell: positive pillars or plates coated by the electrolyte,
with Li filling the space between them.

The positive electrode is a base film on the positive current collector with an array of
pillars (square or round, in 3D) or plates (fins, a 2D-extruded trench, in 2D or 3D) standing on
it. A conformal electrolyte coating covers the base film and the pillars; the negative electrode
(Li metal) fills the rest up to a planar top, optionally under a negative current collector.

Only a symmetry cell is meshed: a quarter of one pillar's square of the array (half of one plate's
strip), whose lateral faces are mirror planes of the array, so that no-flux (insulated) is exact
there. Stacking direction is x, from the negative terminal (x = 0) to the positive terminal, as in
:mod:`ssbfem.geometry.tags`; the pillars point towards -x. Coordinates are in micrometres.

The coating is the set of points within a distance t of the positive electrode (its outer surface
is the offset surface, rounded around convex edges and sharp in concave corners). With a graded
coating (Talin et al., ACS Appl. Mater. Interfaces 8 (2016) 32385: the sputtered electrolyte is
thicker at the top of the structure than at the bottom of the trenches), t grows linearly along
the pillar from the coating at its foot (and on the base film) to the coating on its tip.

The area enhancement factor is AEF = A(electrolyte|positive) / A(footprint) (Pang et al. 2021,
eq. 17), per unit cell of pitch p, pillar width (diameter) w and height h:
square pillars 1 + 4 w h / p^2, round pillars 1 + pi w h / p^2, plates 1 + 2 h / p.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gmsh

from ssbfem.errors import InputError
from ssbfem.geometry import tags

if TYPE_CHECKING:
    from ssbfem.settings.cell import Cell as CellSettings

#: Side-surface area of one pillar per unit height and width, over the footprint of its cell times
#: the pitch (the d(AEF)/dh = FACTOR * w / p^2 of each shape; for plates d(AEF)/dh = 2 / p).
_SIDE_FACTOR = {"square": 4.0, "round": math.pi}


@dataclass(frozen=True)
class Interdigitated:
    """Geometry of an interdigitated symmetry cell, micrometres.

    Attributes:
        shape: "square" or "round" pillars, or "plate" (fins).
        pitch_um: Centre-to-centre distance of neighbouring pillars (plates).
        width_um: Pillar edge length or diameter (plate thickness).
        height_um: Pillar height above the base film (0: a planar thin film).
        positive_um: Thickness of the positive base film.
        coating_um: Electrolyte thickness on the base film and at the foot of the pillars.
        coating_top_um: Electrolyte thickness on the pillar tips (graded coating; None: uniform).
        negative_um: Li thickness above the coated tips.
        negative_cc_um: Negative current collector thickness (0: none).
        positive_cc_um: Positive current collector thickness (0: none).
        dimension: 3, or 2 for plates (a cross-section).
        mesh_size_um: Largest element size (default pitch / 4).
        interface_mesh_size_um: Element size at the charge-transfer interfaces (default half the
            thinnest coating).
    """

    shape: str
    pitch_um: float
    width_um: float
    height_um: float
    positive_um: float
    coating_um: float
    negative_um: float
    coating_top_um: float | None = None
    negative_cc_um: float = 0.0
    positive_cc_um: float = 0.0
    dimension: int = 3
    mesh_size_um: float | None = None
    interface_mesh_size_um: float | None = None

    @property
    def top_coating_um(self) -> float:
        return self.coating_um if self.coating_top_um is None else self.coating_top_um

    @property
    def half_pitch(self) -> float:
        return 0.5 * self.pitch_um

    def area_enhancement(self) -> float:
        """AEF = A(electrolyte|positive) / A(footprint)."""
        return area_enhancement(self.shape, self.pitch_um, self.width_um, self.height_um)

    def positive_thickness_um(self) -> float:
        """Positive volume (base film and pillars) per footprint area, micrometres."""
        p, w, h = self.pitch_um, self.width_um, self.height_um
        pillar = {"square": w * w / (p * p), "round": math.pi * w * w / (4 * p * p), "plate": w / p}[self.shape]
        return self.positive_um + pillar * h

    def x_positions(self) -> dict[str, float]:
        """Stacking coordinates: the Li's flat bottom, the pillar tips, the base film top and the
        end of the positive electrode."""
        flat = self.negative_cc_um + self.negative_um
        if self.height_um > 0:
            tip = flat + self.top_coating_um
            base = tip + self.height_um
        else:
            tip = base = flat + self.coating_um
        return {"flat": flat, "tip": tip, "base": base, "end": base + self.positive_um}


def area_enhancement(shape: str, pitch_um: float, width_um: float, height_um: float) -> float:
    """AEF of an array of pillars (plates) of the given shape, width and height (Pang et al. 2021, eq. 17)."""
    if shape == "plate":
        return 1.0 + 2.0 * height_um / pitch_um
    return 1.0 + _SIDE_FACTOR[shape] * width_um * height_um / pitch_um**2


def height_for_aef(shape: str, pitch_um: float, width_um: float, aef: float) -> float:
    """Pillar (plate) height that gives the area enhancement factor `aef`, micrometres."""
    if aef < 1.0:
        raise InputError("cell.interdigitated.aef", f"must be at least 1 (a flat film), got {aef}")
    if shape == "plate":
        return 0.5 * (aef - 1.0) * pitch_um
    return (aef - 1.0) * pitch_um**2 / (_SIDE_FACTOR[shape] * width_um)


def design_from_config(cell: CellSettings) -> Interdigitated:
    """The geometry of a ``[cell]`` with ``architecture = "interdigitated"``.

    The positive base film is ``cell.positive.thickness_um``, the coating
    ``cell.electrolyte.thickness_um`` and the Li above the coated tips ``cell.negative.thickness_um``,
    so that AEF = 1 is the thin-film cell of the same layers.
    """
    key = "cell.interdigitated"
    section = cell.interdigitated
    if section is None:
        raise InputError(key, "required section for architecture 'interdigitated' is missing")
    if cell.units > 1:
        raise InputError("cell.units", "a stack of interdigitated unit cells is not supported (units must be 1)")
    if not cell.negative.thickness_um:
        raise InputError("cell.negative.thickness_um", "required by the interdigitated cell (Li fills the trenches)")
    shape = section.shape
    if shape != "plate" and cell.dimension != 3:
        raise InputError("cell.dimension", f"{shape} pillars need dimension 3, got {cell.dimension}")
    if shape == "plate" and cell.dimension == 1:
        raise InputError("cell.dimension", "plates need dimension 2 or 3, got 1")
    pitch, width = section.pitch_um, section.width_um
    height, aef = section.height_um, section.aef
    if (height is None) == (aef is None):
        raise InputError(f"{key}.height_um", "give either height_um or aef (the target area enhancement factor)")
    if aef is not None:
        height = height_for_aef(shape, pitch, width, aef)
    coating = cell.electrolyte.thickness_um
    coating_top = section.coating_top_um
    thickest = max(coating, coating_top or coating)
    if height > 0 and width + 2 * thickest >= pitch:
        raise InputError(
            f"{key}.width_um",
            f"the coated pillar ({width} um + 2 x {thickest} um of electrolyte) does not fit in the pitch {pitch} um",
        )
    return Interdigitated(
        shape=shape,
        pitch_um=pitch,
        width_um=width,
        height_um=height,
        positive_um=cell.positive.thickness_um,
        coating_um=coating,
        coating_top_um=coating_top,
        negative_um=cell.negative.thickness_um,
        negative_cc_um=cell.negative_current_collector.thickness_um if cell.negative_current_collector else 0.0,
        positive_cc_um=cell.positive_current_collector.thickness_um if cell.positive_current_collector else 0.0,
        dimension=cell.dimension,
        mesh_size_um=section.mesh_size_um,
        interface_mesh_size_um=section.interface_mesh_size_um,
    )


class _Shapes:
    """OCC primitives in the symmetry cell's frame: boxes clipped to the cell's in-plane extent,
    and plate profiles in (x, y) extruded through the depth in 3D."""

    def __init__(self, design: Interdigitated):
        self.d = design
        self.dim = design.dimension
        self.depth = design.half_pitch  # in-plane z extent of a 3D plate cell

    def box(self, x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> tuple[int, int]:
        occ = gmsh.model.occ
        if self.dim == 2:
            return (2, occ.addRectangle(x0, y0, 0.0, x1 - x0, y1 - y0))
        if self.d.shape == "plate":
            z0, z1 = 0.0, self.depth
        return (3, occ.addBox(x0, y0, z0, x1 - x0, y1 - y0, z1 - z0))

    def slab(self, x0: float, x1: float) -> tuple[int, int]:
        """The whole cross-section of the cell between x0 and x1."""
        h = self.d.half_pitch
        return self.box(x0, x1, 0.0, h, 0.0, h)

    def profile(self, points: list[tuple[float, float]]) -> tuple[int, int]:
        """A polygon in (x, y) (a prism through the depth in 3D)."""
        occ = gmsh.model.occ
        pts = [occ.addPoint(x, y, 0.0) for x, y in points]
        lines = [occ.addLine(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts))]
        surface = occ.addPlaneSurface([occ.addCurveLoop(lines)])
        if self.dim == 2:
            return (2, surface)
        return next(e for e in occ.extrude([(2, surface)], 0.0, 0.0, self.depth) if e[0] == 3)

    def disk(self, x: float, y: float, r: float) -> tuple[int, int]:
        occ = gmsh.model.occ
        if self.dim == 2:
            return (2, occ.addDisk(x, y, 0.0, r, r))
        return (3, occ.addCylinder(x, y, 0.0, 0.0, 0.0, self.depth, r))


def _pillar_and_coating(design: Interdigitated, s: _Shapes, x: dict[str, float]):
    """The pillar (core) and the pieces whose union is its coated outer shape, before clipping."""
    occ = gmsh.model.occ
    a, tb, tt = 0.5 * design.width_um, design.coating_um, design.top_coating_um
    tip, base, inside = x["tip"], x["base"], 0.5 * (x["base"] + x["end"])
    if design.shape == "square":
        core = s.box(tip, inside, -a, a, -a, a)
        pieces = [s.box(tip - tt, inside, -a, a, -a, a)]
        # Side faces: a prism whose thickness goes from tb at the foot to tt at the tip.
        trapezoid = [(base, 0.0), (base, a + tb), (tip, a + tt), (tip, 0.0)]
        for in_plane in ((1, 2), (2, 1)):  # the trapezoid in the (x, y) plane swept along z, and vice versa
            pts = []
            for px, py in trapezoid:
                xyz = [px, -a, -a]
                xyz[in_plane[0]] = py
                pts.append(occ.addPoint(*xyz))
            lines = [occ.addLine(pts[i], pts[(i + 1) % 4]) for i in range(4)]
            surface = occ.addPlaneSurface([occ.addCurveLoop(lines)])
            sweep = [0.0, 0.0, 0.0]
            sweep[in_plane[1]] = 2 * a
            pieces.append(next(e for e in occ.extrude([(2, surface)], *sweep) if e[0] == 3))
        # The long edge (a cone: radius tb to tt), the tip edges and the tip corner.
        pieces.append(_cone(base, (a, a), tip - base, tb, tt))
        pieces.append((3, occ.addCylinder(tip, -a, a, 0.0, 2 * a, 0.0, tt)))
        pieces.append((3, occ.addCylinder(tip, a, -a, 0.0, 0.0, 2 * a, tt)))
        pieces.append((3, occ.addSphere(tip, a, a, tt)))
    elif design.shape == "round":
        core = (3, occ.addCylinder(tip, 0.0, 0.0, inside - tip, 0.0, 0.0, a))
        pieces = [
            _cone(base, (0.0, 0.0), tip - base, a + tb, a + tt),
            (3, occ.addCylinder(tip - tt, 0.0, 0.0, inside - tip + tt, 0.0, 0.0, a)),
            (3, occ.addTorus(tip, 0.0, 0.0, a, tt, zAxis=[1.0, 0.0, 0.0])),
        ]
    else:
        core = s.box(tip, inside, -a, a, 0.0, 0.0)
        pieces = [
            s.box(tip - tt, inside, -a, a, 0.0, 0.0),
            s.profile([(base, 0.0), (base, a + tb), (tip, a + tt), (tip, 0.0)]),
            s.disk(tip, a, tt),
        ]
    return core, pieces


def _cone(x0: float, yz: tuple[float, float], dx: float, r0: float, r1: float) -> tuple[int, int]:
    occ = gmsh.model.occ
    if math.isclose(r0, r1):
        return (3, occ.addCylinder(x0, yz[0], yz[1], dx, 0.0, 0.0, r0))
    return (3, occ.addCone(x0, yz[0], yz[1], dx, 0.0, 0.0, r0, r1))


def build_interdigitated(design: Interdigitated, name: str = "interdigitated") -> None:
    """Add the meshed symmetry cell of `design` to the current Gmsh model (call on one rank only).

    Physical groups as :func:`ssbfem.geometry.thin_film.build_thin_film`: one per layer, one per
    contact between layers adjacent in :data:`ssbfem.geometry.tags.LAYER_ORDER` (the others, e.g.
    electrolyte on a collector, are left untagged: blocking), ``negative_terminal`` at x = 0,
    ``positive_terminal`` at the other end and ``lateral`` on the symmetry planes.
    """
    occ = gmsh.model.occ
    gmsh.model.add(name)
    s = _Shapes(design)
    x = design.x_positions()
    end = x["end"] + design.positive_cc_um

    def clip(entities: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return occ.intersect(entities, [s.slab(-1.0, end + 1.0)])[0]

    positive = [s.slab(x["base"], x["end"])]
    outer = [s.slab(x["base"] - design.coating_um, x["end"])]
    if design.height_um > 0:
        core, pieces = _pillar_and_coating(design, s, x)
        positive = occ.fuse(positive, clip([core]))[0]
        outer = occ.fuse(outer, clip(occ.fuse([pieces[0]], pieces[1:])[0]))[0]
    negative = occ.cut([s.slab(design.negative_cc_um, x["base"])], outer, removeTool=False)[0]
    electrolyte = occ.cut(outer, positive, removeTool=False)[0]
    layers = {tags.NEGATIVE: negative, tags.ELECTROLYTE: electrolyte, tags.POSITIVE: positive}
    if design.negative_cc_um > 0:
        layers[tags.NEGATIVE_CC] = [s.slab(0.0, design.negative_cc_um)]
    if design.positive_cc_um > 0:
        layers[tags.POSITIVE_CC] = [s.slab(x["end"], end)]
    order = [n for n in tags.LAYER_ORDER if n in layers]
    inputs = [e for n in order for e in layers[n]]
    owner = [n for n in order for _ in layers[n]]
    _, children = occ.fragment(inputs, [])
    occ.synchronize()

    tdim = design.dimension
    layer_of: dict[int, str] = {}
    for name_, kids in zip(owner, children, strict=True):
        for dim, tag in kids:
            if dim == tdim:
                layer_of[tag] = name_
    groups: dict[str, list[int]] = {}
    for tag, name_ in layer_of.items():
        groups.setdefault(name_, []).append(tag)
    for name_ in order:
        gmsh.model.addPhysicalGroup(tdim, groups[name_], name=name_)

    facets: dict[str, list[int]] = {}
    eps = 1e-4  # um; OCC bounding boxes carry a tolerance
    for _, tag in gmsh.model.getEntities(tdim - 1):
        sides = sorted({layer_of[v] for v in gmsh.model.getAdjacencies(tdim - 1, tag)[0]}, key=tags.LAYER_ORDER.index)
        if len(sides) == 2:
            if tags.LAYER_ORDER.index(sides[1]) - tags.LAYER_ORDER.index(sides[0]) == 1:
                facets.setdefault(tags.interface_name(*sides), []).append(tag)
            continue
        if len(gmsh.model.getAdjacencies(tdim - 1, tag)[0]) != 1:
            continue  # an internal face between two volumes of one layer
        xmin, _, _, xmax, _, _ = gmsh.model.getBoundingBox(tdim - 1, tag)
        if xmax <= eps:
            facets.setdefault(tags.NEGATIVE_TERMINAL, []).append(tag)
        elif xmin >= end - eps:
            facets.setdefault(tags.POSITIVE_TERMINAL, []).append(tag)
        else:
            facets.setdefault(tags.LATERAL, []).append(tag)
    for name_, ents in facets.items():
        gmsh.model.addPhysicalGroup(tdim - 1, ents, name=name_)
    _size_mesh(design, facets[tags.POSITIVE_INTERFACE] + facets[tags.NEGATIVE_INTERFACE])
    gmsh.model.mesh.generate(tdim)
    if tdim == 3:
        gmsh.model.mesh.optimize("Netgen")  # removes the slivers Delaunay leaves near curved faces


def _size_mesh(design: Interdigitated, interfaces: list[int]) -> None:
    """Elements of interface_mesh_size_um on the charge-transfer interfaces, growing to
    mesh_size_um over a few of them."""
    coarse = design.mesh_size_um or 0.25 * design.pitch_um
    fine = design.interface_mesh_size_um or 0.5 * min(design.coating_um, design.top_coating_um)
    fine = min(fine, coarse)
    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, "SurfacesList" if design.dimension == 3 else "CurvesList", interfaces)
    field.setNumber(distance, "Sampling", 20)
    threshold = field.add("Threshold")
    field.setNumber(threshold, "InField", distance)
    field.setNumber(threshold, "SizeMin", fine)
    field.setNumber(threshold, "SizeMax", coarse)
    field.setNumber(threshold, "DistMin", 0.5 * fine)
    field.setNumber(threshold, "DistMax", 0.5 * fine + 3.0 * (coarse - fine))
    field.setAsBackgroundMesh(threshold)
    for option, value in (
        ("Mesh.MeshSizeFromPoints", 0),
        ("Mesh.MeshSizeFromCurvature", 0),
        ("Mesh.MeshSizeExtendFromBoundary", 0),
        ("Mesh.MeshSizeMax", coarse),
    ):
        gmsh.option.setNumber(option, value)
