"""ssbfem: finite-element multiphysics of solid-state lithium batteries on DOLFINx."""

__version__ = "0.1.0"
