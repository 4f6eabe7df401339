"""Typed settings: the single source of a run's defaults, units and validation.

``load_settings("cell.toml", ["cell.dimension=2"])`` reads, overrides and validates a config;
``validate(raw)`` does the same for a dict. Errors are :class:`ssbfem.errors.InputError` naming
the dotted key and the reason.
"""

from ssbfem.settings.io import apply_overrides, load_settings, read_toml, to_toml, validate
from ssbfem.settings.schema import Settings

__all__ = ["Settings", "apply_overrides", "load_settings", "read_toml", "to_toml", "validate"]
