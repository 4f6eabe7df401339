"""Experiment steps written as battery modellers write them (PyBaMM's vocabulary).

Examples: "Discharge at 1C until 3.0 V", "Charge at 0.5 mA/cm2 until 4.2 V",
"Hold at 4.2 V until C/20", "Rest for 30 minutes", "Discharge at 2 mW for 10 minutes",
"Discharge at 2.08333 A/m2 until 3.0 V or 2 hours".

Currents and powers are positive on discharge. Every step ends at its duration or at the first
of its events: a voltage reached, a current magnitude fallen below a value (holds), or a charge
passed in the step ("until 0.05 mAh/cm2"), or the hottest point reaching a temperature
("until 333 K", "until 60 degC"; a thermal model is needed). "C" is the C-rate everywhere:
"until 60 C" is a current, which ends a hold or a power step only.

"EIS from 1 MHz to 10 mHz at 3.9 V" (also "at rest", "at 50 % SOC", and "... with 20 points per
decade") relaxes the cell to open circuit there and computes its impedance spectrum
(:mod:`ssbfem.impedance`); it takes no time.

"Cool from 1023 K to 298 K over 1 hour" (or in degC) ramps the temperature of a cell at rest: the
processing step before electrochemistry whose residual stress the mechanics computes.

A current or power time series (drive cycle) is a step too: "Current profile from drive.csv",
"Power profile from drive.csv until 3.0 V". The CSV has a header: ``time_s`` and one of
``current_A_m2``, ``current_mA_cm2``, ``current_A``, ``power_W_m2``, ``power_W``; the set-point is
interpolated linearly in time, discharge positive.

An experiment is a list whose items are cycles: a step string (a cycle of one step), a list of
step strings (one cycle), or a table ``{cycle = [...], repeat = N}`` (N cycles). A string ending in
`` x N`` is repeated N times, each its own cycle. GITT, for example::

    steps = [{cycle = ["Discharge at C/20 for 10 minutes", "Rest for 1 hour"], repeat = 20}]
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssbfem.errors import InputError

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TIME_UNITS = {
    "us": 1e-6,
    "ms": 1e-3,
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

    quantity: str  # "voltage", "current", "capacity" or "temperature" (the maximum, K)
    value: float  # V; A/m2 (magnitude) for a current; C/m2 passed in the step for a capacity
    direction: str  # "below" or "above"


@dataclass(frozen=True)
class Impedance:
    """An impedance spectrum taken at open circuit (an "EIS ..." step; it takes no time).

    Attributes:
        start_Hz, end_Hz: The frequency range, swept from start to end.
        points_per_decade: Frequencies per decade (logarithmic).
        state: Where the cell is relaxed to first: "voltage" (the open-circuit voltage `value`, V),
            "rest" (its present lithium content) or "charge" (`value` C/m2 discharged from the
            nominal full state, from a state of charge).
        value: See `state`.
    """

    start_Hz: float
    end_Hz: float
    points_per_decade: int
    state: str
    value: float = 0.0


#: Celsius: "C" alone is the C-rate, in every step.
_CELSIUS = ("degC", "°C")
#: Temperatures a step may ramp to (processing, K) and end on (electrochemistry, K).
_RAMP_RANGE_K = (200.0, 2000.0)
_EVENT_RANGE_K = (200.0, 600.0)

_FREQUENCY_UNITS = {"mHz": 1e-3, "Hz": 1.0, "kHz": 1e3, "MHz": 1e6}


def _frequency(text: str, key: str, step: str) -> float:
    m = re.fullmatch(r"(" + _NUMBER + r")\s*(mHz|Hz|kHz|MHz)", text.strip())
    if not m or float(m.group(1)) <= 0:
        raise InputError(key, f"cannot read the frequency {text!r} in {step!r}: e.g. '1 MHz', '10 mHz'")
    return float(m.group(1)) * _FREQUENCY_UNITS[m.group(2)]


def _parse_impedance(s: str, text: str, units: Units, key: str) -> Step | None:
    """'EIS from 1 MHz to 10 mHz at 3.9 V' (or 'at rest', 'at 50 % SOC'), optionally
    '... with 20 points per decade'."""
    m = re.fullmatch(
        r"(?i)eis from (.+?) to (.+?) at (.+?)(?:\s+with (\d+) points per decade)?",
        s,
    )
    if not m:
        if re.match(r"(?i)eis\b", s):
            raise InputError(key, f"cannot read {text!r}: e.g. 'EIS from 1 MHz to 10 mHz at 3.9 V' (or 'at rest')")
        return None
    start, end = (_frequency(m.group(i), key, text) for i in (1, 2))
    per_decade = int(m.group(4) or 10)
    where = m.group(3).strip()
    soc = re.fullmatch(r"(" + _NUMBER + r")\s*%\s*SOC", where, flags=re.IGNORECASE)
    if where.lower() == "rest":
        state, value = "rest", 0.0
    elif soc:
        fraction = float(soc.group(1)) / 100.0
        if not 0.0 <= fraction <= 1.0:
            raise InputError(key, f"{text!r}: the state of charge must lie between 0 and 100 %")
        state, value = "charge", (1.0 - fraction) * units.one_c_A_m2 * 3600.0
    else:
        kind, value = _quantity(where, units, key, text)
        if kind != "voltage":
            raise InputError(key, f"{text!r}: at a voltage, 'rest' or a state of charge ('50 % SOC')")
        state = "voltage"
    if per_decade < 1:
        raise InputError(key, f"{text!r}: needs at least one point per decade")
    spectrum = Impedance(start, end, per_decade, state, value)
    return Step(text=text, mode="rest", value=0.0, impedance=spectrum)


@dataclass(frozen=True)
class Step:
    """One experiment step.

    Attributes:
        text: The step as written.
        mode: "current", "voltage", "power" or "rest".
        value: A/m2, V or W/m2 (discharge positive); 0 for rest.
        duration_s: Longest duration, s (None: until an event).
        events: Conditions that end the step.
        profile: (times from the step start, s; set-points) of a drive-cycle step.
    """

    text: str
    mode: str
    value: float
    duration_s: float | None = None
    events: tuple[Event, ...] = field(default_factory=tuple)
    profile: tuple[np.ndarray, np.ndarray] | None = None
    temperature_ramp: tuple[float, float] | None = None  # K at the start and at the end (at rest)
    impedance: Impedance | None = None

    def setpoint(self, time_in_step: float) -> float:
        """The set-point at a time from the step's start (linear in a profile)."""
        if self.profile is None:
            return self.value
        return float(np.interp(time_in_step, *self.profile))

    def breakpoints(self) -> np.ndarray:
        """Times (from the step start) where a profile's slope changes: steps land on them."""
        return self.profile[0] if self.profile is not None else np.empty(0)


