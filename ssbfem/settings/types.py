"""Value types of the settings: a number with its admissible range, stated once for validation
and for the generated reference (docs/config-reference.md).

Every key carries its unit in its name (``thickness_um``, ``conductivity_S_m``); a range here is
in that unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, PlainValidator

from ssbfem.materials.property import PropertyValue, dump_property, parse_property, reference_value


class SectionKeyError(ValueError):
    """Raised by a section's check about one of its own keys: the error names that key."""

    def __init__(self, key: str, reason: str):
        super().__init__(reason)
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Range:
    """An admissible range, as the reference prints it and the error explains it."""

    text: str
    reason: str
    test: Callable[[float], bool]

    def __call__(self, value: Any) -> Any:
        number = value if isinstance(value, (int, float)) else reference_value(value)
        if number is not None and not self.test(number):
            raise ValueError(f"{self.reason}, got {number!r}")
        return value


def _range(text: str, reason: str, test: Callable[[float], bool]) -> tuple[Range, AfterValidator]:
    check = Range(text, reason, test)
    return check, AfterValidator(check)


POSITIVE = _range("> 0", "must be positive", lambda v: v > 0)
NONNEGATIVE = _range(">= 0", "must not be negative", lambda v: v >= 0)
FRACTION = _range("[0, 1]", "must lie in [0, 1]", lambda v: 0 <= v <= 1)
OPEN_UNIT = _range("(0, 1)", "must lie strictly between 0 and 1", lambda v: 0 < v < 1)
UNIT_INTERVAL = _range("(0, 1]", "must lie in (0, 1]", lambda v: 0 < v <= 1)
BELOW_ONE = _range("[0, 1)", "must lie in [0, 1)", lambda v: 0 <= v < 1)
AT_LEAST_ONE = _range(">= 1", "must be at least 1", lambda v: v >= 1)

#: Temperatures at which the electrochemistry is solved: below 200 K the kinetics' exponentials
#: F eta / (R T) overflow at ordinary overpotentials, above 600 K no solid electrolyte's data hold.
CELL_TEMPERATURE = _range(
    "200 to 600 K",
    "must lie between 200 and 600 K (the range of electrochemistry this model holds for)",
    lambda v: 200.0 <= v <= 600.0,
)
#: Temperatures of processing (sintering, annealing): the stress-free state.
PROCESS_TEMPERATURE = _range("200 to 2000 K", "must lie between 200 and 2000 K", lambda v: 200.0 <= v <= 2000.0)

Positive = Annotated[float, *POSITIVE]
NonNegative = Annotated[float, *NONNEGATIVE]
Fraction = Annotated[float, *FRACTION]
OpenUnit = Annotated[float, *OPEN_UNIT]
UnitInterval = Annotated[float, *UNIT_INTERVAL]
BelowOne = Annotated[float, *BELOW_ONE]
AtLeastOne = Annotated[float, *AT_LEAST_ONE]
PositiveInt = Annotated[int, *POSITIVE]
NonNegativeInt = Annotated[int, *NONNEGATIVE]
CellTemperature = Annotated[float, *CELL_TEMPERATURE]


def _at_least_one_or_per_axis(value: Any) -> float | list[float]:
    """A finite number >= 1, or a list of three numbers >= 1, one per direction x, y, z (inf
    allowed: no transport along that direction)."""
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    if number(value):
        if not math.isfinite(value) or value < 1:
            raise ValueError(f"must be a finite number of at least 1, got {value!r}")
        return float(value)
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(number(v) for v in value):
        if any(math.isnan(v) or v < 1 for v in value):
            raise ValueError(f"each of [x, y, z] must be at least 1 (inf allowed), got {list(value)!r}")
        return [float(v) for v in value]
    raise ValueError(f"must be a number >= 1 or a list [x, y, z] of three numbers >= 1, got {value!r}")


#: A number at least 1, or one per direction x, y, z (a tortuosity factor: inf where the phase
#: does not conduct along that direction). The Range states it for the reference; the validator checks it.
_EACH_AT_LEAST_ONE = Range(">= 1 (each; inf allowed in a list)", "must be at least 1", lambda v: True)
AtLeastOneOrPerAxis = Annotated[float | list[float], PlainValidator(_at_least_one_or_per_axis), _EACH_AT_LEAST_ONE]

# A material property: a number, an Arrhenius table or a law (ssbfem.materials.property); the
# range applies to the number, or to the table's value at the reference temperature.
_PROPERTY = (PlainValidator(parse_property), PlainSerializer(dump_property))
PositiveProperty = Annotated[PropertyValue, *_PROPERTY, *POSITIVE]
NonNegativeProperty = Annotated[PropertyValue, *_PROPERTY, *NONNEGATIVE]
OpenUnitProperty = Annotated[PropertyValue, *_PROPERTY, *OPEN_UNIT]
AnyProperty = Annotated[PropertyValue, *_PROPERTY]
ProcessTemperature = Annotated[float, *PROCESS_TEMPERATURE]


class Section(BaseModel):
    """A config table: its keys typed, nothing else accepted, numbers finite, no coercion from
    strings (an int is taken for a float)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, validate_default=False)
