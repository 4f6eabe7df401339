"""A material property in one of three forms, the same for every property of every layer.

* a number: the value, constant; a property with an Arrhenius key of its own in the layer
  (``conductivity_activation_energy_J_mol``, ``diffusivity_activation_energy_J_mol``,
  ``exchange_current_activation_energy_J_mol``) follows it;
* a table ``{value = ..., activation_energy_J_mol = ...}``: Arrhenius in T,
  value(T) = value exp(-Ea/R (1/T - 1/T_ref)), T_ref = ``cell.reference_temperature_K``;
* a law in UFL, ``f(T)`` or ``f(x, T)``: x the stoichiometry of the positive electrode (a law of
  x is taken in that layer only), T in K. From Python the function itself; in a config file
  ``"module:function"`` names an importable one.

Values are in the unit of their key (``conductivity_S_m``: S/m).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ssbfem.errors import InputError
from ssbfem.materials.arrhenius import arrhenius


@dataclass(frozen=True)
class Arrhenius:
    """value(T) = value exp(-Ea/R (1/T - 1/T_ref)), value at T_ref, Ea in J/mol."""

    value: float
    activation_energy_J_mol: float


@dataclass(frozen=True)
class Law:
    """A property given as a UFL function of the temperature, or of stoichiometry and temperature."""

    function: Callable

    @property
    def of_stoichiometry(self) -> bool:
        """True for f(x, T), False for f(T)."""
        return _arity(self.function) == 2

    @property
    def name(self) -> str:
        """``module:qualified_name``, how a config file names it."""
        f = self.function
        return f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', type(f).__name__)}"

    @classmethod
    def from_name(cls, text: str) -> Law:
        module, _, name = text.partition(":")
        try:
            function: Any = importlib.import_module(module)
            for part in name.split("."):
                function = getattr(function, part)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot import the law {text!r} ({exc})") from None
        return cls(function)


PropertyValue = float | Arrhenius | Law


def _arity(function: Callable) -> int:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in parameters)


def parse_property(value: Any) -> PropertyValue:
    """A property from a config value (number, table or law); ValueError names what is wrong."""
    if isinstance(value, (Arrhenius, Law)):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        if set(value) != {"value", "activation_energy_J_mol"}:
            raise ValueError(f"a table takes exactly value and activation_energy_J_mol, got {', '.join(value)}")
        energy = value["activation_energy_J_mol"]
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value.values()) or energy < 0:
            raise ValueError("value and activation_energy_J_mol must be numbers, the energy not negative")
        return Arrhenius(float(value["value"]), float(energy))
    if isinstance(value, str) and ":" in value:
        value = Law.from_name(value).function
    if callable(value):
        if _arity(value) not in (1, 2):
            raise ValueError("a law takes (T) or (x, T)")
        return Law(value)
    raise ValueError(
        "expected a number, a table {value, activation_energy_J_mol} or a law f(T) / f(x, T) ('module:function')"
    )


def dump_property(value: PropertyValue) -> float | dict | Callable:
    """The config form of a property (a law as its function; a TOML file gets its name)."""
    if isinstance(value, Arrhenius):
        return {"value": value.value, "activation_energy_J_mol": value.activation_energy_J_mol}
    if isinstance(value, Law):
        return value.function
    return value


def reference_value(value: PropertyValue) -> float | None:
    """The value at the reference temperature, or None for a law."""
    if isinstance(value, Arrhenius):
        return value.value
    return None if isinstance(value, Law) else value


def evaluate(
    value: PropertyValue,
    T,
    reference_temperature_K: float,
    *,
    stoichiometry=None,
    activation_energy_J_mol: float | None = None,
    key: str = "",
):
    """The property as a UFL expression (or a number) at temperature T.

    Args:
        value: The property in any of its forms.
        T: Temperature, K (a number, Constant or UFL expression).
        reference_temperature_K: T_ref of the Arrhenius forms.
        stoichiometry: x where the layer has one (the positive electrode), else None.
        activation_energy_J_mol: The layer's own Arrhenius key for a plain number (None: constant).
        key: The config key, for the error when a law of x meets a layer without x.
    """
    if isinstance(value, Law):
        if not value.of_stoichiometry:
            return value.function(T)
        if stoichiometry is None:
            raise InputError(key, f"the law {value.name} takes (x, T), but this layer has no stoichiometry: give f(T)")
        return value.function(stoichiometry, T)
    if isinstance(value, Arrhenius):
        return arrhenius(value.value, value.activation_energy_J_mol, T, reference_temperature_K)
    return arrhenius(value, activation_energy_J_mol or 0.0, T, reference_temperature_K)