@dataclass(frozen=True)
class Experiment:
    """Steps in order, and the cycle each belongs to (counted from 0)."""

    steps: tuple[Step, ...]
    cycles: tuple[int, ...]


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
    m = re.fullmatch(r"(" + _NUMBER + r")\s*([A-Za-z/0-9µ°]+)", t)
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
        "K": ("temperature", 1.0),
        "mAh/cm2": ("capacity", 36000.0),
        "Ah/m2": ("capacity", 3600.0),
        "mAh": ("capacity", 3.6 / area),
        "Ah": ("capacity", 3600.0 / area),
    }
    if unit in _TIME_UNITS:
        return "time", x * _TIME_UNITS[unit]
    if unit in _CELSIUS:
        return "temperature", x + 273.15
    if unit not in table:
        known = ", ".join([*table, "C/n", *_CELSIUS, *_TIME_UNITS])
        raise InputError(key, f"unknown unit {unit!r} in {step!r}; known: {known}")
    kind, factor = table[unit]
    return kind, x * factor


_PROFILE_COLUMNS = {
    "current_A_m2": ("current", 1.0),
    "current_mA_cm2": ("current", 10.0),
    "current_A": ("current", None),
    "power_W_m2": ("power", 1.0),
    "power_W": ("power", None),
}


