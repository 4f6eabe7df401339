"""Run a cell model through an experiment: adaptive implicit time stepping with events.

Time integration is variable-step BDF2 (backward Euler for the first step after every change
of control, when the solution's time derivative jumps). The local error of each step is
estimated from the distance between the solution and its polynomial extrapolation from the
previous steps (Milne's device), measured on the cell voltage and the stoichiometry, and the
next step is sized to keep it at the tolerance. A step that fails (Newton divergence, NaN, a
stoichiometry leaving (0, 1)) is retried with a quarter of the step, a bounded number of times;
then the run stops with a diagnosis (step, time, the residual block that did not converge).

Step ends: a duration is hit exactly; an event (voltage cut-off, current limit, charge passed)
is located by re-solving the last step with a shorter length (Illinois regula falsi) until it
is met within ``event_tolerance_V`` (or 1e-4 relative for a current or a charge).

The capacity is integrated with the same BDF formula as the lithium balance, so the charge
passed equals F times the lithium inserted to solver tolerance (verification case K).

All the stepper's state lives in one :class:`StepperState`, so that a run can be checkpointed
after any accepted step and resumed to give the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from mpi4py import MPI

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.constants import FARADAY
from ssbfem.errors import SimulationError
from ssbfem.experiment import Event, Experiment, Step
from ssbfem.impedance import frequencies, impedance
from ssbfem.model import CellModel
from ssbfem.solvers import converged, create_solver

#: Estimated local error = this factor times the distance from the predictor, a linear
#: extrapolation through the last two accepted points: a conservative estimate for BDF2, with
#: which the default tolerances keep a discharge within 1 mV (benchmarks/thin_film.py).
ERROR_FACTOR = 0.25


@dataclass
class StepperSettings:
    """Time-step control; the config's ``[solver]`` section."""

    voltage_tolerance_V: float = 2.0e-4
    stoichiometry_tolerance: float = 1.0e-4
    event_tolerance_V: float = 1.0e-4
    initial_step_s: float = 1.0e-3
    max_step_s: float = 600.0
    temperature_tolerance_K: float = 1.0e-2
    max_retries: int = 12
    petsc_options: dict | None = None
    linear_solver: str = "auto"

    @classmethod
    def from_config(cls, solver: dict) -> StepperSettings:
        keys = {k: v for k, v in solver.items() if k in cls.__dataclass_fields__}
        return cls(**keys)


@dataclass
class Point:
    """An accepted solution: time, copies of the unknowns' local arrays, voltage and current."""

    t: float
    arrays: list[np.ndarray]
    voltage: float
    current: float


@dataclass
class StepperState:
    """Everything the time loop carries from one accepted step to the next.

    ``history`` holds the last three points (the experiment step's start point among them until
    it drops out): the BDF2 and predictor history; ``steps`` the summaries of finished steps.
    """

    step_index: int = 0
    step_start_s: float = 0.0
    step_capacity_C_m2: float = 0.0
    step_energy_J_m2: float = 0.0
    capacity_C_m2: float = 0.0
    energy_J_m2: float = 0.0
    last_dq: float = 0.0
    dt: float = 0.0
    dt_prev: float | None = None
    fields_written: int = 0
    accepted_steps: int = 0
    rejected_steps: int = 0
    newton_iterations: int = 0
    heat_generated_J_m2: float = 0.0
    heat_removed_J_m2: float = 0.0
    last_heat: tuple[float, float] = (0.0, 0.0)
    history: list[Point] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)

    def scalars(self) -> dict:
        """The state without the arrays (JSON-ready)."""
        d = asdict(self)
        d["history"] = [{"t": p.t, "voltage": p.voltage, "current": p.current} for p in self.history]
        return d


class Interrupted(Exception):
    """The run was asked to stop (SIGINT, SIGTERM); the state is consistent and checkpointed."""


