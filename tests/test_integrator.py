"""The time integrator: its error estimate is the BDF2 step's true local error, the global error
falls with the tolerance at the rate the method promises, and the start of a step is as
accurate as the rest of it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import DEMO_CONFIG

from ssbfem.config import load_config
from ssbfem.integrator import Point, bdf2_coefficients, extrapolate, milne_factor
from ssbfem.runner import run
from ssbfem.solvers import JacobianCallback


@pytest.mark.parametrize("ratios", [(1.0, 1.0), (2.0, 0.5), (0.3, 1.7), (1.9, 2.2)])
def test_milne_factor_gives_the_true_local_error(ratios):
    """For y' = 3 t^2 + 2 t (y = t^3 + t^2, y''' = 6) a BDF2 step from exact history errs by
    exactly K (u - u_pred): the estimate is the local error, for any step ratios."""
    y = lambda t: t**3 + t**2
    dy = lambda t: 3 * t**2 + 2 * t
    h2, h1 = 0.1, 0.1 * ratios[0]
    h = h1 * ratios[1]
    t = np.cumsum([0.4, h2, h1, h])  # t_{n-2}, t_{n-1}, t_n, t_{n+1}
    a0, a1, a2 = bdf2_coefficients(h, h1)
    u = (h * dy(t[3]) - a1 * y(t[2]) - a2 * y(t[1])) / a0  # f does not depend on y: u solves exactly
    history = [Point(ti, [np.array([y(ti)])], 0.0, 0.0) for ti in t[:3]]
    predicted = extrapolate(history, t[3])[0][0]
    assert milne_factor(h, h1, h2) * (u - predicted) == pytest.approx(u - y(t[3]), rel=1e-9)
    if ratios == (1.0, 1.0):
        assert milne_factor(h, h1, h2) == pytest.approx(2.0 / 11.0, rel=1e-12)


def _voltages_at(times, extra):
    steps = f"experiment.steps=['Discharge at 1C for {times[-1]} s']"
    cfg = load_config(DEMO_CONFIG, ["output.fields=false", "mesh.positive_elements=24", steps, *extra])
    cfg["output"]["field_times_s"] = list(times)  # steps land on these times
    series = run(cfg, None).series
    t = series["time_s"]
    rows = [int(np.argmin(np.abs(t - x))) for x in times]
    assert np.allclose(t[rows], times)
    return series["voltage_V"][rows], len(t)


def test_global_error_falls_as_the_tolerance_to_the_two_thirds():
    """Local error per step held at tol with LTE ~ h^3 gives h ~ tol^(1/3) and a global error
    ~ h^2 ~ tol^(2/3): each eightfold tighter tolerance divides it by 4."""
    times = [60.0, 300.0, 600.0, 1200.0]
    tolerance = lambda scale: [
        f"solver.voltage_tolerance_V={1e-5 * scale}",
        f"solver.stoichiometry_tolerance={5e-6 * scale}",
    ]
    reference, _ = _voltages_at(times, tolerance(1 / 32768))
    errors, rows = [], []
    for scale in (1.0, 1 / 8, 1 / 64):  # looser, the start of the step (lithium ~ sqrt(t)) lowers the order
        v, n = _voltages_at(times, tolerance(scale))
        errors.append(np.abs(v - reference).max())
        rows.append(n)
    orders = [math.log(errors[k] / errors[k + 1]) / math.log(8.0) for k in range(2)]
    assert rows[0] < rows[1] < rows[2]
    assert all(0.5 < p < 0.85 for p in orders), orders
    assert np.mean(orders) == pytest.approx(2.0 / 3.0, abs=0.1)


def test_start_of_a_step_is_as_accurate_as_the_rest():
    """4C with a slow positive diffusivity (1e-15 m2/s): the voltage in the first second, where
    the lithium profile at the surface is steepest, within 0.5 mV of a fine reference in space
    and time (384 elements, tolerances 1e-7)."""
    times = [0.001, 0.01, 0.1, 1.0]
    common = [
        "output.fields=false",
        "cell.positive.diffusivity_m2_s=1e-15",
        "experiment.steps=['Discharge at 4C for 1 s']",
    ]
    fine = ["mesh.positive_elements=384", "solver.voltage_tolerance_V=1e-7", "solver.stoichiometry_tolerance=1e-7"]

    def voltages(extra):
        cfg = load_config(DEMO_CONFIG, [*common, *extra])
        cfg["output"]["field_times_s"] = times
        s = run(cfg, None).series
        return np.array([s["voltage_V"][int(np.argmin(np.abs(s["time_s"] - x)))] for x in times])

    error = np.abs(voltages([]) - voltages(fine))
    assert error.max() < 5e-4, error


def test_modified_newton_finds_newtons_solution(monkeypatch):
    """The integrator's modified Newton (the Jacobian of each solve assembled once, at the
    predictor) converges to the solution of Newton's method: the same voltages to well below the
    local error tolerance, with fewer Jacobians assembled than Newton iterations taken."""
    times = [1.0, 60.0, 600.0]

    def run_discharge():
        cfg = load_config(DEMO_CONFIG, ["output.fields=false", "experiment.steps=['Discharge at 1C for 600 s']"])
        cfg["output"]["field_times_s"] = times
        result = run(cfg, None)
        t = result.series["time_s"]
        voltages = result.series["voltage_V"][[int(np.argmin(np.abs(t - x))) for x in times]]
        sim = result.simulation
        return voltages, sim.problem.jacobian_callback.assemblies, sim.newton_iterations

    modified, assemblies, iterations = run_discharge()
    assert assemblies < 0.7 * iterations
    original = JacobianCallback.__init__

    def newton_only(self, *args):
        original(self, *args)
        self.factorised = False  # the integrator then takes Newton's method throughout

    monkeypatch.setattr(JacobianCallback, "__init__", newton_only)
    newton, assemblies, iterations = run_discharge()
    assert assemblies == iterations
    assert np.abs(modified - newton).max() <= 1e-10
