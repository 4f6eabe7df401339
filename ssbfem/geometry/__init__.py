"""Gmsh geometry builders, the physical-group naming convention and mesh I/O."""

from ssbfem.geometry.io import CellMesh, load_mesh
from ssbfem.geometry.sphere import build_axisymmetric_sphere
from ssbfem.geometry.thin_film import Layer, build_thin_film

__all__ = ["CellMesh", "Layer", "build_axisymmetric_sphere", "build_thin_film", "load_mesh"]
