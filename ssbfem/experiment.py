"""Experiment steps written as battery modellers write them (PyBaMM's vocabulary).

Examples: "Discharge at 1C until 3.0 V", "Charge at 0.5 mA/cm2 until 4.2 V",
"Hold at 4.2 V until C/20", "Rest for 30 minutes", "Discharge at 2 mW for 10 minutes",
"Discharge at 2.08333 A/m2 until 3.0 V or 2 hours".

Currents and powers are positive on discharge. Every step ends at its duration or at the first
of its events (a voltage reached, or a current magnitude fallen below a value during a hold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ssbfem.errors import InputError

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TIME_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
}


@dataclass(frozen=True)
class Event:
    """A step ends when `quantity` ("voltage" or "current") crosses `value` going `direction`."""

    quantity: str
    value: float  # V, or A/m2 (magnitude) for current
    direction: str  # "below" or "above"


@dataclass(frozen=True)
class Step:
    """One experiment step.

    Attributes:
        text: The step as written.
        mode: "current", "voltage", "power" or "rest".
        value: A/m2, V or W/m2 (discharge positive); 0 for rest.
        duration_s: Longest duration, s (None: until an event).
        events: Conditions that end the step.
    """

    text: str
    mode: str
    value: float
    duration_s: float | None = None
    events: tuple[Event, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Units:
    """What the experiment's units mean for one cell."""

    area_m2: float
    one_c_A_m2: float  # current density of 1C


def _quantity(text: str, units: Units, key: str, step: str) -> tuple[str, float]:
    """Parse '<number> <unit>' or 'C/<n>' into (kind, SI value per m2 of footprint)."""
    t = text.strip()
    m = re.fullmatch(r"C\s*/\s*(" + _NUMBER + r")", t)
    if m:
        return "current", units.one_c_A_m2 / float(m.group(1))
    m = re.fullmatch(r"(" + _NUMBER + r")\s*([A-Za-z/0-9µ]+)", t)
    if not m:
        raise InputError(key, f"cannot read {t!r} in {step!r}: expected a number and a unit")
    x, unit = float(m.group(1)), m.group(2)
    area = units.area_m2
    table = {
        "C": ("current", units.one_c_A_m2),
        "A": ("current", 1.0 / area),
        "mA": ("current", 1e-3 / area),
        "uA": ("current", 1e-6 / area),
        "A/m2": ("current", 1.0),
        "mA/cm2": ("current", 10.0),
        "A/cm2": ("current", 1e4),
        "uA/cm2": ("current", 1e-2),
        "W": ("power", 1.0 / area),
        "mW": ("power", 1e-3 / area),
        "W/m2": ("power", 1.0),
        "mW/cm2": ("power", 10.0),
        "V": ("voltage", 1.0),
        "mV": ("voltage", 1e-3),
    }
    if unit in _TIME_UNITS:
        return "time", x * _TIME_UNITS[unit]
    if unit not in table:
        raise InputError(key, f"unknown unit {unit!r} in {step!r}; known: {', '.join([*table, 'C/n', *_TIME_UNITS])}")
    kind, factor = table[unit]
    return kind, x * factor


def parse_step(text: str, units: Units, key: str = "experiment.steps") -> Step:
    """Parse one step; errors name the key and quote the offending text."""
    s = " ".join(text.split())
    m = re.fullmatch(r"(?i)(discharge|charge|hold|rest)\b(.*)", s)
    if not m:
        raise InputError(key, f"cannot read {text!r}: a step starts with Discharge, Charge, Hold or Rest")
    verb, rest = m.group(1).lower(), m.group(2).strip()
    parts = re.fullmatch(r"(?i)(?:at\s+(?P<at>.+?))?\s*(?:for\s+(?P<for>.+?))?\s*(?:until\s+(?P<until>.+))?", rest)
    if parts is None or (not any(parts.groupdict().values()) and verb != "rest"):
        raise InputError(key, f"cannot read {text!r}: expected 'at <value>' with 'for <time>' or 'until <condition>'")
    at, duration_text, until = parts.group("at"), parts.group("for"), parts.group("until")
    if verb == "rest":
        if at:
            raise InputError(key, f"{text!r}: a rest has no 'at'")
        mode, value = "rest", 0.0
    else:
        if not at:
            raise InputError(key, f"{text!r}: '{verb}' needs 'at <value>'")
        kind, value = _quantity(at, units, key, text)
        if verb == "hold":
            if kind != "voltage":
                raise InputError(key, f"{text!r}: hold at a voltage, e.g. 'Hold at 4.2 V until C/20'")
            mode = "voltage"
        else:
            if kind not in ("current", "power"):
                raise InputError(key, f"{text!r}: {verb} at a current or power, got a {kind}")
            mode = kind
            if value <= 0:
                raise InputError(key, f"{text!r}: the {kind} must be positive (the verb gives the direction)")
            value = value if verb == "discharge" else -value
    duration = None
    if duration_text:
        kind, duration = _quantity(duration_text, units, key, text)
        if kind != "time" or duration <= 0:
            raise InputError(key, f"{text!r}: 'for' needs a positive duration, got {duration_text!r}")
    events = []
    for cond in re.split(r"(?i)\s+or\s+", until) if until else []:
        kind, x = _quantity(cond, units, key, text)
        if kind == "voltage":
            if verb == "hold":
                raise InputError(key, f"{text!r}: a hold ends on a current, e.g. 'until C/20'")
            events.append(Event("voltage", x, "below" if verb == "discharge" else "above"))
        elif kind == "current":
            events.append(Event("current", abs(x), "below"))
        elif kind == "time":
            duration = x if duration is None else min(duration, x)
        else:
            raise InputError(key, f"{text!r}: cannot end a step on a {kind}")
    if duration is None and not events:
        raise InputError(key, f"{text!r}: the step never ends; add 'for <time>' or 'until <condition>'")
    return Step(text=text, mode=mode, value=value, duration_s=duration, events=tuple(events))


def parse_experiment(steps: list[str], units: Units) -> list[Step]:
    """Parse every step of an experiment."""
    return [parse_step(s, units, key=f"experiment.steps[{i}]") for i, s in enumerate(steps)]