def _read_profile(path_text: str, kind: str, units: Units, key: str, base_dir: Path | None):
    path = Path(path_text)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise InputError(key, f"profile file not found: {path}")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        columns = [c for c in (reader.fieldnames or []) if c in _PROFILE_COLUMNS and _PROFILE_COLUMNS[c][0] == kind]
        if "time_s" not in (reader.fieldnames or []) or len(columns) != 1:
            names = [c for c in _PROFILE_COLUMNS if _PROFILE_COLUMNS[c][0] == kind]
            raise InputError(key, f"{path}: needs a 'time_s' column and one of {', '.join(names)}")
        try:
            rows = [(float(r["time_s"]), float(r[columns[0]])) for r in reader]
        except (TypeError, ValueError) as exc:
            raise InputError(key, f"{path}: not a number ({exc})") from None
    times, values = (np.array(c) for c in zip(*rows, strict=True)) if rows else (np.empty(0), np.empty(0))
    if times.size < 2 or np.any(np.diff(times) <= 0):
        raise InputError(key, f"{path}: needs at least two rows with increasing time_s")
    factor = _PROFILE_COLUMNS[columns[0]][1]
    values = values * (factor if factor is not None else 1.0 / units.area_m2)
    return times - times[0], values


def parse_step(text: str, units: Units, key: str = "experiment.steps", base_dir: Path | None = None) -> Step:
    """Parse one step; errors name the key and quote the offending text."""
    s = " ".join(text.split())
    spectrum = _parse_impedance(s, text, units, key)
    if spectrum is not None:
        return spectrum
    m = re.fullmatch(r"(?i)(?:cool|heat) from (.+?) to (.+?) over (.+)", s)
    if m:  # a processing step at rest: the cell's uniform temperature follows a linear ramp
        start, end = (_ramp_temperature(m.group(i), units, key, text) for i in (1, 2))
        kind, duration = _quantity(m.group(3), units, key, text)
        if kind != "time" or duration <= 0:
            raise InputError(key, f"{text!r}: needs a duration, e.g. 'over 1 hour'")
        return Step(text=text, mode="rest", value=0.0, duration_s=duration, temperature_ramp=(start, end))
    m = re.fullmatch(r"(?i)(current|power) profile from (\S+)(?:\s+until\s+(.+))?", s)
    if m:
        kind = m.group(1).lower()
        times, values = _read_profile(m.group(2), kind, units, key, base_dir)
        events = _events(m.group(3), "discharge", kind, units, key, text)
        return Step(
            text=text,
            mode=kind,
            value=float(values[0]),
            duration_s=float(times[-1]),
            events=events,
            profile=(times, values),
        )
    m = re.fullmatch(r"(?i)(discharge|charge|hold|rest)\b(.*)", s)
    if not m:
        raise InputError(
            key, f"cannot read {text!r}: a step starts with Discharge, Charge, Hold, Rest, Cool, EIS or a profile"
        )
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
    conditions = re.split(r"(?i)\s+or\s+", until) if until else []
    times = [c for c in conditions if _quantity(c, units, key, text)[0] == "time"]
    for cond in times:
        limit = _quantity(cond, units, key, text)[1]
        duration = limit if duration is None else min(duration, limit)
    events = _events(" or ".join(c for c in conditions if c not in times) or None, verb, mode, units, key, text)
    if duration is None and not events:
        raise InputError(key, f"{text!r}: the step never ends; add 'for <time>' or 'until <condition>'")
    return Step(text=text, mode=mode, value=value, duration_s=duration, events=events)


