"""The homogenised (P2D / P3D) model of a composite electrode beside the resolved one: its
effective parameters, the radial discretisation of its particles and the model itself."""

from ssbfem.homogenised.model import HomogenisedModel, homogenised_blocks
from ssbfem.homogenised.parameters import HomogenisedParameters, homogenised_parameters, macro_dimension

__all__ = [
    "HomogenisedModel",
    "HomogenisedParameters",
    "homogenised_blocks",
    "homogenised_parameters",
    "macro_dimension",
]
