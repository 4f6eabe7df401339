"""The time integrator: its error estimate is the BDF2 step's true local error, the global error
falls with the tolerance at the rate the method promises, and the start of a step is as
accurate as the rest of it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import DEMO_CONFIG, REPO, simulate, thin_film
from mpi4py import MPI

from ssbfem.config import load_config
from ssbfem.errors import InputError
from ssbfem.integrator import (
    MAX_GROWTH,
    BDFIntegrator,
    Point,
    bdf2_coefficients,
    bdf_coefficients,
    error_factor,
    extrapolate,
    milne_factor,
    ratio_bound,
)
from ssbfem.runner import build_mesh, resolved_model, run
from ssbfem.settings import load_settings
from ssbfem.simulation import lithium_charge_balance
from ssbfem.solvers import JacobianCallback, create_solver


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
    """BDF2 (max_order 2): local error per step held at tol with LTE ~ h^3 gives h ~ tol^(1/3) and
    a global error ~ h^2 ~ tol^(2/3): each eightfold tighter tolerance divides it by 4."""
    times = [60.0, 300.0, 600.0, 1200.0]
    tolerance = lambda scale: [
        f"solver.voltage_tolerance_V={1e-5 * scale}",
        f"solver.stoichiometry_tolerance={5e-6 * scale}",
        "solver.max_order=2",
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


def _discharge_600s(overrides: list[str] = ()) -> tuple[np.ndarray, int, int]:
    """Voltages at 1, 60 and 600 s of a 1C discharge, Jacobian assemblies, Newton iterations."""
    times = [1.0, 60.0, 600.0]
    cfg = load_config(
        DEMO_CONFIG, ["output.fields=false", "experiment.steps=['Discharge at 1C for 600 s']", *overrides]
    )
    cfg["output"]["field_times_s"] = times
    result = run(cfg, None)
    t = result.series["time_s"]
    voltages = result.series["voltage_V"][[int(np.argmin(np.abs(t - x))) for x in times]]
    sim = result.simulation
    return voltages, sim.problem.jacobian_callback.assemblies, sim.newton_iterations


def test_modified_newton_finds_newtons_solution(monkeypatch):
    """The integrator's modified Newton (the Jacobian of each solve assembled once, at the
    predictor) converges to the solution of Newton's method: the same voltages to well below the
    local error tolerance, with fewer Jacobians assembled than Newton iterations taken (both
    iterated to the residual tolerance: newton_fraction 0)."""
    residual_test = ["solver.newton_fraction=0"]
    modified, assemblies, iterations = _discharge_600s(residual_test)
    assert assemblies < 0.7 * iterations
    original = JacobianCallback.__init__

    def newton_only(self, *args):
        original(self, *args)
        self.factorised = False  # the integrator then takes Newton's method throughout

    monkeypatch.setattr(JacobianCallback, "__init__", newton_only)
    newton, assemblies, iterations = _discharge_600s([*residual_test, "solver.jacobian_lag_steps=0"])
    assert assemblies == iterations
    assert np.abs(modified - newton).max() <= 1e-10


def test_newton_stops_inside_the_local_error_tolerance():
    """Stopping Newton once its estimated error is a tenth of the local error tolerance (the
    default with the iterative solver) instead of at the residual tolerance: half the Newton
    iterations or fewer, and the voltages within the voltage tolerance (1e-5 V) of the fully
    converged run's (here with modified Newton)."""
    converged, _, full_iterations = _discharge_600s(["solver.newton_fraction=0"])
    stopped, _, iterations = _discharge_600s(["solver.newton_fraction=0.1"])
    assert iterations <= 0.6 * full_iterations
    assert np.abs(stopped - converged).max() <= 1e-5


# -- variable order


