"""Run a cell model through an experiment: adaptive implicit time stepping with events.

Time integration is variable-step BDF2 (backward Euler for the first step after every change
of control, when the solution's time derivative jumps). The local error of each step is
estimated from the distance between the solution and its polynomial extrapolation from the
previous steps (Milne's device), measured on the cell voltage and the stoichiometry, and the
next step is sized to keep it at the tolerance. A step that fails (Newton divergence, NaN, a
stoichiometry leaving (0, 1)) is retried with a quarter of the step, a bounded number of times.

Step ends: a duration is hit exactly; an event (voltage cut-off, current limit) is located by
re-solving the last step with a shorter length (Illinois regula falsi) until it is met within
``event_tolerance_V`` (or the equivalent relative tolerance on a current).

The capacity is integrated with the same BDF formula as the lithium balance, so the charge
passed equals F times the lithium inserted to solver tolerance (verification case K).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from ssbfem.constants import FARADAY
from ssbfem.errors import SimulationError
from ssbfem.experiment import Event, Step
from ssbfem.model import CellModel
from ssbfem.solvers import converged, create_solver

#: Estimated local error = this factor times the distance from the extrapolated predictor
#: (BDF2's error constant relative to that of quadratic extrapolation, at equal steps).
ERROR_FACTOR = 0.25


@dataclass
class StepperSettings:
    """Time-step control; the config's ``[solver]`` section."""

    voltage_tolerance_V: float = 2.0e-4
    stoichiometry_tolerance: float = 1.0e-4
    event_tolerance_V: float = 1.0e-4
    initial_step_s: float = 1.0e-3
    max_step_s: float = 600.0
    max_retries: int = 12
    petsc_options: dict | None = None

    @classmethod
    def from_config(cls, solver: dict) -> StepperSettings:
        keys = {k: v for k, v in solver.items() if k in cls.__dataclass_fields__}
        return cls(**keys)


@dataclass
class _Point:
    """An accepted solution: time, copies of the unknowns, and what the steps need of it."""

    t: float
    arrays: list[np.ndarray]
    voltage: float
    current: float


