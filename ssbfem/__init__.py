"""ssbfem: finite-element multiphysics of solid-state lithium batteries on DOLFINx."""

from importlib.metadata import PackageNotFoundError, version

try:  # set at install time from the git tag (setuptools-scm)
    __version__ = version("ssbfem")
except PackageNotFoundError:  # a source tree on the path, not installed
    __version__ = "0.1.0"