def _uneven_times(order: int, seed: int) -> list[float]:
    """t_{n+1}, t_n, ... going back, steps between 0.3 and 1.7 of 0.1 (random ratios)."""
    steps = 0.1 * np.random.default_rng(seed).uniform(0.3, 1.7, order + 1)
    return list(2.0 - np.concatenate([[0.0], np.cumsum(steps)]))


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_bdf_coefficients_are_exact_for_polynomials_of_their_degree(order):
    """sum_j a_j p(t_{n+1-j}) / h = p'(t_{n+1}) for every polynomial of degree <= k on uneven steps,
    and not for degree k + 1; order 2 is the closed form of variable-step BDF2."""
    times = _uneven_times(order, seed=order)[: order + 1]
    a = bdf_coefficients(times)
    h = times[0] - times[1]
    for degree in range(order + 2):
        p = np.polynomial.Polynomial(np.random.default_rng(degree).uniform(-1, 1, degree + 1))
        approx = sum(aj * p(tj) for aj, tj in zip(a, times, strict=True)) / h
        if degree <= order:
            assert approx == pytest.approx(p.deriv()(times[0]), rel=1e-10, abs=1e-10)
        else:
            assert abs(approx - p.deriv()(times[0])) > 1e-6
    assert sum(a) == pytest.approx(0.0, abs=1e-12)
    if order == 2:
        assert a == pytest.approx(bdf2_coefficients(h, times[1] - times[2]), rel=1e-13)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_error_factor_gives_the_true_local_error(order, seed):
    """For y' = f(t) with y a polynomial of degree k + 1 a BDF-k step from exact history errs by
    exactly K (u - u_pred) (u_pred through the k + 1 previous points), on uneven steps."""
    times = _uneven_times(order, seed)  # t_{n+1}, ..., t_{n-k}
    y = np.polynomial.Polynomial(np.random.default_rng(seed + 10).uniform(0.5, 1.5, order + 2))
    a = bdf_coefficients(times[: order + 1])
    h = times[0] - times[1]
    u = (h * y.deriv()(times[0]) - sum(a[j] * y(times[j]) for j in range(1, order + 1))) / a[0]
    history = [Point(t, [np.array([y(t)])], 0.0, 0.0) for t in reversed(times[1:])]
    predicted = extrapolate(history, times[0])[0][0]
    assert error_factor(times) * (u - predicted) == pytest.approx(u - y(times[0]), rel=1e-7)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_error_factor_for_constant_steps(order):
    """Constant steps: the BDF-k error is h^(k+1) y^(k+1) / ((k+1) a0), a0 = H_k = 1 + ... + 1/k
    (its error constant -1/(k+1) over the leading coefficient), the predictor's h^(k+1) y^(k+1):
    K = 1 / (1 + (k+1) H_k), 1/3, 2/11, 6/35, 12/61, 60/347."""
    harmonic = sum(1.0 / j for j in range(1, order + 1))
    times = [-float(i) for i in range(order + 2)]
    assert error_factor(times) == pytest.approx(1.0 / (1.0 + (order + 1) * harmonic), rel=1e-12)
    assert bdf_coefficients(times[: order + 1])[0] == pytest.approx(harmonic, rel=1e-12)
    if order == 2:
        assert error_factor(times) == pytest.approx(milne_factor(1.0, 1.0, 1.0), rel=1e-12)


def test_growth_limits_are_inside_the_zero_stability_bounds():
    """The constant-ratio zero-stability bound of variable-step BDF-k: 1 + sqrt 2 for BDF2 (the
    known result), then 1.618, 1.281, 1.128; every step-growth limit lies below it."""
    bounds = {k: ratio_bound(k) for k in (2, 3, 4, 5)}
    assert bounds[2] == pytest.approx(1.0 + math.sqrt(2.0), abs=2e-3)
    assert [round(bounds[k], 2) for k in (3, 4, 5)] == [1.62, 1.28, 1.13]
    assert all(MAX_GROWTH[k] < bounds[k] for k in bounds)


