"""Run a cell model through an experiment: the experiment's steps, events and ledgers around
the time integrator of :mod:`ssbfem.integrator` (variable-order, variable-step BDF with local
error control, every step checked, a consistent start after every change of control).

A step that fails (Newton divergence, NaN, a stoichiometry leaving (0, 1)) is retried with a
quarter of the step, a bounded number of times; then the run stops with a diagnosis (step,
time, the residual block that did not converge).

Step ends: a duration is hit exactly; an event (voltage cut-off, current limit, charge passed,
temperature) is located by re-solving the last step with a shorter length (Illinois regula
falsi) until it is met within ``event_tolerance_V`` (or 1e-4 relative for a current or a
charge); each trial is a BDF step of the current order through the same past points, not an
interpolant, so the located point is a solution like any other.

The capacity is integrated with the same BDF formula as the lithium balance (the same order and
coefficients, over the increments of the segment's last points), so the charge passed equals F
times the lithium inserted to solver tolerance (verification case K).

All the stepper's state lives in one :class:`StepperState`, so that a run can be checkpointed
after any accepted step and resumed to give the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from mpi4py import MPI

from ssbfem.constants import FARADAY
from ssbfem.errors import SimulationError
from ssbfem.experiment import Event, Experiment, Step
from ssbfem.impedance import frequencies, impedance
from ssbfem.integrator import MAX_GROWTH, NEWTON_FRACTION, BDFIntegrator, Point
from ssbfem.model_interface import Model
from ssbfem.observables import Observable
from ssbfem.settings.run import Solver
from ssbfem.solvers import NewtonConvergence, create_solver

if TYPE_CHECKING:
    from ssbfem.observers import Observer


@dataclass
class StepperSettings:
    """Time-step control: the config's ``[solver]`` section (its defaults:
    :class:`ssbfem.settings.run.Solver`)."""

    voltage_tolerance_V: float
    stoichiometry_tolerance: float
    event_tolerance_V: float
    initial_step_s: float
    max_step_s: float
    temperature_tolerance_K: float
    petsc_options: dict | None = None
    linear_solver: str = "auto"
    max_retries: int = 12
    max_order: int = 4
    newton_fraction: float | None = None
    error_norm: str = "max"
    jacobian_lag_steps: int = 20

    @classmethod
    def from_config(cls, solver: Solver | dict | None = None) -> StepperSettings:
        """From the ``[solver]`` settings (a dict is validated; None: the defaults)."""
        solver = Solver.model_validate(solver or {}) if not isinstance(solver, Solver) else solver
        return cls(**{k: getattr(solver, k) for k in cls.__dataclass_fields__ if k in Solver.model_fields})


@dataclass
class StepperState:
    """Everything the time loop carries from one accepted step to the next.

    ``history`` holds the last max_order + 1 points of the current experiment step (its
    consistent start among them until it drops out): the BDF, predictor and error-estimate
    history; ``last_dq`` and ``last_heat`` the charge and heat increments between them (most
    recent last); ``order`` the BDF order of the next step and ``steps_at_order`` how many
    accepted steps it has taken; ``newton_rate_factor`` the Newton iterations' last measured
    rate / (1 - rate) (:class:`ssbfem.solvers.NewtonConvergence`); ``steps`` the summaries of
    finished steps.
    """

    step_index: int = 0
    step_start_s: float = 0.0
    step_capacity_C_m2: float = 0.0
    step_energy_J_m2: float = 0.0
    capacity_C_m2: float = 0.0
    energy_J_m2: float = 0.0
    last_dq: list[float] = field(default_factory=list)
    dt: float = 0.0
    dt_prev: float | None = None
    fields_written: int = 0
    accepted_steps: int = 0
    rejected_steps: int = 0
    newton_iterations: int = 0
    linear_iterations: int = 0
    step_start_counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    newton_rate_factor: float = NewtonConvergence.UNKNOWN_RATE_FACTOR
    heat_generated_J_m2: float = 0.0
    heat_removed_J_m2: float = 0.0
    last_heat: list[tuple[float, float]] = field(default_factory=list)
    order: int = 2
    steps_at_order: int = 0
    history: list[Point] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)

    def __post_init__(self):
        # a checkpoint of the BDF2-only stepper holds the last increment alone
        if not isinstance(self.last_dq, list):
            self.last_dq = [self.last_dq]
        if self.last_heat and not isinstance(self.last_heat[0], list | tuple):
            self.last_heat = [tuple(self.last_heat)]

    def scalars(self) -> dict:
        """The state without the arrays (JSON-ready)."""
        d = asdict(self)
        d["history"] = [{"t": p.t, "voltage": p.voltage, "current": p.current} for p in self.history]
        return d


def first_step_factor(h: float, error: float, tried: tuple[float, float] | None) -> float:
    """The factor on a rejected first step h of a segment (its error / tolerance > 1).

    A segment often starts with a kink: a current switched on under a diffusion layer makes the
    lithium near a surface go as sqrt(t), and the first step's error then falls as h^(1/2), not
    as backward Euler's h^2. The first retry assumes h^(1/2) (a step too short costs one cheap
    step more, a rejection three solves); later ones take the exponent p the last two tries show,
    error ~ h^p (between 1/4 and 2). On a 3D composite's 1C start from 0.1 s: one retry to 0.0119
    s instead of five to 0.0122 s (benchmarks/RESULTS.md)."""
    p = 0.5
    if tried is not None and tried[1] > error and tried[0] > h:
        p = min(2.0, max(0.25, math.log(tried[1] / error) / math.log(tried[0] / h)))
    return max(0.01, 0.9 * error ** (-1.0 / p))


#: The solver's work in an experiment step, in its summary (``steps.csv``) and in ``run.log``.
_STEP_COUNTS = ("time_steps", "rejected_steps", "newton_iterations", "linear_iterations")


class Interrupted(Exception):
    """The run was asked to stop (SIGINT, SIGTERM); the state is consistent and checkpointed."""


class Simulation:
    """Runs `model` through `experiment`, one accepted time step at a time.

    Args:
        model: The cell model.
        experiment: Parsed experiment.
        settings: Time-step control.
        observers: Told of rows, snapshots, spectra, checkpoints, the start and the stop
            (:mod:`ssbfem.observers`).
        field_times: Times (s) at which snapshots are due (also every step's end).
        checkpoint_every_steps, checkpoint_every_s: When checkpoints are due (0: never).
        stop_requested: Polled after every accepted step (on every rank; any rank may ask).
        observables: Extra time-series columns (:class:`ssbfem.observables.Observable`).
    """

    def __init__(
        self,
        model: Model,
        experiment: Experiment,
        settings: StepperSettings | None = None,
        observers: Sequence[Observer] = (),
        field_times: list[float] | None = None,
        checkpoint_every_steps: int = 0,
        checkpoint_every_s: float = 0.0,
        stop_requested: Callable[[], bool] | None = None,
        observables: Sequence[Observable] = (),
    ):
        self.model = model
        self.observables = {obs.name: obs.bind(model) for obs in observables}
        self.observers = list(observers)
        self.experiment = experiment
        self.settings = settings or StepperSettings.from_config()
        self.field_times = sorted(field_times or [])
        self.checkpoint_every_steps = checkpoint_every_steps
        self.checkpoint_every_s = checkpoint_every_s
        self.stop_requested = stop_requested or (lambda: False)
        self.problem = create_solver(model, self.settings.petsc_options, self.settings.linear_solver)
        self.comm = model.cellmesh.mesh.comm
        self.state = StepperState()
        s = self.settings
        tolerances = {
            "voltage": s.voltage_tolerance_V,
            "potential": s.voltage_tolerance_V,
            "stoichiometry": s.stoichiometry_tolerance,
            "temperature": s.temperature_tolerance_K,
        }
        self.integrator = BDFIntegrator(
            model,
            self.problem,
            tolerances,
            before_solve=self._control_at,
            max_order=s.max_order,
            newton_fraction=self._newton_fraction(),
            error_norm=s.error_norm,
            jacobian_lag_steps=s.jacobian_lag_steps,
        )
        self._last_checkpoint = (0, time.monotonic())

    def _newton_fraction(self) -> float:
        """The settings' newton_fraction, or by default NEWTON_FRACTION with an iterative linear
        solver and 0 (the residual test alone) with a factorisation."""
        if self.settings.newton_fraction is not None:
            return self.settings.newton_fraction
        jacobian = getattr(self.problem, "jacobian_callback", None)
        return 0.0 if jacobian is None or jacobian.factorised else NEWTON_FRACTION

    # -- observers
    def _notify(self, hook: str, *args) -> None:
        for observer in self.observers:
            getattr(observer, hook)(self, *args)

    def stop(self, status: str) -> None:
        """Tell the observers the run ended ("complete", "incomplete" or "failed") and free the
        solver."""
        try:
            self._notify("on_stop", status)
        finally:
            self.close()

    def observer_state(self) -> dict:
        """The observers' states, one dict (stored in a checkpoint)."""
        return {k: v for observer in self.observers for k, v in observer.state().items()}

    def load_observer_state(self, state: dict) -> None:
        """Give each observer back its state (a restart)."""
        for observer in self.observers:
            observer.load_state(state)

    # -- counters, for callers
    @property
    def accepted_steps(self) -> int:
        return self.state.accepted_steps

    @property
    def rejected_steps(self) -> int:
        return self.state.rejected_steps

    @property
    def newton_iterations(self) -> int:
        return self.state.newton_iterations

    @property
    def linear_iterations(self) -> int:
        return self.state.linear_iterations

    def close(self) -> None:
        """Free the solver's PETSc objects now, on every rank at once: left to the garbage
        collector, their collective destruction can happen at different times on different
        ranks and deadlock."""
        self.problem.destroy()

    # -- state handling
    def _capture(self, t: float) -> Point:
        return self.integrator.capture(t)

    def _restore(self, arrays: list[np.ndarray]) -> None:
        self.integrator.restore(arrays)

    @property
    def step(self) -> Step:
        return self.experiment.steps[self.state.step_index]

    def _control_at(self, t: float) -> None:
        """A time-dependent control (a profile, a temperature ramp) at the end of a step."""
        step, m = self.step, self.model
        if step.profile is not None:
            m.set_control(step.mode, step.setpoint(t - self.state.step_start_s))
        if step.temperature_ramp is not None:
            m.temperature.value = self._ramp(step, t)

    def _order(self) -> int:
        """The BDF order of a step from the last accepted point: the state's, or lower while the
        segment has fewer points (backward Euler from its start)."""
        return min(self.state.order, len(self.state.history))

    def _solve(self, dt: float) -> bool:
        """Solve from the last accepted point over dt (for event location); counts iterations."""
        ok, _ = self._counted(self.integrator.solve, self.state.history, dt, self._order())
        return ok

    def _counted(self, method, *args):
        """Call an integrator method, counting its Newton iterations; the Newton convergence
        rate it measures is part of the state (a restart takes the same iterations)."""
        before = self.integrator.newton_iterations, self.integrator.linear_iterations
        convergence = self.integrator.convergence
        if convergence is not None:
            convergence.rate_factor = self.state.newton_rate_factor
        try:
            return method(*args)
        finally:
            self.state.newton_iterations += self.integrator.newton_iterations - before[0]
            self.state.linear_iterations += self.integrator.linear_iterations - before[1]
            if convergence is not None:
                self.state.newton_rate_factor = convergence.rate_factor

    def _exhausted(self, point: Point, step: Step) -> str:
        """When the electrode is full or empty, say that the step's limit cannot be reached."""
        theta = point.arrays[self.model.unknowns.index(self.model.theta)]
        high = self.comm.allreduce(theta.max(initial=-np.inf), op=MPI.MAX)
        low = self.comm.allreduce(theta.min(initial=np.inf), op=MPI.MIN)
        if not step.events or (low > 1e-3 and high < 1 - 1e-3):
            return ""
        state, x = ("full", high) if high >= 1 - 1e-3 else ("empty", low)
        limit = step.events[0]
        return (
            f"; the positive electrode is {state} (x = {x:.5f}) before the {limit.value:g} {limit.quantity} limit: "
            "it is out of reach"
        )

    # -- events
    def _dq(self, current: float, dt: float) -> float:
        """Charge passed over a step just solved (C/m2), with the BDF weights of that solve; none
        at rest, where the current is zero by control and what the solver leaves is round-off."""
        if self.step.mode == "rest":
            return 0.0
        return self._increment(dt * current, self.state.last_dq)

    def _increment(self, h_rate: float, increments: list[float]) -> float:
        """Q_{n+1} - Q_n of a quantity whose rate is integrated by the BDF formula of the step just
        prepared: a0 Q_{n+1} + sum_j a_j Q_{n+1-j} = h rate, with Q_{n+1-j} - Q_n = -(the last
        j - 1 increments) and sum_j a_j = 0."""
        a = self.integrator.coefficients
        behind, total = 0.0, h_rate
        for j in range(2, len(a)):
            behind += increments[-(j - 1)]
            total += a[j] * behind
        return total / a[0]

    def _event_value(self, event: Event, point: Point, dt: float) -> float:
        """Signed distance to the event: it has happened when the value is <= 0."""
        if event.quantity == "voltage":
            v = point.voltage
            return v - event.value if event.direction == "below" else event.value - v
        if event.quantity == "current":
            return abs(point.current) - event.value
        if event.quantity == "temperature":
            m = self.model
            if m.temperature_rise is None:
                return event.value - float(m.temperature.value)
            hottest = point.arrays[m.unknowns.index(m.temperature_rise)].max(initial=-np.inf)
            return event.value - m.T0 - self.comm.allreduce(hottest, op=MPI.MAX)
        return event.value - abs(self.state.step_capacity_C_m2 + self._dq(point.current, dt))

    def _triggered(self, point: Point, dt: float) -> Event | None:
        for event in self.step.events:
            if self._event_value(event, point, dt) <= 0.0:
                return event
        return None

    def _locate(self, dt: float, event: Event, g_end: float) -> tuple[float, Point]:
        """Shorten the last step until the event is met within tolerance (Illinois method)."""
        start = self.state.history[-1]
        tolerances = {"voltage": self.settings.event_tolerance_V, "temperature": 1e-3}  # V, K
        tolerance = tolerances.get(event.quantity, 1e-4 * event.value)
        if event.quantity == "capacity":  # the charge passed so far in the step
            a, g_a = 0.0, event.value - abs(self.state.step_capacity_C_m2)
        else:
            a, g_a = 0.0, self._event_value(event, start, 0.0)
        b, g_b = dt, g_end
        side = 0
        for _ in range(60):
            trial = b - g_b * (b - a) / (g_b - g_a) if g_b != g_a else 0.5 * (a + b)
            if not (a < trial < b):
                trial = 0.5 * (a + b)
            ok = self._solve(trial)
            if not ok:  # shorter steps are easier: move the bracket's end towards the start
                b = trial
                continue
            point = self._capture(start.t + trial)
            g = self._event_value(event, point, trial)
            if (abs(g) <= tolerance and g <= 0.0) or abs(g) <= 0.1 * tolerance:
                return trial, point
            if g > 0.0:
                a, g_a = trial, g
                if side == -1:
                    g_b *= 0.5
                side = -1
            else:
                b, g_b = trial, g
                if side == 1:
                    g_a *= 0.5
                side = 1
        raise SimulationError(
            f"step {self.state.step_index} ({self.step.text!r}): could not locate its {event.quantity} event"
        )

    # -- the run
    def run(self, resume: bool = False) -> str:
        """Run the experiment (from the current state when `resume`); returns "complete".

        Raises SimulationError when a step cannot go on, Interrupted when asked to stop.
        """
        st = self.state
        self._notify("on_start")
        if not resume:
            self.model.set_initial_state()
            initial = self._capture(0.0)
            st.history = [initial]
            self._start_step(0)  # its control (a temperature ramp's start) holds from t = 0
            self._emit(initial, self.model.heat())
            self._notify("on_snapshot", 0.0)
        else:
            self._resume_temperature()
            self._apply_control()
        steps = self.experiment.steps
        while st.step_index < len(steps):
            ended = self._advance() if self.step.impedance is None else self._measure_impedance()
            if ended:
                self._finish_step(ended)
                if st.step_index + 1 < len(steps):
                    self._start_step(st.step_index + 1)
                else:
                    st.step_index += 1
            stop, checkpoint = self._stop_or_checkpoint()
            if stop:
                self._notify("on_checkpoint")
                raise Interrupted
            if checkpoint:
                self._notify("on_checkpoint")
                self._last_checkpoint = (self.state.accepted_steps, time.monotonic())
        return "complete"

    def _stop_or_checkpoint(self) -> tuple[bool, bool]:
        """(a stop was asked for, a checkpoint is due), on any rank: one reduction per step."""
        steps, wall = self._last_checkpoint
        due_steps = self.checkpoint_every_steps and self.state.accepted_steps - steps >= self.checkpoint_every_steps
        due_time = self.checkpoint_every_s and time.monotonic() - wall >= self.checkpoint_every_s
        local = np.array([bool(self.stop_requested()), bool(due_steps or due_time)], dtype=np.int8)
        flags = np.empty_like(local)
        self.comm.Allreduce(local, flags, op=MPI.MAX)
        return bool(flags[0]), bool(flags[1])

    def _ramp(self, step: Step, t: float) -> float:
        start, end = step.temperature_ramp
        return start + (end - start) * min(max((t - self.state.step_start_s) / step.duration_s, 0.0), 1.0)

    def _resume_temperature(self) -> None:
        """On a restart, an isothermal cell's temperature where the last temperature ramp before
        the current step left it (a ramp's end holds until the next ramp)."""
        ramps = [s.temperature_ramp for s in self.experiment.steps[: self.state.step_index] if s.temperature_ramp]
        if ramps and self.model.temperature_rise is None:
            self.model.temperature.value = ramps[-1][1]

    def _apply_control(self) -> None:
        step = self.step
        if step.temperature_ramp is not None:
            if self.model.temperature_rise is not None:
                raise SimulationError(f"{step.text!r}: a temperature ramp needs thermal.model = 'isothermal'")
            self.model.temperature.value = self._ramp(step, self.state.history[-1].t)
        self.model.set_control(step.mode, step.setpoint(self.state.history[-1].t - self.state.step_start_s))

    def _start_step(self, index: int) -> None:
        st = self.state
        st.step_index = index
        st.step_start_s = st.history[-1].t
        st.history = st.history[-1:]
        st.dt, st.dt_prev, st.last_dq = self.settings.initial_step_s, None, []
        st.order, st.steps_at_order = min(2, self.settings.max_order), 0
        st.step_capacity_C_m2 = st.step_energy_J_m2 = 0.0
        st.last_heat = []
        st.step_start_counts = self._counts()
        self._apply_control()

    def _counts(self) -> list[int]:
        """(accepted time steps, rejected, Newton iterations, linear iterations) so far."""
        st = self.state
        return [st.accepted_steps, st.rejected_steps, st.newton_iterations, st.linear_iterations]

    def _limit(self) -> float:
        """The next time the step must land on: its end, a field time or a profile breakpoint."""
        st, step = self.state, self.step
        t = st.history[-1].t
        limits = [st.step_start_s + step.duration_s if step.duration_s is not None else math.inf]
        limits += [ft for ft in self.field_times[st.fields_written :] if ft > t][:1]
        limits += [st.step_start_s + b for b in step.breakpoints() if st.step_start_s + b > t * (1 + 1e-12)][:1]
        return min(limits)

    def _advance(self) -> str:
        """Take one accepted time step (two half steps at a segment's start). Returns why the
        experiment step ended ("" if it goes on)."""
        st, s, step = self.state, self.settings, self.step
        if st.dt_prev is None and len(st.history) == 1:  # a segment's start: settle the algebraic unknowns
            st.history = [self._counted(self.integrator.consistent_start, st.history[-1], st.dt)]
            self._control_at(st.history[-1].t)
            start = st.history[-1]
            if any(self._event_value(e, start, 0.0) <= 0.0 for e in step.events if e.quantity == "voltage"):
                return "voltage limit"  # beyond the cut-off as soon as the control is applied: ends where it starts
        point = st.history[-1]
        dt = min(st.dt, s.max_step_s, self._limit() - point.t)
        retries, rejected, tried = 0, False, None
        while True:
            first = st.dt_prev is None  # backward Euler checked by step doubling; then BDF
            if first:
                ok, error, why, points = self._counted(self.integrator.first_step, st.history, dt)
            else:
                ok, errors, why, points = self._counted(self.integrator.step, st.history, dt, st.order)
                error = errors[st.order]
            if ok and error <= 1.0:
                break
            st.rejected_steps += 1
            rejected = True
            if not ok:
                retries += 1
                if retries > s.max_retries or 0.25 * dt < 1e-12 * max(1.0, point.t):
                    why += self._exhausted(point, step)
                    raise SimulationError(
                        f"step {st.step_index} ({step.text!r}) at t = {point.t:.6g} s: {why}; "
                        f"gave up after {retries} tries, last dt = {dt:.3g} s"
                    )
                dt *= 0.25
            elif first:
                factor = first_step_factor(dt, error, tried)
                tried = (dt, error)
                dt *= factor
            else:  # the lower order if it allows the longer step
                order, factor = self._next_order(errors, st.order, raise_order=False)
                if order != st.order:
                    st.order, st.steps_at_order = order, 0
                dt *= factor
        event, substep = self._accept_points(points, dt / len(points))
        new = st.history[-1]
        # The local error scales as h^2 per backward-Euler step, h^(k+1) per BDF-k step; the next
        # step grows at most by MAX_GROWTH[k] over the last (zero stability of variable steps).
        if first:
            factor = max(0.2, 0.9 * max(error, 1e-10) ** -0.5)
        else:
            st.steps_at_order += 1
            order, factor = self._next_order(errors, st.order, raise_order=st.steps_at_order >= st.order + 1)
            if order != st.order:
                st.order, st.steps_at_order = order, 0
        growth = 1.0 if rejected else MAX_GROWTH[st.order]
        st.dt = min(dt * min(growth, factor), 2.0 * substep)
        due = [ft for ft in self.field_times[st.fields_written :] if ft <= new.t * (1 + 1e-12) + 1e-12]
        if due:
            st.fields_written += len(due)
            self._notify("on_snapshot", new.t)
        end = st.step_start_s + step.duration_s if step.duration_s is not None else math.inf
        if event is not None:
            reason = f"{event.quantity} limit"
        elif new.t >= end - 1e-9 * max(1.0, end):
            reason = "time"
        else:
            return ""
        if not due:
            self._notify("on_snapshot", new.t)
        return reason

    @staticmethod
    def _next_order(errors: dict[int, float], order: int, raise_order: bool) -> tuple[int, float]:
        """The order whose error estimate allows the longest next step, among `order`, the one
        below and (when `raise_order`) the one above, and that step's factor over the last (at
        least 0.2, 0.9 times the error's (k+1)-th root); `order` when they tie."""
        factors = {
            k: max(0.2, 0.9 * max(e, 1e-10) ** (-1.0 / (k + 1))) for k, e in errors.items() if k <= order or raise_order
        }
        best = max(factors, key=lambda k: (factors[k], k == order))
        return best, factors[best]

    def _accept_points(self, points: list[Point], h: float) -> tuple[Event | None, float]:
        """Accept the new points in turn, each after h, until one passes an event: that one is
        shortened to the event. Returns the event (or None) and the last accepted step's length."""
        for point in points:
            # The model holds the point it books and the step that led to it (heat, rows): the
            # integrator leaves it holding the last point, so a single one is already in place.
            if len(points) > 1:
                self.integrator.prepare(self.state.history, h, self._order())
                self._restore(point.arrays)
            event = self._triggered(point, h)
            if event is not None:
                h, point = self._locate(h, event, self._event_value(event, point, h))
                self._accept(point, h)
                return event, h
            self._accept(point, h)
        return None, h

    def _measure_impedance(self) -> str:
        """An EIS step: relax the cell to open circuit where the step says, take the spectrum."""
        st, m, spec = self.state, self.model, self.step.impedance
        point = st.history[-1]
        self._restore(point.arrays)
        if spec.state == "voltage":
            x = m.stoichiometry_at_ocp(spec.value)
        elif spec.state == "rest":
            x = m.mean_stoichiometry()
        else:  # a charge passed from the nominal full state
            x = m.cell.positive.initial_stoichiometry + spec.value * m.stoichiometry_per_charge()
        if not 0.0 < x < 1.0:
            raise SimulationError(f"step {st.step_index} ({self.step.text!r}): stoichiometry {x:.4g} is out of range")
        m.set_equilibrium(x)
        freqs = frequencies(spec.start_Hz, spec.end_Hz, spec.points_per_decade)
        self._notify("on_spectrum", st.step_index, freqs, impedance(m, self.problem, freqs))
        relaxed = self._capture(point.t)
        st.history = [relaxed]
        self._emit(relaxed, m.heat())
        return "impedance"

    def _accept(self, point: Point, dt: float) -> None:
        """Book-keep an accepted step: capacity with the BDF weights of the lithium balance."""
        st = self.state
        dq = self._dq(point.current, dt)
        st.last_dq = [*st.last_dq, dq][-self.settings.max_order :]
        st.capacity_C_m2 += dq
        st.step_capacity_C_m2 += dq
        energy = 0.0 if self.step.mode == "rest" else dt * point.current * point.voltage
        st.energy_J_m2 += energy
        st.step_energy_J_m2 += energy
        heat = self.model.heat()
        if heat:  # integrated like the capacity, so the energy balance closes exactly
            generated = sum(v for k, v in heat.items() if k not in ("removed", "stored"))
            rates = (generated, heat.get("removed", 0.0))
            increments = tuple(self._increment(dt * r, [h[i] for h in st.last_heat]) for i, r in enumerate(rates))
            st.last_heat = [*st.last_heat, increments][-self.settings.max_order :]
            st.heat_generated_J_m2 += increments[0]
            st.heat_removed_J_m2 += increments[1]
        st.accepted_steps += 1
        # BDF-k takes k points, its predictor k + 1, the estimate at order k + 1 takes k + 2
        st.history = [*st.history, point][-(self.settings.max_order + 1) :]
        st.dt_prev = dt
        self._emit(point, heat)

    def _finish_step(self, reason: str) -> None:
        st = self.state
        last = st.history[-1]
        q = st.step_capacity_C_m2
        st.steps.append(
            {
                "step": st.step_index,
                "cycle": self.experiment.cycles[st.step_index],
                "text": self.step.text,
                "start_s": st.step_start_s,
                "end_s": last.t,
                "end_reason": reason,
                "capacity_mAh_cm2": q / 36000.0,
                "energy_mWh_cm2": st.step_energy_J_m2 / 36000.0,
                "mean_voltage_V": st.step_energy_J_m2 / q if abs(q) > 1e-12 else last.voltage,
                "end_voltage_V": last.voltage,
                "end_current_A_m2": last.current,
                **{
                    name: now - start
                    for name, now, start in zip(_STEP_COUNTS, self._counts(), st.step_start_counts, strict=True)
                },
            }
        )
        self._notify("on_step_end", st.steps[-1])

    def _emit(self, point: Point, heat: dict[str, float]) -> None:
        m, st = self.model, self.state
        means = m.interface_means()  # assembled once per row, shared with the breakdown
        breakdown = m.voltage_breakdown(means)
        heat_columns = {}
        if heat:  # per m2 of footprint (W/m2, J/m2) in every dimension, the whole cell's (W, J), per m3 of stack
            per_m2 = {k: v for k, v in heat.items() if k != "stored"}
            per_m2.setdefault("removed", 0.0)
            energy = {
                "stored": heat["stored"],
                "generated": st.heat_generated_J_m2,
                "removed": st.heat_removed_J_m2,
            }
            area = m.cell_area_m2
            heat_columns = {f"heat_{k}_W_m2": v for k, v in per_m2.items()}
            heat_columns.update({f"heat_{k}_W": v * area for k, v in per_m2.items()})
            sources = [k for k in heat if k not in ("stored", "removed")]
            heat_columns.update({f"heat_{k}_W_m3": heat[k] / m.stack_thickness_m for k in sources})
            heat_columns.update({f"heat_{k}_J_m2": v for k, v in energy.items()})
            heat_columns.update({f"heat_{k}_J": v * area for k, v in energy.items()})
        row = {
            "time_s": point.t,
            "step": st.step_index,
            "cycle": self.experiment.cycles[min(st.step_index, len(self.experiment.cycles) - 1)],
            "current_A_m2": point.current,
            "voltage_V": point.voltage,
            "capacity_mAh_cm2": st.capacity_C_m2 / 36000.0,
            "energy_mWh_cm2": st.energy_J_m2 / 36000.0,
            # the whole cell's, of footprint cell.area_cm2 (m.cell_area_m2): A, mAh, mWh
            "current_A": point.current * m.cell_area_m2,
            "capacity_mAh": st.capacity_C_m2 * m.cell_area_m2 / 3.6,
            "energy_mWh": st.energy_J_m2 * m.cell_area_m2 / 3.6,
            "surface_stoichiometry": means["surface_stoichiometry"],
            "mean_stoichiometry": means["mean_stoichiometry"],
            "lithium_mol_m2": m.lithium_content(),
            **m.temperatures(),
            **breakdown,
            **heat_columns,
        }
        if m.capacitive:
            row["double_layer_charge_C_m2"] = m.double_layer_charge(means)
        row.update({name: evaluate() for name, evaluate in self.observables.items()})
        self._notify("on_row", {k: v if isinstance(v, int) else float(v) for k, v in row.items()})


def lithium_charge_balance(rows: list[dict]) -> tuple[float, float]:
    """(charge passed, F x lithium inserted - change of the positive double layer's charge),
    both C/m2, between the first and last row (verification case K)."""
    charge = (rows[-1]["capacity_mAh_cm2"] - rows[0]["capacity_mAh_cm2"]) * 36000.0
    inserted = FARADAY * (rows[-1]["lithium_mol_m2"] - rows[0]["lithium_mol_m2"])
    if "double_layer_charge_C_m2" in rows[0]:
        inserted -= rows[-1]["double_layer_charge_C_m2"] - rows[0]["double_layer_charge_C_m2"]
    return charge, inserted
