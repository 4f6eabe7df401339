"""Observers of a simulation: everything a run writes or shows, apart from the time stepping.

The :class:`~ssbfem.simulation.Simulation` tells each observer what happens, in order:
``on_start`` (before the first step, or after a restart), ``on_row`` (every accepted time step:
one row of scalars), ``on_step_end`` (an experiment step finished: its summary), ``on_snapshot``
(when fields are due), ``on_spectrum`` (an EIS step's impedance), ``on_checkpoint`` (a
checkpoint is due), ``on_stop`` (the run ended: "complete", "incomplete" or "failed"). An
observer that must survive a restart returns its state from ``state()`` (a JSON-ready dict,
stored in the checkpoint) and takes it back in ``load_state``.

Research code attaches its own: ``run(cfg, output, observers=[MyObserver()])``.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ssbfem.checkpoint import gather_points, read_npz, save_checkpoint, scatter_points, write_npz
from ssbfem.integrator import Point
from ssbfem.results import FieldWriter, Profiles, TimeSeries, write_table

if TYPE_CHECKING:
    from ssbfem.experiment import Experiment
    from ssbfem.mechanics import CellMechanics
    from ssbfem.simulation import Simulation


class Observer:
    """Base class: every hook does nothing unless an observer needs it."""

    def on_start(self, sim: Simulation) -> None:
        """The run starts (or resumes)."""

    def on_row(self, sim: Simulation, row: dict) -> None:
        """An accepted time step's row of scalars (the time series)."""

    def on_step_end(self, sim: Simulation, summary: dict) -> None:
        """An experiment step finished: its summary (a row of ``steps.csv``)."""

    def on_snapshot(self, sim: Simulation, t: float) -> None:
        """Fields are due at time t (s); the model holds them."""

    def on_spectrum(self, sim: Simulation, step: int, frequencies: np.ndarray, z: np.ndarray) -> None:
        """An EIS step's impedance (ohm m2, Z = -dV/dI) at its frequencies (Hz)."""

    def on_checkpoint(self, sim: Simulation) -> None:
        """A checkpoint is due (every rank is here)."""

    def on_stop(self, sim: Simulation, status: str) -> None:
        """The run ended: "complete", "incomplete" or "failed"."""

    def state(self) -> dict:
        """What a restart needs (JSON-ready)."""
        return {}

    def load_state(self, state: dict) -> None:
        """Take back :meth:`state` on a restart."""


class TimeSeriesRecorder(Observer):
    """The time series: rows in memory and ``timeseries.csv``, flushed row by row."""

    def __init__(self, series: TimeSeries, comm):
        self.series, self.comm = series, comm

    def on_row(self, sim: Simulation, row: dict) -> None:
        self.series(row)

    def on_stop(self, sim: Simulation, status: str) -> None:
        self.series.close()

    def state(self) -> dict:
        return {"rows": len(self.series.rows)}

    def load_state(self, state: dict) -> None:
        self.series.resume(state["rows"], self.comm)


class ProfileRecorder(Observer):
    """Stoichiometry profiles across the positive electrode at every snapshot (1D plots)."""

    def __init__(self, profiles: Profiles):
        self.profiles = profiles

    def on_snapshot(self, sim: Simulation, t: float) -> None:
        self.profiles(t)

    def state(self) -> dict:
        return {"profiles": self.profiles.to_json()}

    def load_state(self, state: dict) -> None:
        self.profiles.from_json(state["profiles"])