def test_fixed_steps_converge_at_the_order_of_the_formula():
    """A lumped cell cooling at rest (convection only, no current): its temperature rise obeys the
    linear ODE C r' = -hA (r - dT), r = dT (1 - exp(-t/tau)). tau is read from one backward-Euler
    step (exact algebra for this ODE: r1 = dT h / (tau + h)). Fixed steps of tau/10, /20, /40 of
    BDF-k from exact starting values: the error at t = tau falls as h^k (observed within 0.3)."""
    settings = load_settings(
        REPO / "demos" / "configs" / "thin_film_thermal.toml",
        [
            "thermal.model=lumped",
            "thermal.initial_temperature_K=318.15",
            "thermal.ambient_K=298.15",
            "thermal.boundaries.negative_terminal={type='insulated'}",
        ],
    )
    model, _ = resolved_model(settings, build_mesh(settings, MPI.COMM_SELF))
    loose = {"voltage": 1.0, "stoichiometry": 1.0, "temperature": 1.0, "potential": 1.0}
    integrator = BDFIntegrator(model, create_solver(model, linear_solver="direct"), loose, max_order=5)
    model.set_initial_state()
    model.set_control("current", 0.0)
    start = integrator.capture(0.0)
    k, d_t = model.unknowns.index(model.temperature_rise), 298.15 - 318.15
    assert integrator.solve([start], 10.0, 1)[0]
    r1 = float(model.temperature_rise.x.array[0])
    tau = 10.0 * (d_t - r1) / r1
    exact = lambda t: d_t * (1.0 - math.exp(-t / tau))

    def exact_point(t: float) -> Point:
        arrays = [a.copy() for a in start.arrays]
        arrays[k][:] = exact(t)
        return Point(t, arrays, start.voltage, 0.0)

    for order in (1, 2, 3, 4):
        errors = []
        for n in (10, 20, 40):
            history = [exact_point(j * tau / n) for j in range(order)]
            for _ in range(n - order + 1):
                assert integrator.solve(history, tau / n, order)[0]
                history = [*history, integrator.capture(history[-1].t + tau / n)][-order:]
            assert history[-1].t == pytest.approx(tau, rel=1e-12)
            errors.append(history[-1].arrays[k][0] - exact(tau))
        observed = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
        assert all(abs(p - order) < 0.3 for p in observed), (order, errors, observed)


def _discharge(extra: list[str], times: list[float] | None = None):
    cfg = load_config(DEMO_CONFIG, ["output.fields=false", "output.plot=false", *extra])
    if times is not None:
        cfg["output"]["field_times_s"] = times  # steps land on these times
    return run(cfg, None)


def test_max_order_two_is_the_bdf2_stepper():
    """max_order = 2 takes the variable-step BDF2 of the fixed-order stepper (ssbfem 0.1) step for
    step: its voltages of a 1C discharge of the demo film at these times, and its capacity, to
    round-off (the values of that stepper at its default tolerances, from a first step of 2e-5 s
    that is accepted: a rejected first step is now cut by first_step_factor)."""
    times = [1.0, 60.0, 600.0, 1800.0]
    old_defaults = [
        "solver.voltage_tolerance_V=1e-5",
        "solver.stoichiometry_tolerance=5e-6",
        "solver.initial_step_s=2e-5",
    ]
    result = _discharge(["solver.max_order=2", *old_defaults, "experiment.steps=['Discharge at 1C for 1800 s']"], times)
    t, v = result.series["time_s"], result.series["voltage_V"]
    rows = [int(np.argmin(np.abs(t - x))) for x in times]
    bdf2 = [4.076023605932322, 3.9494017919567974, 3.82811198048917, 3.661778247376342]
    assert np.abs(v[rows] - bdf2).max() < 1e-12
    assert result.series["capacity_mAh_cm2"][-1] == pytest.approx(0.10416650000000006, rel=1e-13)
    assert len(t) == 184


def test_fourth_order_discharge_against_a_fine_reference():
    """The demo film's discharge to 3.0 V at max_order 4 and tolerances of 1e-5 V and 5e-6: within
    0.5 mV of a reference with tolerances 100 times tighter (BDF2) over the first 90 % of it, its
    capacity within 1e-4, in fewer steps than BDF2 at the same tolerances."""
    tolerances = ["solver.voltage_tolerance_V=1e-5", "solver.stoichiometry_tolerance=5e-6"]
    fourth = _discharge(["solver.max_order=4", *tolerances])
    second = _discharge(["solver.max_order=2", *tolerances])
    fine = _discharge(["solver.voltage_tolerance_V=1e-7", "solver.stoichiometry_tolerance=5e-8", "solver.max_order=2"])
    t, v = fourth.series["time_s"], fourth.series["voltage_V"]
    ref_t, ref_v = fine.series["time_s"], fine.series["voltage_V"]
    flat = t <= 0.9 * ref_t[-1]
    assert np.abs(v[flat] - np.interp(t[flat], ref_t, ref_v)).max() < 5e-4
    capacity = lambda r: r.series["capacity_mAh_cm2"][-1]
    assert capacity(fourth) == pytest.approx(capacity(fine), rel=1e-4)
    assert fourth.simulation.accepted_steps < 0.75 * second.simulation.accepted_steps


