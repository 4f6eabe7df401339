"""demos/ren2023.py: the masses and theoretical energies of Ren et al. 2023's NMC811 | LLZO | Li
cell, and a few 1D homogenised discharges of its development path."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from conftest import REPO

spec = importlib.util.spec_from_file_location("ren2023", REPO / "demos" / "ren2023.py")
ren2023 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ren2023)


def coarse(step: str, thickness_um: float, current_mA_cm2: float) -> dict:
    cfg = ren2023.case_config(step, thickness_um, current_mA_cm2)
    cfg["mesh"]["positive_elements"] = 8
    cfg["homogenised"]["radial_elements"] = 5
    return cfg


def test_mass_per_footprint():
    """75 vol% NMC811 (4870 kg/m3) and 25 vol% LLZO (5077 kg/m3), Ren2023 T3, plus 10 um of LLZO."""
    for thickness, expected in ((50.0, 0.2968575), (100.0, 0.542945)):
        assert ren2023.mass_kg_m2(ren2023.case_config("1", thickness, 1.0)) == pytest.approx(expected, rel=1e-12)


def test_ocp_integral_closed_form():
    """int U dx of Chen2020's fit from x0 = 0.27 to 1 against its antiderivative (tanh -> log cosh)."""
    terms = ((-0.0428, 18.5138, 0.5542), (-17.7326, 15.7890, 0.3117), (17.5842, 15.9308, 0.3120))

    def antiderivative(x):
        return -0.4045 * x**2 + 4.4875 * x + sum(c / a * math.log(math.cosh(a * (x - b))) for c, a, b in terms)

    expected = antiderivative(1.0) - antiderivative(0.27)
    assert ren2023.ocp_integral_V(ren2023.case_config("1", 50.0, 1.0)) == pytest.approx(expected, rel=1e-12)


def test_theoretical_scales_with_thickness_as_in_the_paper():
    """Ren2023's theoretical 519.2 / 567.8 Wh/kg (50 / 100 um): their ratio holds only the masses
    (the energy is proportional to the thickness), so it checks that the composite and the dense
    LLZO count and Li does not. (The values themselves differ: the paper's own U(x) and range give
    about 9.5 % more energy per NMC811 than Chen2020's OCP from x = 0.27 to 1.)"""
    ours = [ren2023.theoretical_Wh_kg(ren2023.case_config("1", t, 1.0)) for t in (50.0, 100.0)]
    paper = [ren2023.PAPER_THEORETICAL_WH_KG[t] for t in (50.0, 100.0)]
    assert ours[0] / ours[1] == pytest.approx(paper[0] / paper[1], rel=5e-4)


def test_state_of_the_art():
    """At 1 mA/cm2 the 50 um state-of-the-art cell gives about 24 Wh/kg (Ren2023); at 10 mA/cm2 its
    voltage is below the cut-off as soon as the current is applied ("falls below cut-off almost at
    once"): no energy, with a note."""
    out = ren2023.discharge(coarse("1", 50.0, 1.0))
    specific = out["energy_Wh_m2"] / ren2023.mass_kg_m2(coarse("1", 50.0, 1.0))
    assert 18.0 < specific < 30.0 and out["note"] == ""
    out = ren2023.discharge(coarse("1", 50.0, 10.0))
    assert (out["energy_Wh_m2"], out["capacity_mAh_cm2"]) == (0.0, 0.0)
    assert out["note"].startswith("below the cut-off as soon as the current is applied")


def test_slow_discharge_of_the_developed_cell_delivers_the_ocp_energy():
    """At 0.1 mA/cm2 the cell at the end of the path loses little: the energy delivered to 3.5 V is
    within 2 % of the OCP's from x0 to where U = 3.5 V (Chen2020: x = 0.984)."""
    cfg = coarse("8", 50.0, 0.1)
    energy = ren2023.discharge(cfg)["energy_Wh_m2"]
    x_cut = ren2023.cut_off_stoichiometry(cfg)
    assert ren2023.OCP_FUNCTIONS["Chen2020"](x_cut, np) == pytest.approx(ren2023.CUT_OFF_V, abs=1e-8)
    to_cut_off = (
        ren2023.theoretical_energy_Wh_m2(cfg) * ren2023.ocp_integral_V(cfg, x_cut) / ren2023.ocp_integral_V(cfg)
    )
    assert 0.98 * to_cut_off < energy <= to_cut_off