class FieldRecorder(Observer):
    """VTX fields (``fields/``) at every snapshot; a resumed run continues the same files.

    VTX (ADIOS2 BP) files cannot be appended to, so the recorder keeps every snapshot's unknowns:
    at each checkpoint the snapshots since the last one go to `store` (a folder, one ``.npz``
    per snapshot, partition-independent like the checkpoint; each written once; removed when the
    run completes). A restart
    replays the snapshots up to its checkpoint into fresh files and the run goes on writing into
    them: one series per field, whatever the number of restarts.
    """

    def __init__(self, writer: FieldWriter, store: Path | None = None):
        self.writer, self.store = writer, store
        self.count = 0  # snapshots written so far
        self.pending: list[tuple[Point, float | None]] = []  # not yet in the store, with an isothermal T

    def on_snapshot(self, sim: Simulation, t: float) -> None:
        self.writer(t)
        self.count += 1
        if self.store is not None:
            self.pending.append((sim.integrator.capture(t), _constant_temperature(sim.model)))

    def on_checkpoint(self, sim: Simulation) -> None:
        if self.store is None:
            return
        first = self.count - len(self.pending)
        for k, (point, temperature) in enumerate(self.pending):
            data = gather_points(sim.comm, sim.model, [point], name="snapshot")
            if sim.comm.rank == 0:
                self.store.mkdir(parents=True, exist_ok=True)
                meta = {"t": point.t, "temperature": temperature}
                write_npz(self.store / f"{first + k:05d}.npz", {**data, "meta": np.array(json.dumps(meta))})
        self.pending = []
        sim.comm.barrier()

    def on_stop(self, sim: Simulation, status: str) -> None:
        if status == "failed":  # the checkpoint of a failed run is written now too
            self.on_checkpoint(sim)
        elif status == "complete" and self.store is not None and sim.comm.rank == 0:
            shutil.rmtree(self.store, ignore_errors=True)  # only a restart needs it
        self.writer.close()

    def state(self) -> dict:
        return {"field_snapshots": self.count}

    def load_state(self, state: dict) -> None:
        count = state.get("field_snapshots", 0)
        if not count:
            return
        if self.store is None or not (self.store / f"{count - 1:05d}.npz").is_file():
            k = 1  # a run from before the store: its fields go on in a second series
            while (self.writer.directory / f"c_restart{k}.bp").exists():
                k += 1
            self.writer.suffix = f"_restart{k}"
            self.count = count
            return
        self._replay(count)

    def _replay(self, count: int) -> None:
        """Write the stored snapshots into fresh files, then put the model back as it was."""
        model, mechanics = self.writer.model, self.writer.mechanics
        comm = model.cellmesh.mesh.comm
        now = [u.x.array.copy() for u in model.unknowns]
        temperature = _constant_temperature(model)
        for index in range(count):
            data = read_npz(self.store / f"{index:05d}.npz", comm)
            meta = json.loads(str(data["meta"]))
            (values,) = scatter_points(data, model, [{"voltage": 0.0}], name="snapshot")
            self._set(model, values, meta["temperature"])
            if mechanics is not None:
                mechanics.solve()
            self.writer(meta["t"])
        self.count = count
        self._set(model, now, temperature)
        if mechanics is not None:  # its fields and any feedback of the current state
            mechanics.solve()

    @staticmethod
    def _set(model, arrays: list[np.ndarray], temperature: float | None) -> None:
        for u, a in zip(model.unknowns, arrays, strict=True):
            u.x.array[:] = a
            u.x.scatter_forward()
        if temperature is not None:
            model.temperature.value = temperature


def _constant_temperature(model) -> float | None:
    """An isothermal cell's temperature (a Constant, K); None when it is a field."""
    value = getattr(model.temperature, "value", None)
    return None if value is None else float(value)


class StressRecorder(Observer):
    """Stresses (``mechanics.csv``): solved at every snapshot, or after every accepted step when
    the stress feeds back on the Li interface (its shift of the equilibrium potential then holds
    over the next step)."""

    def __init__(self, mechanics: CellMechanics, series: TimeSeries, feedback: bool, comm):
        self.mechanics, self.series, self.feedback, self.comm = mechanics, series, feedback, comm

    def _solve(self, t: float) -> None:
        self.series({"time_s": t, **self.mechanics.solve()})

    def on_row(self, sim: Simulation, row: dict) -> None:
        if self.feedback:
            self._solve(row["time_s"])

    def on_snapshot(self, sim: Simulation, t: float) -> None:
        if not self.feedback:
            self._solve(t)

    def on_stop(self, sim: Simulation, status: str) -> None:
        self.series.close()
        self.mechanics.close()

    def state(self) -> dict:
        return {"mechanics_rows": len(self.series.rows)}

    def load_state(self, state: dict) -> None:
        self.series.resume(state["mechanics_rows"], self.comm)
        if self.feedback:  # the shift of the last accepted state, which the next step sees
            self.mechanics.solve()


