"""Case A of shared/reference/verification.md: a dense LiCoO2 film under constant flux.

The cell is the reference thin film discharged at a constant current, so the lithium flux
into the electrode at its electrolyte face is J = I/F and its back face is insulated. With
u = (c - c0) D/(J L) and tau = D t/L^2, the surface value u(1, tau) is tabulated.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import simulate, thin_film

from ssbfem.constants import FARADAY
import itertools

L, D, C_MAX, X0, CURRENT = 8.08e-6, 5.387e-15, 3.22e4, 0.4, 0.5
U_SURFACE = {0.01: 0.112838, 0.05: 0.252313, 0.1: 0.356826, 0.2: 0.505165, 0.5: 0.831876, 1.0: 1.333323}


def surface_u(taus: list[float], mesh: dict | None = None, solver: dict | None = None) -> dict[float, float]:
    """Run the film to the last tau, stepping through every other; u(1, tau) at each."""
    times = [tau * L**2 / D for tau in taus]
    raw = thin_film(
        cell={"positive": {"initial_stoichiometry": X0}},
        experiment={"steps": [f"Discharge at {CURRENT} A/m2 for {times[-1]} s"]},
        output={"fields": False, "plot": False, "field_times_s": times[:-1]},
        mesh=mesh or {},
        solver=solver or {},
    )
    series = simulate(raw).series
    t, theta = series.column("time_s"), series.column("surface_stoichiometry")
    u = {}
    for tau, time in zip(taus, times, strict=True):
        k = int(np.argmin(np.abs(t - time)))
        assert t[k] == pytest.approx(time, rel=1e-9), "the stepper must land on the requested times"
        u[tau] = (theta[k] - X0) * C_MAX * D * FARADAY / (CURRENT * L)
    return u


def test_surface_concentration_case_A():
    u = surface_u(sorted(U_SURFACE), solver={"stoichiometry_tolerance": 2e-5})
    for tau, expected in U_SURFACE.items():
        assert u[tau] == pytest.approx(expected, rel=1e-3), tau


def _order(errors: list[float]) -> list[float]:
    return [math.log2(abs(a) / abs(b)) for a, b in itertools.pairwise(errors)]


H_ELEMENTS = (2, 4, 8)
DT_STEPS = (10, 20, 40)


def h_errors() -> list[float]:
    """Error of u(1, 0.1) on uniform P2 meshes of H_ELEMENTS elements, time error made negligible."""
    tight = {"voltage_tolerance_V": 1e-7, "stoichiometry_tolerance": 1e-8}
    return [
        surface_u([0.1], mesh={"positive_elements": n, "grading": 1.0, "positive_grading": 1.0}, solver=tight)[0.1]
        - U_SURFACE[0.1]
        for n in H_ELEMENTS
    ]


def dt_errors() -> list[float]:
    """Error of u(1, 0.2) with DT_STEPS fixed steps (error control off) on a fine mesh."""
    horizon = 0.2 * L**2 / D
    errors = []
    for n in DT_STEPS:
        fixed = {
            "voltage_tolerance_V": 1e3,
            "stoichiometry_tolerance": 1e3,
            "initial_step_s": horizon / n,
            "max_step_s": horizon / n,
            "max_order": 2,
        }
        errors.append(surface_u([0.2], mesh={"positive_elements": 96}, solver=fixed)[0.2] - U_SURFACE[0.2])
    return errors


def test_convergence_in_h():
    """Uniform P2 meshes of 2, 4, 8 elements, time error made negligible: order >= 3."""
    errors = h_errors()
    orders = _order(errors)
    print("h-convergence: errors", errors, "orders", orders)
    assert min(orders) >= 3.0


def test_convergence_in_dt():
    """Fixed steps of T/10, T/20, T/40 on a fine mesh (error control off): BDF2, order 2."""
    errors = dt_errors()
    orders = _order(errors)
    print("dt-convergence: errors", errors, "orders", orders)
    assert all(1.8 <= p <= 2.5 for p in orders)