def _ramp_temperature(text: str, units: Units, key: str, step: str) -> float:
    """A temperature of a Cool/Heat step, K. "750 C" (the form of earlier releases) is read as
    750 degC here, with a warning naming the unit to write."""
    m = re.fullmatch(r"(" + _NUMBER + r")\s*C", text.strip())
    if m:
        warnings.warn(
            f"experiment: {step!r} reads {text.strip()!r} as {m.group(1)} degC; write 'degC' ('C' is the C-rate)",
            FutureWarning,
            stacklevel=2,
        )
        kind, value = "temperature", float(m.group(1)) + 273.15
    else:
        kind, value = _quantity(text, units, key, step)
    if kind != "temperature":
        raise InputError(key, f"{step!r}: {text.strip()!r} is not a temperature; write e.g. '750 degC' or '1023 K'")
    if not _RAMP_RANGE_K[0] <= value <= _RAMP_RANGE_K[1]:
        raise InputError(key, f"{step!r}: temperatures must lie between 200 and 2000 K, got {value:g} K")
    return value


def _events(until: str | None, verb: str, mode: str, units: Units, key: str, text: str) -> tuple[Event, ...]:
    """The conditions after 'until'; `mode` is the step's control ("current", "voltage", ...)."""
    events = []
    for cond in re.split(r"(?i)\s+or\s+", until) if until else []:
        kind, x = _quantity(cond, units, key, text)
        if kind == "voltage":
            if verb == "hold":
                raise InputError(key, f"{text!r}: a hold ends on a current, e.g. 'until C/20'")
            events.append(Event("voltage", x, "below" if verb == "discharge" else "above"))
        elif kind == "current":
            if mode not in ("voltage", "power"):
                raise InputError(
                    key,
                    f"{text!r}: {cond.strip()!r} is a current ('C' is the C-rate), which cannot end a step at "
                    "constant current or rest; a temperature reads '60 degC' or '333.15 K'",
                )
            events.append(Event("current", abs(x), "below"))
        elif kind == "capacity":
            events.append(Event("capacity", abs(x), "above"))
        elif kind == "temperature":
            if not _EVENT_RANGE_K[0] <= x <= _EVENT_RANGE_K[1]:
                raise InputError(key, f"{text!r}: a temperature limit must lie between 200 and 600 K, got {x:g} K")
            events.append(Event("temperature", x, "above"))
        else:
            raise InputError(key, f"{text!r}: cannot end a step on a {kind}")
    return tuple(events)


def parse_experiment(items: list, units: Units, base_dir: Path | None = None) -> Experiment:
    """Parse an experiment: items are cycles (see the module docstring)."""
    steps: list[Step] = []
    cycles: list[int] = []
    cycle = 0
    for i, item in enumerate(items):
        key = f"experiment.steps[{i}]"
        repeat, texts = 1, item
        if isinstance(item, str):
            m = re.fullmatch(r"(.*\S)\s+x\s*(\d+)\s*", item)
            if m:
                texts, repeat = m.group(1), int(m.group(2))
            texts = [texts]
        elif isinstance(item, dict):
            unknown = set(item) - {"cycle", "step", "repeat"}
            if unknown or ("cycle" in item) == ("step" in item):
                raise InputError(key, "a table needs 'cycle' (a list of steps) or 'step', and optionally 'repeat'")
            texts = item.get("cycle", [item.get("step")])
            repeat = item.get("repeat", 1)
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise InputError(key, "a cycle must be a step string or a non-empty list of step strings")
        if not isinstance(repeat, int) or repeat < 1:
            raise InputError(key, f"repeat must be a positive whole number, got {repeat!r}")
        parsed = [parse_step(t, units, key=key, base_dir=base_dir) for t in texts]
        for _ in range(repeat):
            steps.extend(parsed)
            cycles.extend([cycle] * len(parsed))
            cycle += 1
    if not steps:
        raise InputError("experiment.steps", "the experiment has no steps")
    return Experiment(tuple(steps), tuple(cycles))
