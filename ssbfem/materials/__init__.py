"""Property laws (Arrhenius, OCP) and the literature material library."""

from ssbfem.materials.arrhenius import arrhenius
from ssbfem.materials.library import MATERIALS, Material, Property, get_material
from ssbfem.materials.ocp import OCP_FUNCTIONS

__all__ = ["MATERIALS", "OCP_FUNCTIONS", "Material", "Property", "arrhenius", "get_material"]
