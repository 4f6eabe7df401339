"""Impedance of the linearised cell (verification case J) and double-layer dynamics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import simulate, thin_film
from mpi4py import MPI

from ssbfem.config import resolve
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.impedance import impedance
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh
from ssbfem.solvers import create_solver

T = 298.15


def model_of(raw: dict) -> tuple[CellModel, object]:
    cfg = resolve(raw)
    model = CellModel(build_mesh(cfg, MPI.COMM_WORLD), cfg["cell"], cfg["mesh"]["degree"])
    model.set_initial_state()
    return model, create_solver(model)


def finite_diffusion(w_tau: np.ndarray) -> np.ndarray:
    """Case J: Z/R_D = coth(sqrt(j w tau))/sqrt(j w tau)."""
    s = np.sqrt(1j * w_tau)
    return 1.0 / (np.tanh(s) * s)


def test_case_J_values():
    expected = [0.333333 - 100.000222j, 0.333312 - 10.002222j, 0.331238 - 1.022013j, 0.227274 - 0.217406j]
    for w_tau, z in zip([0.01, 0.1, 1.0, 10.0], expected, strict=True):
        assert finite_diffusion(np.array([w_tau]))[0] == pytest.approx(z, abs=2e-6)


def diffusion_impedance(w_tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Case J's cell: a dense film electrode behind a fast electrolyte and fast kinetics. Returns
    the computed Z and the reference R_D coth(sqrt(j w tau))/sqrt(j w tau) at w_tau, ohm m2."""
    D, L, c_max = 1e-14, 8.08e-6, 3.22e4
    raw = thin_film(
        cell={
            "electrolyte": {"conductivity_S_m": 1e3},
            "negative": {"exchange_current_A_m2": 1e6},
            "positive": {"exchange_current_A_m2": 1e6, "diffusivity_m2_s": D, "electronic_conductivity_S_m": 1e6},
        }
    )
    model, problem = model_of(raw)
    x0 = raw["cell"]["positive"]["initial_stoichiometry"]
    h = 1e-6
    dU_dc = (float(model.ocp(x0 + h, np)) - float(model.ocp(x0 - h, np))) / (2 * h) / c_max
    R_D = -dU_dc * L / (FARADAY * D)  # the OCP falls with lithium content
    tau = L**2 / D
    z = impedance(model, problem, w_tau / tau / (2 * math.pi))
    return z, finite_diffusion(w_tau) * R_D


def test_finite_length_diffusion_impedance_case_J():
    """Z is the diffusion impedance of case J within 1 % over five decades of w tau."""
    z, reference = diffusion_impedance(np.logspace(-2, 3, 11))
    assert np.abs(z - reference).max(initial=0) / np.abs(reference).min() < 0.01
    assert np.all(np.abs(z - reference) / np.abs(reference) < 0.01)


def thin_film_arcs() -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """With double layers and the electrolyte's geometric capacitance the thin film shows one
    arc per process. Time constants 1e4 apart (eps/sigma = 1.6 us, then 16 ms and 160 s),
    diffusion fast, so that Re Z between two arcs is the sum of the arcs before. Returns Z (ohm
    m2) at four frequencies: before, between and after the arcs, and (R_s, L/sigma, RT/(F i0) of
    the Li side, of the LiCoO2 side)."""
    sigma, L, eps_r = 1.10896e-4, 3.62e-6, 20.0
    i0_neg, i0_pos = 0.1, 1e-3
    f = FARADAY / (GAS_CONSTANT * T)
    R_bulk, R_neg, R_pos = L / sigma, 1 / (f * i0_neg), 1 / (f * i0_pos)
    tau_bulk = eps_r * 8.8541878128e-12 / sigma
    tau_neg, tau_pos = 1e4 * tau_bulk, 1e8 * tau_bulk
    R_s = 18.3e-4  # a series resistance of a real cell: Re Z starts there
    raw = thin_film(
        cell={
            "series_resistance_ohm_cm2": 1e4 * R_s,
            "electrolyte": {"relative_permittivity": eps_r},
            "negative": {"double_layer_F_m2": tau_neg / R_neg, "exchange_current_A_m2": i0_neg},
            "positive": {
                "double_layer_F_m2": tau_pos / R_pos,
                "exchange_current_A_m2": i0_pos,
                "exchange_current_law": "constant",
                "diffusivity_m2_s": 1e-9,
            },
        }
    )
    model, problem = model_of(raw)
    between = [1e-3 * tau_bulk, math.sqrt(tau_bulk * tau_neg), math.sqrt(tau_neg * tau_pos), 100 * tau_pos]
    z = impedance(model, problem, np.array([1 / (2 * math.pi * t) for t in between]))
    return z, (R_s, R_bulk, R_neg, R_pos)


def test_thin_film_arcs_match_bulk_and_charge_transfer_resistances():
    """Re Z starts at the series resistance and steps by L/sigma (bulk), then RT/(F i0) of the Li
    side, then of the LiCoO2 side, within 2 %."""
    z, (R_s, R_bulk, R_neg, R_pos) = thin_film_arcs()
    assert z.real[0] == pytest.approx(R_s, rel=0.02)
    assert z.real[1] - z.real[0] == pytest.approx(R_bulk, rel=0.02)
    assert z.real[2] - z.real[1] == pytest.approx(R_neg, rel=0.02)
    assert z.real[3] - z.real[2] == pytest.approx(R_pos, rel=0.02)


def test_eis_step_writes_a_spectrum(tmp_path):
    raw = thin_film(
        cell={"negative": {"double_layer_F_m2": 1.74e-4}, "positive": {"double_layer_F_m2": 5.3e-3}},
        experiment={"steps": ["EIS from 1 MHz to 10 mHz at 3.9 V with 2 points per decade"]},
    )
    result = simulate(raw)
    spectrum = result.spectra[0]
    assert len(spectrum["frequency_Hz"]) == 17
    assert result.series.rows[-1]["voltage_V"] == pytest.approx(3.9, abs=1e-9)
