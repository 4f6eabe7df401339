"""Physics blocks: each piece of the cell's physics in its own module, with its equation, units
and sign convention (see :mod:`ssbfem.blocks.base`). A model is a list of blocks; research code
adds its own by subclassing :class:`Block`."""

from ssbfem.blocks.base import Block
from ssbfem.blocks.charge_transfer import ChargeTransfer, Interface, interface
from ssbfem.blocks.circuit import ExternalCircuit
from ssbfem.blocks.conduction import ElectrolyteConduction, ElectronicConduction
from ssbfem.blocks.diffusion import InsertionDiffusion
from ssbfem.blocks.double_layer import DoubleLayer
from ssbfem.blocks.heat import ThermalBalance
from ssbfem.blocks.leakage import ElectronicLeakage

__all__ = [
    "Block",
    "ChargeTransfer",
    "DoubleLayer",
    "ElectrolyteConduction",
    "ElectronicConduction",
    "ElectronicLeakage",
    "ExternalCircuit",
    "InsertionDiffusion",
    "Interface",
    "ThermalBalance",
    "interface",
]
