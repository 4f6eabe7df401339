"""ssbfem: finite-element multiphysics of solid-state lithium batteries on DOLFINx."""

from importlib.metadata import PackageNotFoundError, version

try:  # set at install time from the git tag (setuptools-scm)
    __version__ = version("ssbfem")
except PackageNotFoundError:  # a source tree on the path, not installed
    __version__ = "0.1.0"


def __getattr__(name: str):
    """``ssbfem.load`` and ``ssbfem.Run`` (a run directory read back), imported on first use so
    that ``import ssbfem`` stays light."""
    if name in ("load", "Run"):
        from ssbfem import run_data

        return getattr(run_data, name)
    raise AttributeError(f"module 'ssbfem' has no attribute {name!r}")
