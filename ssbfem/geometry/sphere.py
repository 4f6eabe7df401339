"""Gmsh builder for a spherical particle meshed as an axisymmetric quarter disc.

The particle of radius R is the body of revolution of the quarter disc r >= 0, z >= 0 about
the z axis (coordinates (r, z) = (x, y), micrometres): the mirror plane z = 0 and the axis r = 0
are symmetry boundaries. Triangles are graded from ``surface_size_um`` at the surface, where
concentration and stress vary fastest under a surface flux, to ``centre_size_um`` inside.

Physical groups: the cells ``region`` (default ``"particle"``), the facets ``"surface"``,
``"axis"`` (r = 0) and ``"equator"`` (z = 0).
"""

from __future__ import annotations

import gmsh

SURFACE = "surface"
AXIS = "axis"
EQUATOR = "equator"


def build_axisymmetric_sphere(
    radius_um: float,
    surface_size_um: float,
    centre_size_um: float,
    region: str = "particle",
    order: int = 1,
) -> None:
    """Add the meshed quarter disc to the current Gmsh model (see the module doc).

    Args:
        radius_um: Particle radius, micrometres.
        surface_size_um: Element size at the surface, micrometres.
        centre_size_um: Element size away from the surface, micrometres.
        region: Name of the cell group.
        order: Geometric order of the triangles (2: curved edges on the surface).
    """
    gmsh.model.add("axisymmetric_sphere")
    geo = gmsh.model.geo
    centre, pole_r, pole_z = geo.addPoint(0, 0, 0), geo.addPoint(radius_um, 0, 0), geo.addPoint(0, radius_um, 0)
    equator = geo.addLine(centre, pole_r)
    surface = geo.addCircleArc(pole_r, centre, pole_z)
    axis = geo.addLine(pole_z, centre)
    disc = geo.addPlaneSurface([geo.addCurveLoop([equator, surface, axis])])
    geo.synchronize()
    # size grows linearly with the distance from the surface, from surface to centre size
    distance = gmsh.model.mesh.field.add("Distance")
    gmsh.model.mesh.field.setNumbers(distance, "CurvesList", [surface])
    gmsh.model.mesh.field.setNumber(distance, "Sampling", 200)
    threshold = gmsh.model.mesh.field.add("Threshold")
    gmsh.model.mesh.field.setNumber(threshold, "InField", distance)
    gmsh.model.mesh.field.setNumber(threshold, "SizeMin", surface_size_um)
    gmsh.model.mesh.field.setNumber(threshold, "SizeMax", centre_size_um)
    gmsh.model.mesh.field.setNumber(threshold, "DistMin", 0.0)
    gmsh.model.mesh.field.setNumber(threshold, "DistMax", 0.5 * radius_um)
    gmsh.model.mesh.field.setAsBackgroundMesh(threshold)
    for option in ("MeshSizeFromPoints", "MeshSizeFromCurvature", "MeshSizeExtendFromBoundary"):
        gmsh.option.setNumber(f"Mesh.{option}", 0)
    gmsh.model.addPhysicalGroup(2, [disc], name=region)
    for name, curve in ((SURFACE, surface), (AXIS, axis), (EQUATOR, equator)):
        gmsh.model.addPhysicalGroup(1, [curve], name=name)
    gmsh.model.mesh.generate(2)
    gmsh.model.mesh.setOrder(order)