class SpectrumRecorder(Observer):
    """Impedance spectra: rows of ``impedance.csv`` in ohm cm2, written as each arrives."""

    def __init__(self, path: Path | None, rows: list[dict], comm):
        self.path, self.rows, self.comm = path, rows, comm

    def on_spectrum(self, sim: Simulation, step: int, frequencies: np.ndarray, z: np.ndarray) -> None:
        self.rows.extend(
            {"step": step, "frequency_Hz": f, "z_real_ohm_cm2": 1e4 * zk.real, "z_imag_ohm_cm2": 1e4 * zk.imag}
            for f, zk in zip(frequencies, z, strict=True)
        )
        if self.path is not None and self.comm.rank == 0:
            write_table(self.path, self.rows)


class StepLog(Observer):
    """``run.log``: a line per finished experiment step, with the solver's work in it (time
    steps, rejected steps, Newton and linear iterations) and its wall time."""

    def __init__(self, log: logging.Logger):
        self.log = log
        self.wall = time.monotonic()

    def on_start(self, sim: Simulation) -> None:
        self.wall = time.monotonic()

    def on_step_end(self, sim: Simulation, summary: dict) -> None:
        wall, self.wall = time.monotonic() - self.wall, time.monotonic()
        self.log.info(
            "step %d %r: %s at t = %.6g s, %.4f V; %d time steps, %d rejected, %d Newton iterations, "
            "%d linear iterations; %.2f s",
            summary["step"],
            summary["text"],
            summary["end_reason"] or "ended",
            summary["end_s"],
            summary["end_voltage_V"],
            summary["time_steps"],
            summary["rejected_steps"],
            summary["newton_iterations"],
            summary["linear_iterations"],
            wall,
        )


class CheckpointWriter(Observer):
    """``checkpoint.npz`` when one is due, when the run is stopped and when it fails."""

    def __init__(self, path: Path, log: logging.Logger):
        self.path, self.log = path, log

    def on_checkpoint(self, sim: Simulation) -> None:
        save_checkpoint(self.path, sim, sim.observer_state())
        self.log.info("checkpoint at t = %.6g s", sim.state.history[-1].t)

    def on_stop(self, sim: Simulation, status: str) -> None:
        if status == "failed":
            self.on_checkpoint(sim)


class Progress(Observer):
    """One line on the terminal (rank 0): step, time, voltage, capacity, elapsed time and an
    estimate of the time left.

    The estimate extrapolates the current step from how far it has come (in time, or in voltage
    towards its limit) and the remaining steps from the mean wall time of the finished ones.
    """

    def __init__(self, experiment: Experiment, stream=None):
        self.experiment = experiment
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.current = {"step": -1, "wall": self.start, "v0": 0.0, "t0": 0.0}
        self.finished_wall: list[float] = []

    def _fraction(self, row: dict) -> float:
        steps, current = self.experiment.steps, self.current
        step = steps[min(row["step"], len(steps) - 1)]
        done = []
        if step.duration_s:
            done.append((row["time_s"] - current["t0"]) / step.duration_s)
        for event in step.events:
            if event.quantity == "voltage" and event.value != current["v0"]:
                done.append((row["voltage_V"] - current["v0"]) / (event.value - current["v0"]))
        return min(max(max(done, default=0.0), 0.0), 1.0)

    def on_row(self, sim: Simulation, row: dict) -> None:
        n, now = len(self.experiment.steps), time.monotonic()
        if row["step"] != self.current["step"]:
            if self.current["step"] >= 0:
                self.finished_wall.append(now - self.current["wall"])
            self.current.update(step=row["step"], wall=now, v0=row["voltage_V"], t0=row["time_s"])
        f = self._fraction(row)
        in_step = now - self.current["wall"]
        remaining = in_step * (1 - f) / f if f > 0.01 else float("nan")
        per_step = sum(self.finished_wall) / len(self.finished_wall) if self.finished_wall else in_step / max(f, 0.01)
        eta = remaining + per_step * (n - 1 - min(row["step"], n - 1))
        eta_text = f"{eta:7.0f} s" if eta == eta else "      ? s"
        self.stream.write(
            f"\rstep {min(row['step'] + 1, n)}/{n} (cycle {row['cycle'] + 1})  t = {row['time_s']:10.1f} s  "
            f"V = {row['voltage_V']:.4f} V  Q = {row['capacity_mAh_cm2']:.4f} mAh/cm2  "
            f"elapsed {now - self.start:6.1f} s  ETA {eta_text} "
        )
        self.stream.flush()

    def on_stop(self, sim: Simulation, status: str) -> None:
        print(file=self.stream)
