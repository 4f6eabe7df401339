"""Settings in and out: TOML files, ``--set key=value`` overrides, and validation errors as one
line naming the dotted key and the reason (exit status 2)."""

from __future__ import annotations

import copy
import difflib
import tomllib
from pathlib import Path
from typing import Any, get_args

import tomli_w
from pydantic import BaseModel, ValidationError

from ssbfem.errors import InputError
from ssbfem.materials.property import Law
from ssbfem.settings.schema import Settings
from ssbfem.settings.types import SectionKeyError


def read_toml(path: str | Path) -> dict:
    """Read a TOML file; a syntax error becomes an InputError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such config file")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"not valid TOML: {exc}") from None


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``key.path=value`` strings (value in TOML syntax, or a bare string)."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            raise InputError(item, "an override must read key=value")
        key, text = (s.strip() for s in item.split("=", 1))
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        *parents, leaf = key.split(".")
        node = raw
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise InputError(key, f"{p!r} is not a table")
        node[leaf] = value
    return raw


def validate(raw: dict | Settings) -> Settings:
    """Validate a raw or resolved config (a nested dict) into settings; the first error as an
    InputError. Settings are returned as they are."""
    if isinstance(raw, Settings):
        return raw
    if not isinstance(raw, dict):
        raise InputError("config", "must be a table of sections")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise _input_error(exc) from None


def load_settings(path: str | Path, overrides: list[str] | None = None) -> Settings:
    """Read, override and validate a config file. A relative ``mesh.file`` or
    ``homogenised.parameter_file`` written in the file is taken relative to the file's folder;
    one given in `overrides` (the command line's ``--set``) relative to the working directory,
    as a shell user expects."""
    raw = read_toml(path)
    _anchor_paths(raw, Path(path).parent)
    raw = apply_overrides(raw, overrides or [])
    _anchor_paths(raw, Path.cwd())
    return validate(raw)


#: The settings that name files: (section, key).
_PATH_KEYS = (("mesh", "file"), ("homogenised", "parameter_file"))


def _anchor_paths(raw: dict, folder: Path) -> None:
    """Make each relative file path of a raw config absolute, relative to `folder`."""
    for section, key in _PATH_KEYS:
        table = raw.get(section)
        path = table.get(key) if isinstance(table, dict) else None
        if isinstance(path, str) and path and not Path(path).is_absolute():
            table[key] = str((folder / path).resolve())


def to_toml(data: dict) -> str:
    """A resolved config as TOML text. A law set in Python is written as ``"module:function"``,
    the form a config file names it by (it reads back when that function is importable)."""
    return tomli_w.dumps(_writable(data))


def _writable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _writable(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_writable(v) for v in value]
    if callable(value):
        return Law(value).name
    return value


# -- validation errors as one line


def _input_error(exc: ValidationError) -> InputError:
    error = exc.errors(include_url=False)[0]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, InputError):  # raised by a check that names its own key
        return cause
    loc = list(error["loc"])
    if isinstance(cause, SectionKeyError):
        return InputError(_dotted([*loc, cause.key]), cause.reason)
    if tuple(loc[:2]) in _UNION_TABLES and len(loc) > 3:
        kind = loc.pop(3)  # pydantic names the member of the union it tried ("convection")
        if error["type"] == "extra_forbidden":
            return InputError(_dotted(loc), f"unknown key for a {kind} boundary")
    return InputError(_dotted(loc), _reason(error, loc))


#: Tables of named entries whose values are a union of kinds.
_UNION_TABLES = {("thermal", "boundaries"), ("mechanics", "boundaries")}


def _dotted(loc: list) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "config"


def _reason(error: dict, loc: list) -> str:
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    section = _section_class(loc[:-1])
    if kind == "extra_forbidden":
        if section is Settings:
            return f"unknown section; known: {', '.join(Settings.model_fields)}"
        known = sorted(k for k in section.model_fields if k != "sources") if section else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        parts = [
            "unknown key",
            *(f"did you mean {c!r}?" for c in close),
            *([f"known: {', '.join(known)}"] if known else []),
        ]
        return "; ".join(parts)
    if kind == "missing":
        field = _section_class(loc)
        return "required section is missing" if field is not None else "required key is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type") and _section_class(loc) is not None:
        return "must be a table"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "too_short" and loc[-2:] == ["experiment", "steps"]:
        return "the experiment has no steps"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected')}, got {value!r}"
    if kind == "union_tag_invalid":
        return f"needs type = one of {ctx.get('expected_tags')}, got {ctx.get('tag')!r}"
    if kind == "union_tag_not_found":
        return f"needs a '{ctx.get('discriminator', 'type').strip(chr(39))}' key"
    if kind == "finite_number":
        return f"must be finite, got {value!r}"
    if kind.endswith("_type"):
        return f"must be of type {kind.removesuffix('_type').replace('_', ' ')}, got {value!r}"
    return f"{error['msg'][0].lower()}{error['msg'][1:]}, got {value!r}"


def _section_class(loc: list) -> type[BaseModel] | None:
    """The settings class at a location (None where the location is not a section)."""
    node: Any = Settings
    for part in loc:
        if not (isinstance(node, type) and issubclass(node, BaseModel)) or part not in node.model_fields:
            return None
        node = _model_in(node.model_fields[part].annotation)
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
