"""Every material property takes the same forms (ssbfem.materials.property): a number, an
Arrhenius table and a law f(T) or f(x, T) give the same cell when they state the same value."""

from __future__ import annotations

import math

import numpy as np
import pytest
import ufl
from conftest import thin_film

from ssbfem.constants import GAS_CONSTANT
from ssbfem.errors import InputError
from ssbfem.runner import run
from ssbfem.settings import validate

T_CELL, T_REF = 320.0, 298.15
SIGMA, E_SIGMA = 1.10896e-4, 4.0e4  # LiPON's conductivity at T_REF, S/m, and an activation energy, J/mol
I0, ALPHA = 4.70148, 0.5  # the positive's exchange current at x = 0.5, A/m2, and its transfer coefficients


def lipon_conductivity(T):
    """sigma(T) = SIGMA exp(-E/R (1/T - 1/T_ref)) in UFL: the Arrhenius law written out."""
    return SIGMA * ufl.exp(-E_SIGMA / GAS_CONSTANT * (1.0 / T - 1.0 / T_REF))


def insertion_exchange_current(x, T):
    """i0 (x/0.5)^alpha_c ((1 - x)/0.5)^alpha_a: the "insertion" law, as a law of (x, T)."""
    return I0 * (x / 0.5) ** ALPHA * ((1.0 - x) / 0.5) ** ALPHA + 0.0 * T


def cell(**sections) -> dict:
    """A short 1D discharge at 320 K (the Arrhenius factors differ from 1), lumped heat."""
    base = {
        "cell": {"temperature_K": T_CELL, "electrolyte": {"conductivity_activation_energy_J_mol": E_SIGMA}},
        "mesh": {"positive_elements": 8, "degree": 1},
        "thermal": {"model": "lumped", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}},
        "experiment": {"steps": ["Discharge at 2C for 120 s"]},
        "output": {"fields": False, "plot": False},
    }
    raw = thin_film(**base)
    for layer in ("negative", "electrolyte", "positive"):  # the lumped model needs thermal data
        raw["cell"].setdefault(layer, {}).update(
            density_kg_m3=3000.0, heat_capacity_J_kg_K=700.0, thermal_conductivity_W_m_K=1.0
        )
    for name, values in sections.items():
        raw["cell"][name].update(values)
    return raw


def curves(raw: dict) -> tuple[np.ndarray, np.ndarray]:
    series = run(validate(raw)).series
    return series.column("voltage_V"), series.column("temperature_mean_K")


@pytest.fixture(scope="module")
def reference():
    return curves(cell())


@pytest.mark.parametrize(
    "layer, values",
    [
        ("electrolyte", {"conductivity_S_m": {"value": SIGMA, "activation_energy_J_mol": E_SIGMA}}),
        ("electrolyte", {"conductivity_S_m": lipon_conductivity}),
        ("electrolyte", {"conductivity_S_m": "test_properties:lipon_conductivity"}),
        ("positive", {"exchange_current_law": "constant", "exchange_current_A_m2": insertion_exchange_current}),
        ("positive", {"heat_capacity_J_kg_K": lambda T: 700.0 + 0.0 * T}),
        ("positive", {"density_kg_m3": {"value": 3000.0, "activation_energy_J_mol": 0.0}}),
    ],
    ids=["conductivity table", "conductivity law", "conductivity by name", "i0 law of x", "c_p law", "rho table"],
)
def test_every_form_gives_the_same_cell(reference, layer, values):
    """Voltage and temperature equal the numbers' to 1e-9 (V, K) when each form states the same
    value: an Arrhenius table as the layer's activation-energy key, a law of T as that Arrhenius
    factor written out, a law of x as the "insertion" exchange-current law at the surface."""
    voltage, temperature = curves(cell(**{layer: values}))
    assert len(voltage) == len(reference[0])
    assert np.abs(voltage - reference[0]).max() < 1e-9
    assert np.abs(temperature - reference[1]).max() < 1e-9


def test_the_arrhenius_factor_acts(reference):
    """The activation energy is applied: without it LiPON conducts exp(E/R (1/T_ref - 1/T))
    = 3.0 times less at 320 K, and the voltage at the end falls by the extra ohmic drop
    I L (1/sigma_ref - 1/sigma(T)) (to 2 %: the two cells warm slightly differently)."""
    voltage, _ = curves(cell(electrolyte={"conductivity_S_m": {"value": SIGMA, "activation_energy_J_mol": 0.0}}))
    factor = math.exp(E_SIGMA / GAS_CONSTANT * (1.0 / T_REF - 1.0 / T_CELL))
    current = 2 * 0.208333 * 10.0  # 2C of the nominal 0.208333 mAh/cm2, A/m2
    extra_drop = current * 3.62e-6 / SIGMA * (1.0 - 1.0 / factor)
    assert factor == pytest.approx(3.0, abs=0.05)
    assert reference[0][-1] - voltage[-1] == pytest.approx(extra_drop, rel=0.02)


def test_a_law_of_stoichiometry_needs_a_layer_with_one():
    raw = cell(electrolyte={"conductivity_S_m": lambda x, T: SIGMA + 0.0 * x})
    with pytest.raises(InputError, match=r"cell\.electrolyte\.conductivity_S_m: the law .* takes \(x, T\)"):
        run(validate(raw))


@pytest.mark.parametrize(
    "value, reason",
    [
        ({"value": 1e-4}, "exactly value and activation_energy_J_mol"),
        ({"value": -1e-4, "activation_energy_J_mol": 0.0}, "must be positive"),
        ({"value": 1e-4, "activation_energy_J_mol": -1.0}, "energy not negative"),
        ("no_such_module:law", "cannot import the law"),
        (lambda a, b, c: a, r"a law takes \(T\) or \(x, T\)"),
        (True, "not a boolean"),
    ],
)
def test_bad_property_names_its_key(value, reason):
    with pytest.raises(InputError, match=rf"cell\.electrolyte\.conductivity_S_m: .*{reason}"):
        validate(cell(electrolyte={"conductivity_S_m": value}))