def test_balances_close_at_fourth_order():
    """The ledgers integrate with the BDF formula of each step's order (a0 Q_{n+1} + sum_j a_j
    Q_{n+1-j} = h rate over the kept charge increments): at max_order 4, over a discharge and a
    rest, the charge passed equals F times the lithium inserted (verification case K) and the heat
    generated equals the heat removed plus the heat stored, to solver tolerance."""
    raw = thin_film(
        cell={"positive": {"density_kg_m3": 5050.0, "heat_capacity_J_kg_K": 740.0}, "negative": {"thickness_um": 2.0}},
        thermal={"model": "full", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}},
        experiment={"steps": ["Discharge at 4C until 3.0 V", "Rest for 10 minutes"]},
        solver={"max_order": 4},
    )
    s = simulate(raw).series
    charge, inserted = lithium_charge_balance(s.rows)
    assert charge > 0 and abs(charge - inserted) <= 1e-6 * charge
    generated, lost, stored = s["heat_generated_J"][-1], s["heat_removed_J"][-1], s["heat_stored_J"][-1]
    assert generated > 0 and lost > 0  # the rest cools the cell back: little is left stored
    assert abs(generated - lost - stored) <= 1e-6 * generated


@pytest.mark.parametrize("order", [0, 6])
def test_max_order_outside_one_to_five_is_refused(order):
    with pytest.raises(InputError, match=r"solver\.max_order"):
        load_settings(DEMO_CONFIG, [f"solver.max_order={order}"])


@pytest.mark.parametrize("norm", ["max", "rms"])
def test_error_norms(norm):
    """The step error of a field is its largest |a - b| / tolerance over the dofs ("max") or
    their root mean square ("rms"); the voltage counts on its own."""
    result = _discharge([f"solver.error_norm={norm}", "experiment.steps=['Discharge at 1C for 10 s']"])
    integrator = result.simulation.integrator
    model = integrator.model
    a = [u.x.array.copy() for u in model.unknowns]
    b = [x.copy() for x in a]
    k = model.unknowns.index(model.theta)
    tol = integrator.tolerances["stoichiometry"]
    owned = model.theta.function_space.dofmap.index_map.size_local
    deviations = np.zeros(owned)
    deviations[:4] = tol * np.array([3.0, -1.0, 2.0, 0.5])
    b[k][:owned] += deviations
    expected = 3.0 if norm == "max" else math.sqrt(np.sum((deviations / tol) ** 2) / owned)
    assert integrator.distance(a, b) == pytest.approx(expected, rel=1e-12)
    kv = model.unknowns.index(model.voltage)
    b[kv][:] += 50.0 * integrator.tolerances["voltage"]  # the voltage's own error dominates
    assert integrator.distance(a, b) == pytest.approx(50.0, rel=1e-12)


def test_first_step_factor_follows_the_observed_order():
    """A rejected first step is cut as if its error went as h^(1/2) (a sqrt(t) start), then with
    the exponent the last two tries show; never below 1/100."""
    from ssbfem.simulation import first_step_factor

    assert first_step_factor(0.1, 4.0, None) == pytest.approx(0.9 / 16.0)
    # two tries whose errors went as h^2: the next cut takes that exponent
    assert first_step_factor(0.05, 4.0, (0.1, 16.0)) == pytest.approx(0.9 * 4.0**-0.5)
    # errors that went as h^(1/2), as the first retry assumed
    assert first_step_factor(0.05, 4.0, (0.1, 4.0 * math.sqrt(2.0))) == pytest.approx(0.9 / 16.0)
    assert first_step_factor(0.1, 1e4, None) == 0.01


def test_a_sqrt_t_start_takes_one_retry(monkeypatch):
    """The 3D composite's 1C discharge from rest with a first step of 0.1 s (its config's), the
    stoichiometry's tolerance 5e-5: the lithium under the particles' surfaces goes as sqrt(t) and
    the first step is retried once."""
    import ssbfem.simulation as simulation

    tries = []
    original = simulation.BDFIntegrator.first_step

    def counted(self, history, h):
        tries.append(h)
        return original(self, history, h)

    monkeypatch.setattr(simulation.BDFIntegrator, "first_step", counted)
    small = ["cell.composite.length_um=8", "cell.composite.width_um=8", "cell.positive.thickness_um=8"]
    tight = "solver.stoichiometry_tolerance=5e-5"
    cfg = load_config(REPO / "demos" / "configs" / "composite_cathode.toml", ["output.fields=false", tight, *small])
    cfg["experiment"]["steps"] = ["Discharge at 1C for 1 s"]
    run(cfg, None)
    assert tries[0] == 0.1
    assert len(tries) == 2
