"""The config reference (docs/config-reference.md), generated from the settings classes:
``python -m ssbfem.settings.reference > docs/config-reference.md``."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ssbfem.materials.library import MATERIALS
from ssbfem.materials.property import PropertyValue
from ssbfem.settings.layers import Layer
from ssbfem.settings.schema import Settings
from ssbfem.settings.types import Range

_HEADER = """# Config reference

Generated from the settings classes in `ssbfem/settings/` by
`python -m ssbfem.settings.reference > docs/config-reference.md`; a test keeps it current.
Units are in the key names; a range is in the key's unit. A layer's properties come from the
material library (`ssbfem/materials/library.py`, with sources) unless the config sets them;
"library" marks such a key.

A key of type "property" is a material property and takes any of three forms: a number (its
value at `cell.reference_temperature_K`; where the layer has an `..._activation_energy_J_mol` key
for it, Arrhenius with that energy), a table `{value = ..., activation_energy_J_mol = ...}`
(Arrhenius in T), or a law in UFL of the temperature, `f(T)`, or of the positive electrode's
stoichiometry and the temperature, `f(x, T)`, named `"module:function"` (from Python, the function
itself). See `ssbfem/materials/property.py`.
"""


def reference_markdown() -> str:
    """The whole reference, one table per section."""
    lines = [_HEADER]
    _section(Settings, "", lines)
    return "\n".join(lines)


def _section(model: type[BaseModel], name: str, lines: list[str]) -> None:
    keys = {k: f for k, f in model.model_fields.items() if k != "sources" and (_is_table_of(f) or not _sections_in(f))}
    if name and keys:
        lines += [f"## [{name}]", "", (model.__doc__ or "").strip(), ""]
        lines += ["| key | type | default | range | meaning |", "|---|---|---|---|---|"]
        lines += [_row(model, key, field) for key, field in keys.items()]
        lines.append("")
    for key, field in model.model_fields.items():
        inner = _sections_in(field)
        table = f"{name}.{key}" if name else key
        if _is_table_of(field):
            for kind in inner:
                lines += [f"### [{table}.<name>]{_tag(kind)}", "", (kind.__doc__ or "").strip(), ""]
                rows = [_row(kind, k, f) for k, f in kind.model_fields.items() if k != "type"]
                if rows:
                    lines += ["| key | type | default | range | meaning |", "|---|---|---|---|---|", *rows]
                lines.append("")
        else:
            for kind in inner:
                _section(kind, table, lines)


def _row(model: type[BaseModel], key: str, field: FieldInfo) -> str:
    return (
        f"| `{key}` | {_type_text(field.annotation)} | {_default_text(model, key, field)} | "
        f"{_range_text(field)} | {field.description or ''} |"
    )


def _sections_in(field: FieldInfo) -> list[type[BaseModel]]:
    """The settings classes a field holds (itself a section, or a table of sections)."""
    found = []
    for arg in _flatten(field.annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            found.append(arg)
    return found


def _is_table_of(field: FieldInfo) -> bool:
    return get_origin(field.annotation) is dict and bool(_sections_in(field))


def _flatten(annotation: Any) -> list:
    args = get_args(annotation)
    if get_origin(annotation) is typing.Annotated:
        return _flatten(args[0])
    if not args:
        return [annotation]
    return [a for arg in args for a in _flatten(arg)]


def _tag(kind: type[BaseModel]) -> str:
    """' with type = "convection"' for a member of a tagged union."""
    field = kind.model_fields.get("type")
    return f' with type = "{get_args(field.annotation)[0]}"' if field else ""


def _type_text(annotation: Any) -> str:
    if annotation == PropertyValue:
        return "property (number, Arrhenius table or law)"
    if get_origin(annotation) is typing.Annotated:
        return _type_text(get_args(annotation)[0])
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " / ".join(f"`{a!r}`".replace("'", '"') for a in args)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_text(a) for a in args if a is not type(None))
    if origin is dict:
        return "table"
    if origin is list:
        return "list"
    return getattr(annotation, "__name__", str(annotation))


def _default_text(model: type[BaseModel], key: str, field: FieldInfo) -> str:
    if key == "material" and getattr(model, "DEFAULT_MATERIAL", None):
        return f'`"{model.DEFAULT_MATERIAL}"`'
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    if field.default is None:
        library = issubclass(model, Layer) and any(
            key in m.properties for m in MATERIALS.values() if m.role == model.ROLE
        )
        return "library" if library else "unset"
    value = field.default if field.default_factory is None else field.default_factory()
    if isinstance(value, BaseModel):
        return "-"
    return f"`{value!r}`".replace("'", '"') if not isinstance(value, bool) else f"`{str(value).lower()}`"


def _range_text(field: FieldInfo) -> str:
    ranges = [m for m in _metadata(field) if isinstance(m, Range)]
    return ranges[0].text if ranges else ""


def _metadata(field: FieldInfo) -> list:
    found = list(field.metadata)
    for arg in _annotated_parts(field.annotation):
        found += arg
    return found


def _annotated_parts(annotation: Any) -> list[list]:
    if get_origin(annotation) is typing.Annotated:
        return [list(annotation.__metadata__)]
    return [part for arg in get_args(annotation) for part in _annotated_parts(arg)]


if __name__ == "__main__":
    print(reference_markdown(), end="")