class Simulation:
    """Runs `model` through `steps`; `record(row)` receives each accepted point as a dict.

    Args:
        model: The cell model (its initial state is set here).
        steps: Parsed experiment steps.
        settings: Time-step control.
        record: Called with one row (dict of scalars) per accepted time step.
        field_times: Times (s) at which `snapshot(t)` is called; also the start and end of
            every step.
        snapshot: Called with the time when fields are due.
    """

    def __init__(
        self,
        model: CellModel,
        steps: list[Step],
        settings: StepperSettings | None = None,
        record: Callable[[dict], None] | None = None,
        field_times: list[float] | None = None,
        snapshot: Callable[[float], None] | None = None,
    ):
        self.model = model
        self.steps = steps
        self.settings = settings or StepperSettings()
        self.record = record or (lambda row: None)
        self.snapshot = snapshot or (lambda t: None)
        self.field_times = sorted(field_times or [])
        self.problem = create_solver(model, self.settings.petsc_options)
        self.comm = model.cellmesh.mesh.comm
        self.t = 0.0
        self.capacity_C_m2 = 0.0
        self.energy_J_m2 = 0.0
        self._last_dq = 0.0
        self.newton_iterations = 0
        self.accepted_steps = 0
        self.rejected_steps = 0
        self.step_index = 0

    def close(self) -> None:
        """Free the solver's PETSc objects now, on every rank at once: left to the garbage
        collector, their collective destruction can happen at different times on different
        ranks and deadlock."""
        p = self.problem
        for obj in (p.solver, p.A, p.b, p.x, p.P_mat):
            if obj is not None:
                obj.destroy()

    # -- state handling
    def _capture(self, t: float) -> _Point:
        m = self.model
        return _Point(t, [u.x.array.copy() for u in m.unknowns], m.cell_voltage(), m.current_density())

    def _restore(self, arrays: list[np.ndarray]) -> None:
        for u, a in zip(self.model.unknowns, arrays, strict=True):
            u.x.array[:] = a

    def _predict(self, history: list[_Point], t_new: float) -> list[np.ndarray]:
        """Lagrange extrapolation of every unknown through the history points to t_new."""
        ts = [p.t for p in history]
        weights = []
        for i, ti in enumerate(ts):
            w = 1.0
            for j, tj in enumerate(ts):
                if j != i:
                    w *= (t_new - tj) / (ti - tj)
            weights.append(w)
        fields = range(len(history[0].arrays))
        return [sum(w * p.arrays[k] for w, p in zip(weights, history, strict=True)) for k in fields]

    # -- one implicit step
    def _solve(self, history: list[_Point], dt: float, dt_prev: float | None) -> tuple[bool, float, str]:
        """Solve from history[-1] over dt. Returns (ok, error estimate, failure reason)."""
        m = self.model
        order = 2 if dt_prev is not None else 1
        if order == 2:
            omega = dt / dt_prev
            coefficients = ((1 + 2 * omega) / (1 + omega), -(1 + omega), omega**2 / (1 + omega))
        else:
            coefficients = (1.0, -1.0, 0.0)
        for const, a in zip(m.bdf, coefficients, strict=True):
            const.value = a
        m.inv_dt.value = 1.0 / dt
        last = history[-1]
        theta_index = m.unknowns.index(m.theta)
        m.theta_n.x.array[:] = last.arrays[theta_index]
        if order == 2:
            m.theta_nm1.x.array[:] = history[-2].arrays[theta_index]
        # The step's start point carries the algebraic unknowns of the previous control: it
        # serves the BDF formula (theta is continuous) but not the predictor.
        guess_points = history[1:][-3:] if len(history) > 1 else history
        predicted = self._predict(guess_points, last.t + dt) if len(guess_points) > 1 else last.arrays
        self._restore(predicted)
        self.problem.solve()
        ok, reason, its = converged(self.problem)
        self.newton_iterations += its
        if not ok:
            return False, math.inf, f"Newton did not converge (SNES reason {reason})"
        theta = m.theta.x.array
        local = (np.all(np.isfinite(theta)), theta.min(initial=np.inf), theta.max(initial=-np.inf))
        finite = self.comm.allreduce(bool(local[0]), op=MPI.LAND)
        t_min = self.comm.allreduce(local[1], op=MPI.MIN)
        t_max = self.comm.allreduce(local[2], op=MPI.MAX)
        if not finite or not math.isfinite(m.cell_voltage()):
            return False, math.inf, "NaN in the solution"
        if t_min <= 0.0 or t_max >= 1.0:
            return False, math.inf, f"stoichiometry left (0, 1): [{t_min:.6g}, {t_max:.6g}]"
        if len(guess_points) < 2:
            return True, 0.0, ""
        s = self.settings
        d_theta = np.abs(theta - predicted[theta_index][: theta.size]).max(initial=0.0)
        d_theta = self.comm.allreduce(d_theta, op=MPI.MAX)
        d_voltage = abs(m.cell_voltage() - float(predicted[m.unknowns.index(m.voltage)][0]))
        error = ERROR_FACTOR * max(d_theta / s.stoichiometry_tolerance, d_voltage / s.voltage_tolerance_V)
        return True, error, ""

    # -- events
    @staticmethod
    def _event_value(event: Event, voltage: float, current: float) -> float:
        """Signed distance to the event: it has happened when the value is <= 0."""
        if event.quantity == "voltage":
            return voltage - event.value if event.direction == "below" else event.value - voltage
        return abs(current) - event.value

    def _triggered(self, step: Step, point: _Point) -> Event | None:
        for event in step.events:
            if self._event_value(event, point.voltage, point.current) <= 0.0:
                return event
        return None

    def _locate(
        self, history: list[_Point], dt_prev: float | None, dt: float, event: Event, g_end: float
    ) -> tuple[float, _Point]:
        """Shorten the last step until the event is met within tolerance (Illinois method)."""
        start = history[-1]
        tolerance = self.settings.event_tolerance_V if event.quantity == "voltage" else 1e-4 * event.value
        a, g_a = 0.0, self._event_value(event, start.voltage, start.current)
        b, g_b = dt, g_end
        side = 0
        for _ in range(60):
            trial = b - g_b * (b - a) / (g_b - g_a) if g_b != g_a else 0.5 * (a + b)
            if not (a < trial < b):
                trial = 0.5 * (a + b)
            ok, _, _ = self._solve(history, trial, dt_prev)
            if not ok:  # shorter steps are easier: move the bracket's end towards the start
                b = trial
                continue
            point = self._capture(start.t + trial)
            g = self._event_value(event, point.voltage, point.current)
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
        raise SimulationError(f"step {self.step_index} ({event.quantity} event): could not locate the event")

    # -- the run
    def run(self) -> str:
        """Run every step; returns "complete". Raises SimulationError when a step cannot go on."""
        m = self.model
        m.set_initial_state()
        point = self._capture(0.0)
        self._emit(point, step_index=0)
        self.snapshot(0.0)
        for index, step in enumerate(self.steps):
            self.step_index = index
            point = self._run_step(step, point)
        return "complete"

    def _run_step(self, step: Step, start: _Point) -> _Point:
        m = self.model
        s = self.settings
        m.set_control(step.mode, step.value)
        end_time = start.t + step.duration_s if step.duration_s is not None else math.inf
        history = [start]
        dt_prev = None
        dt = s.initial_step_s
        self._last_dq = 0.0
        point = start
        field_times = [t for t in self.field_times if start.t < t]
        while True:
            limit = min(end_time, field_times[0]) if field_times else end_time
            dt = min(dt, s.max_step_s, limit - point.t)
            retries = 0
            rejected = False
            while True:
                ok, error, why = self._solve(history, dt, dt_prev)
                if ok and error <= 1.0:
                    break
                self.rejected_steps += 1
                rejected = True
                if not ok:
                    retries += 1
                    if retries > s.max_retries:
                        raise SimulationError(
                            f"step {self.step_index} ({step.text!r}) at t = {point.t:.6g} s: {why}; "
                            f"gave up after {s.max_retries} retries, last dt = {dt:.3g} s"
                        )
                    dt *= 0.25
                else:
                    dt *= max(0.2, 0.9 * error ** (-1.0 / 3.0))
            new = self._capture(point.t + dt)
            event = self._triggered(step, new)
            if event is not None:
                dt, new = self._locate(history, dt_prev, dt, event, self._event_value(event, new.voltage, new.current))
            self._accept(new, dt)
            history = ([*history, new])[-3:]
            dt_prev, point = dt, new
            at_field_time = field_times and abs(point.t - field_times[0]) <= 1e-9 * max(1.0, point.t)
            if at_field_time:
                self.snapshot(point.t)
                field_times.pop(0)
            if event is not None or point.t >= end_time - 1e-9 * max(1.0, end_time):
                if not at_field_time:
                    self.snapshot(point.t)
                return point
            growth = 1.0 if rejected else 2.0
            dt = dt * min(growth, max(0.2, 0.9 * max(error, 1e-10) ** (-1.0 / 3.0)))

    def _accept(self, point: _Point, dt: float) -> None:
        """Book-keep an accepted step: capacity with the BDF weights of the lithium balance."""
        a0, _, a2 = (c.value for c in self.model.bdf)
        dq = (dt * point.current + float(a2) * self._last_dq) / float(a0)
        self._last_dq = dq
        self.capacity_C_m2 += dq
        self.energy_J_m2 += dt * point.current * point.voltage
        self.t = point.t
        self.accepted_steps += 1
        self._emit(point, self.step_index)

    def _emit(self, point: _Point, step_index: int) -> None:
        m = self.model
        self.record(
            {
                "time_s": point.t,
                "step": step_index,
                "current_A_m2": point.current,
                "voltage_V": point.voltage,
                "capacity_mAh_cm2": self.capacity_C_m2 / 36000.0,
                "energy_mWh_cm2": self.energy_J_m2 / 36000.0,
                "surface_stoichiometry": m.surface_stoichiometry(),
                "lithium_mol_m2": m.lithium_content(),
                "temperature_K": float(m.temperature.value),
            }
        )


def lithium_charge_balance(rows: list[dict]) -> tuple[float, float]:
    """(charge passed, F x lithium inserted), both C/m2, between the first and last row."""
    charge = (rows[-1]["capacity_mAh_cm2"] - rows[0]["capacity_mAh_cm2"]) * 36000.0
    inserted = FARADAY * (rows[-1]["lithium_mol_m2"] - rows[0]["lithium_mol_m2"])
    return charge, inserted