class Simulation:
    """Runs `model` through `experiment`, one accepted time step at a time.

    Args:
        model: The cell model.
        experiment: Parsed experiment.
        settings: Time-step control.
        record: Called with one row (dict of scalars) per accepted time step.
        field_times: Times (s) at which `snapshot(t)` is called (also every step's end).
        snapshot: Called with the time when fields are due.
        checkpoint: Called with the simulation when a checkpoint is due (and at a stop).
        checkpoint_every_steps, checkpoint_every_s: When checkpoints are due (0: never).
        stop_requested: Polled after every accepted step (on every rank; any rank may ask).
        spectrum: Called with (step index, frequencies in Hz, impedances in ohm m2) by EIS steps.
    """

    def __init__(
        self,
        model: CellModel,
        experiment: Experiment,
        settings: StepperSettings | None = None,
        record: Callable[[dict], None] | None = None,
        field_times: list[float] | None = None,
        snapshot: Callable[[float], None] | None = None,
        checkpoint: Callable[[Simulation], None] | None = None,
        checkpoint_every_steps: int = 0,
        checkpoint_every_s: float = 0.0,
        stop_requested: Callable[[], bool] | None = None,
        spectrum: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    ):
        self.model = model
        self.spectrum = spectrum or (lambda step, f, z: None)
        self.experiment = experiment
        self.settings = settings or StepperSettings()
        self.record = record or (lambda row: None)
        self.snapshot = snapshot or (lambda t: None)
        self.field_times = sorted(field_times or [])
        self.checkpoint = checkpoint
        self.checkpoint_every_steps = checkpoint_every_steps
        self.checkpoint_every_s = checkpoint_every_s
        self.stop_requested = stop_requested or (lambda: False)
        self.problem = create_solver(model, self.settings.petsc_options, self.settings.linear_solver)
        self.comm = model.cellmesh.mesh.comm
        self.state = StepperState()
        self._last_checkpoint = (0, time.monotonic())

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

    def close(self) -> None:
        """Free the solver's PETSc objects now, on every rank at once: left to the garbage
        collector, their collective destruction can happen at different times on different
        ranks and deadlock."""
        p = self.problem
        for obj in (p.solver, p.A, p.b, p.x, p.P_mat):
            if obj is not None:
                obj.destroy()

    # -- state handling
    def _capture(self, t: float) -> Point:
        m = self.model
        return Point(t, [u.x.array.copy() for u in m.unknowns], m.cell_voltage(), m.current_density())

    def _restore(self, arrays: list[np.ndarray]) -> None:
        for u, a in zip(self.model.unknowns, arrays, strict=True):
            u.x.array[:] = a

    @staticmethod
    def _predict(history: list[Point], t_new: float) -> list[np.ndarray]:
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

    @property
    def step(self) -> Step:
        return self.experiment.steps[self.state.step_index]

    # -- one implicit step
    def _solve(self, dt: float) -> tuple[bool, float, str]:
        """Solve from the last accepted point over dt. Returns (ok, error estimate, failure)."""
        m, st = self.model, self.state
        history, dt_prev = st.history, st.dt_prev
        if dt_prev is not None:
            omega = dt / dt_prev
            coefficients = ((1 + 2 * omega) / (1 + omega), -(1 + omega), omega**2 / (1 + omega))
        else:
            coefficients = (1.0, -1.0, 0.0)
        for const, a in zip(m.bdf, coefficients, strict=True):
            const.value = a
        m.inv_dt.value = 1.0 / dt
        last = history[-1]
        step = self.step
        if step.profile is not None:
            m.set_control(step.mode, step.setpoint(last.t + dt - st.step_start_s))
        if step.temperature_ramp is not None:
            m.temperature.value = self._ramp(step, last.t + dt)
        for u, u_n, u_nm1, _ in m.dynamic:
            index = m.unknowns.index(u)
            u_n.x.array[:] = last.arrays[index]
            if dt_prev is not None:
                u_nm1.x.array[:] = history[-2].arrays[index]
        # The step's start point carries the algebraic unknowns of the previous control: it
        # serves the BDF formula (theta is continuous) but not the predictor.
        guess_points = history[1:][-3:] if len(history) > 1 else history
        predicted = self._predict(guess_points, last.t + dt) if len(guess_points) > 1 else last.arrays
        self._restore(predicted)
        if m.T_lagged is not None:  # lagged coupling: the electrochemistry takes the predicted T
            m.T_lagged.x.array[:] = predicted[m.unknowns.index(m.temperature_rise)]
        self.problem.solve()
        ok, reason, its = converged(self.problem)
        st.newton_iterations += its
        if not ok:
            return False, math.inf, f"Newton did not converge (SNES reason {reason}); {self._worst_block()}"
        bad = [u.name for u in m.unknowns if not self._all(np.all(np.isfinite(u.x.array)))]
        if bad:
            return False, math.inf, f"NaN in {', '.join(bad)}"
        theta = m.theta.x.array
        t_min = self.comm.allreduce(theta.min(initial=np.inf), op=MPI.MIN)
        t_max = self.comm.allreduce(theta.max(initial=-np.inf), op=MPI.MAX)
        if t_min <= 0.0 or t_max >= 1.0:
            return False, math.inf, f"stoichiometry left (0, 1): [{t_min:.6g}, {t_max:.6g}]"
        if len(guess_points) < 2:
            return True, 0.0, ""
        s = self.settings
        tolerances = {
            "stoichiometry": s.stoichiometry_tolerance,
            "temperature": s.temperature_tolerance_K,
            "potential": s.voltage_tolerance_V,
        }
        d_voltage = abs(m.cell_voltage() - float(predicted[m.unknowns.index(m.voltage)][0]))
        error = d_voltage / s.voltage_tolerance_V
        for u, _, _, kind in m.dynamic:
            change = np.abs(u.x.array - predicted[m.unknowns.index(u)]).max(initial=0.0)
            error = max(error, self.comm.allreduce(change, op=MPI.MAX) / tolerances[kind])
        return True, ERROR_FACTOR * error, ""

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

    def _all(self, flag: bool) -> bool:
        return self.comm.allreduce(bool(flag), op=MPI.LAND)

    def _worst_block(self) -> str:
        """Name the unknown whose residual block is largest at the last Newton iterate."""
        norms = []
        for u, form in zip(self.model.unknowns, self.problem.F, strict=True):
            vec = dolfinx.fem.petsc.assemble_vector(form)
            vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            norms.append((vec.norm(), u.name))
            vec.destroy()
        norm, name = max(norms)
        return f"largest residual in the {name} equation ({norm:.3g})"

    # -- events
    def _dq(self, current: float, dt: float) -> float:
        """Charge passed over a step just solved (C/m2), with the BDF weights of that solve; none
        at rest, where the current is zero by control and what the solver leaves is round-off."""
        if self.step.mode == "rest":
            return 0.0
        a0, _, a2 = (float(c.value) for c in self.model.bdf)
        return (dt * current + a2 * self.state.last_dq) / a0

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
            ok, _, _ = self._solve(trial)
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
        if not resume:
            self.model.set_initial_state()
            st.history = [self._capture(0.0)]
            self._start_step(0)  # its control (a temperature ramp's start) holds from t = 0
            self._emit(st.history[0], self.model.heat())
            self.snapshot(0.0)
        else:
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
            if self._stop_requested():
                if self.checkpoint is not None:
                    self.checkpoint(self)
                raise Interrupted
            self._maybe_checkpoint()
        return "complete"

    def _stop_requested(self) -> bool:
        return self.comm.allreduce(bool(self.stop_requested()), op=MPI.LOR)

    def _maybe_checkpoint(self) -> None:
        if self.checkpoint is None:
            return
        steps, wall = self._last_checkpoint
        due_steps = self.checkpoint_every_steps and self.state.accepted_steps - steps >= self.checkpoint_every_steps
        due_time = self.checkpoint_every_s and time.monotonic() - wall >= self.checkpoint_every_s
        if self.comm.allreduce(bool(due_steps or due_time), op=MPI.LOR):
            self.checkpoint(self)
            self._last_checkpoint = (self.state.accepted_steps, time.monotonic())

    def _ramp(self, step: Step, t: float) -> float:
        start, end = step.temperature_ramp
        return start + (end - start) * min(max((t - self.state.step_start_s) / step.duration_s, 0.0), 1.0)

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
        st.dt, st.dt_prev, st.last_dq = self.settings.initial_step_s, None, 0.0
        st.step_capacity_C_m2 = st.step_energy_J_m2 = 0.0
        st.last_heat = (0.0, 0.0)
        self._apply_control()

    def _limit(self) -> float:
        """The next time the step must land on: its end, a field time or a profile breakpoint."""
        st, step = self.state, self.step
        t = st.history[-1].t
        limits = [st.step_start_s + step.duration_s if step.duration_s is not None else math.inf]
        limits += [ft for ft in self.field_times[st.fields_written :] if ft > t][:1]
        limits += [st.step_start_s + b for b in step.breakpoints() if st.step_start_s + b > t * (1 + 1e-12)][:1]
        return min(limits)

    def _advance(self) -> str:
        """Take one accepted time step. Returns why the experiment step ended ("" if it goes on)."""
        st, s, step = self.state, self.settings, self.step
        point = st.history[-1]
        limit = self._limit()
        dt = min(st.dt, s.max_step_s, limit - point.t)
        retries, rejected = 0, False
        while True:
            ok, error, why = self._solve(dt)
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
            else:
                dt *= max(0.2, 0.9 * error ** (-1.0 / 3.0))
        new = self._capture(point.t + dt)
        event = self._triggered(new, dt)
        if event is not None:
            dt, new = self._locate(dt, event, self._event_value(event, new, dt))
        self._accept(new, dt)
        growth = 1.0 if rejected else 2.0
        st.dt = dt * min(growth, max(0.2, 0.9 * max(error, 1e-10) ** (-1.0 / 3.0)))
        due = [ft for ft in self.field_times[st.fields_written :] if ft <= new.t * (1 + 1e-12) + 1e-12]
        if due:
            st.fields_written += len(due)
            self.snapshot(new.t)
        end = st.step_start_s + step.duration_s if step.duration_s is not None else math.inf
        if event is not None:
            reason = f"{event.quantity} limit"
        elif new.t >= end - 1e-9 * max(1.0, end):
            reason = "time"
        else:
            return ""
        if not due:
            self.snapshot(new.t)
        return reason

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
            x = m.cell["positive"]["initial_stoichiometry"] + spec.value * m.stoichiometry_per_charge()
        if not 0.0 < x < 1.0:
            raise SimulationError(f"step {st.step_index} ({self.step.text!r}): stoichiometry {x:.4g} is out of range")
        m.set_equilibrium(x)
        freqs = frequencies(spec.start_Hz, spec.end_Hz, spec.points_per_decade)
        self.spectrum(st.step_index, freqs, impedance(m, self.problem, freqs))
        relaxed = self._capture(point.t)
        st.history = [relaxed]
        self._emit(relaxed, m.heat())
        return "impedance"

    def _accept(self, point: Point, dt: float) -> None:
        """Book-keep an accepted step: capacity with the BDF weights of the lithium balance."""
        st = self.state
        dq = self._dq(point.current, dt)
        st.last_dq = dq
        st.capacity_C_m2 += dq
        st.step_capacity_C_m2 += dq
        energy = 0.0 if self.step.mode == "rest" else dt * point.current * point.voltage
        st.energy_J_m2 += energy
        st.step_energy_J_m2 += energy
        heat = self.model.heat()
        if heat:  # integrated like the capacity, so the energy balance closes exactly
            a0, _, a2 = (float(c.value) for c in self.model.bdf)
            generated = sum(v for k, v in heat.items() if k not in ("removed", "stored"))
            rates = (generated, heat.get("removed", 0.0))
            increments = tuple((dt * r + a2 * last) / a0 for r, last in zip(rates, st.last_heat, strict=True))
            st.last_heat = increments
            st.heat_generated_J_m2 += increments[0]
            st.heat_removed_J_m2 += increments[1]
        st.accepted_steps += 1
        st.history = [*st.history, point][-3:]  # BDF2 needs two; the predictor takes the last two
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
            }
        )

    def _emit(self, point: Point, heat: dict[str, float]) -> None:
        m, st = self.model, self.state
        means = m.interface_means()  # assembled once per row, shared with the breakdown
        breakdown = m.voltage_breakdown(means)
        heat_columns = {}
        if heat:  # integrated over the simulated domain (1 m2 of cross-section in 1D): W and J
            area = m.domain_area_m2
            heat_columns = {f"heat_{k}_W": v * area for k, v in heat.items() if k != "stored"}
            heat_columns.setdefault("heat_removed_W", 0.0)
            sources = [k for k in heat if k not in ("stored", "removed")]
            heat_columns.update({f"heat_{k}_W_m3": heat[k] / m.stack_thickness_m for k in sources})
            heat_columns.update(
                heat_stored_J=heat["stored"] * area,
                heat_generated_J=st.heat_generated_J_m2 * area,
                heat_removed_J=st.heat_removed_J_m2 * area,
            )
        row = {
            "time_s": point.t,
            "step": st.step_index,
            "cycle": self.experiment.cycles[min(st.step_index, len(self.experiment.cycles) - 1)],
            "current_A_m2": point.current,
            "voltage_V": point.voltage,
            "capacity_mAh_cm2": st.capacity_C_m2 / 36000.0,
            "energy_mWh_cm2": st.energy_J_m2 / 36000.0,
            "surface_stoichiometry": means["surface_stoichiometry"],
            "mean_stoichiometry": m.mean_stoichiometry(),
            "lithium_mol_m2": m.lithium_content(),
            **m.temperatures(),
            **breakdown,
            **heat_columns,
        }
        if m.capacitive:
            row["double_layer_charge_C_m2"] = m.double_layer_charge(means)
        self.record({k: v if isinstance(v, int) else float(v) for k, v in row.items()})


def lithium_charge_balance(rows: list[dict]) -> tuple[float, float]:
    """(charge passed, F x lithium inserted - change of the positive double layer's charge),
    both C/m2, between the first and last row (verification case K)."""
    charge = (rows[-1]["capacity_mAh_cm2"] - rows[0]["capacity_mAh_cm2"]) * 36000.0
    inserted = FARADAY * (rows[-1]["lithium_mol_m2"] - rows[0]["lithium_mol_m2"])
    if "double_layer_charge_C_m2" in rows[0]:
        inserted -= rows[-1]["double_layer_charge_C_m2"] - rows[0]["double_layer_charge_C_m2"]
    return charge, inserted
