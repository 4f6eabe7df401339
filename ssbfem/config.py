"""Run configuration as a resolved nested dict, for the code that reads a config by key.

The settings themselves (types, defaults, units, ranges, library values with their sources)
live in :mod:`ssbfem.settings`; this module gives their resolved form:
``load_config("cell.toml", ["cell.dimension=2"])`` and ``resolve(raw)`` return the nested dict
that a run directory's ``config.toml`` records. Every key is SI with its unit in its name
(``thickness_um``, ``conductivity_S_m``); errors name the key and the reason.
"""

from __future__ import annotations

from pathlib import Path

from ssbfem.settings import apply_overrides, load_settings, read_toml, to_toml, validate
from ssbfem.settings.reference import reference_markdown

__all__ = ["apply_overrides", "load_config", "read_toml", "reference_markdown", "resolve", "to_toml"]


def resolve(raw: dict) -> dict:
    """Validate a raw config and fill in defaults and library values.

    Returns a nested dict with every key set; layer sections also carry ``sources`` (where
    each value came from: the config or a library citation).
    """
    return validate(raw).to_resolved_dict()


def load_config(path: str | Path, overrides: list[str] | None = None) -> dict:
    """Read, override, validate and resolve a config file (file paths as
    :func:`ssbfem.settings.load_settings` takes them)."""
    return load_settings(path, overrides).to_resolved_dict()
