"""Runs that survive faults: SIGTERM, restart, forced failures (run as separate processes)."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_CONFIG, REPO

CYCLING = (
    "experiment.steps=['Discharge at 2C until 3.7 V', "
    "{cycle = ['Charge at 2C until 4.1 V', 'Hold at 4.1 V until C/5', 'Discharge at 2C until 3.7 V'], repeat = 3}]"
)
QUIET = ["--set", "output.fields=false", "--set", "output.plot=false"]


# `ssbfem` whose run sends itself SIGTERM right after its STOP_AFTER-th accepted time step: the
# signal arrives at a known step, where a signal from outside would race the run.
SIGTERM_AFTER_STEPS = """
import os, signal, sys
from ssbfem import simulation
from ssbfem.cli import main

stop_after = int(sys.argv.pop(1))
accept = simulation.Simulation._accept

def _accept(self, point, dt):
    accept(self, point, dt)
    if self.state.accepted_steps == stop_after:
        os.kill(os.getpid(), signal.SIGTERM)

simulation.Simulation._accept = _accept
sys.exit(main())
"""


def ssbfem(*args: str, sigterm_after_steps: int | None = None, **kwargs) -> subprocess.Popen:
    """The ssbfem command line in a new process (sent SIGTERM after a number of accepted steps)."""
    if sigterm_after_steps is None:
        command = ["-m", "ssbfem.cli"]
    else:
        command = ["-c", SIGTERM_AFTER_STEPS, str(sigterm_after_steps)]
    return subprocess.Popen(
        [sys.executable, *command, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def read_series(path) -> dict[str, np.ndarray]:
    rows = list(csv.DictReader(path.open()))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


@pytest.mark.parametrize("max_order", [2, 4])
def test_sigterm_then_restart_reproduces_the_uninterrupted_run(tmp_path, max_order):
    """Also at order 4, whose checkpoint holds five points, the order and the charge increments.
    The LU's scaling is the matrix's at hand (``mat_mumps_icntl_8``): with MUMPS's default, taken
    from the first factorisation's matrix, the resumed run departed by an ulp."""
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    order = ["--set", f"solver.max_order={max_order}"]
    proc = ssbfem("run", str(DEMO_CONFIG), "-o", str(reference), "--set", CYCLING, *QUIET, *order)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()

    # Interrupted mid-cycle, between two periodic checkpoints: the stop writes its own.
    stop_after = 160
    reference_steps = json.loads((reference / "run.json").read_text())["accepted_steps"]
    assert stop_after < reference_steps
    proc = ssbfem(
        "run",
        str(DEMO_CONFIG),
        "-o",
        str(interrupted),
        "--set",
        CYCLING,
        *QUIET,
        *order,
        "--set",
        "output.checkpoint_every_steps=25",
        sigterm_after_steps=stop_after,
    )
    csv_path = interrupted / "timeseries.csv"
    code = proc.wait(timeout=600)
    stderr = proc.stderr.read()
    assert code == 1, stderr
    assert "stopped by SIGTERM" in stderr and "resume with: ssbfem run --restart" in stderr
    assert "Traceback" not in stderr
    meta = json.loads((interrupted / "run.json").read_text())
    assert meta["status"] == "incomplete"
    assert meta["accepted_steps"] == stop_after  # stopped right after the step the signal came in
    partial = read_series(csv_path)
    assert len(partial["time_s"]) == stop_after + 1  # readable, up to the last accepted step
    assert (interrupted / "checkpoint.npz").is_file()

    proc = ssbfem("run", "--restart", str(interrupted))
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    assert json.loads((interrupted / "run.json").read_text())["status"] == "complete"
    a, b = read_series(reference / "timeseries.csv"), read_series(csv_path)
    assert len(a["time_s"]) == len(b["time_s"])
    for name in ("time_s", "voltage_V", "current_A_m2", "capacity_mAh_cm2", "loss_diffusion_positive_V"):
        assert np.allclose(b[name], a[name], rtol=1e-10, atol=1e-13), name
    steps_a = list(csv.DictReader((reference / "steps.csv").open()))
    steps_b = list(csv.DictReader((interrupted / "steps.csv").open()))
    assert [float(s["end_s"]) for s in steps_b] == pytest.approx([float(s["end_s"]) for s in steps_a], rel=1e-10)


def test_forced_newton_failure_exits_1_with_a_diagnosis(tmp_path):
    out = tmp_path / "absurd"
    proc = ssbfem(
        "run", str(DEMO_CONFIG), "-o", str(out), "--set", "experiment.steps=['Discharge at 1e5 A/m2 for 10 s']", *QUIET
    )
    code = proc.wait(timeout=300)
    stderr = proc.stderr.read().strip()
    assert code == 1
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1
    assert "step 0" in stderr and "gave up after" in stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "failed" and "gave up" in meta["message"]
    assert read_series(out / "timeseries.csv")["time_s"][0] == 0.0  # what was computed is kept


def test_restart_refuses_a_directory_without_checkpoint(tmp_path):
    proc = ssbfem("run", "--restart", str(tmp_path))
    assert proc.wait(timeout=120) == 2
    assert "holds no checkpoint" in proc.stderr.read()


def test_restart_on_two_ranks_from_a_serial_checkpoint(tmp_path):
    """A checkpoint is independent of the partition: a serial run resumed under mpiexec -n 2."""
    from pathlib import Path

    out = tmp_path / "run"
    proc = ssbfem("run", str(DEMO_CONFIG), "-o", str(out), *QUIET, "--set", "output.checkpoint_every_steps=60")
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    serial = read_series(out / "timeseries.csv")
    mpiexec = Path(sys.executable).parent / "mpiexec"
    proc = subprocess.run(
        [str(mpiexec), "-n", "2", sys.executable, "-m", "ssbfem.cli", "run", "--restart", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "complete" and meta["ranks"] == 2
    resumed = read_series(out / "timeseries.csv")
    assert len(resumed["time_s"]) == len(serial["time_s"])
    assert np.allclose(resumed["voltage_V"], serial["voltage_V"], rtol=1e-8, atol=1e-9)
    assert resumed["capacity_mAh_cm2"][-1] == pytest.approx(serial["capacity_mAh_cm2"][-1], rel=1e-8)


# The steps' times and the last snapshot of a VTX file, read with the adios2 package in a process
# of its own (DOLFINx carries its own ADIOS2 library).
READ_BP = """
import json, sys
import adios2
times, last = [], None
with adios2.Stream(sys.argv[1], "r") as f:
    for _ in f.steps():
        times.append(float(f.read("step")))
        last = f.read(sys.argv[2]).tolist()
print(json.dumps({"times": times, "last": last}))
"""


def read_bp(path, variable: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", READ_BP, str(path), variable], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("ranks", [1, 2])
def test_restart_continues_the_field_files(tmp_path, ranks):
    """Stopped mid-discharge and resumed (serially, or on two ranks: the stored snapshots are
    independent of the partition), the run's VTX files hold every snapshot time in one series,
    the same as the uninterrupted run's, with the same last field (compared serially: on two
    ranks the file holds one block per rank)."""
    pytest.importorskip("adios2")
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    fields = ["--set", "experiment.steps=['Discharge at 1C until 3.2 V']", "--set", "output.plot=false"]
    fields += ["--set", f"output.field_times_s={[100.0 * k for k in range(1, 18)]}"]
    proc = ssbfem("run", str(DEMO_CONFIG), "-o", str(reference), *fields)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    proc = ssbfem("run", str(DEMO_CONFIG), "-o", str(interrupted), *fields, sigterm_after_steps=60)
    assert proc.wait(timeout=600) == 1, proc.stderr.read()
    stopped = read_bp(interrupted / "fields" / "c.bp", "c")["times"]
    launcher = [str(Path(sys.executable).parent / "mpiexec"), "-n", "2"] if ranks == 2 else []
    command = [*launcher, sys.executable, "-m", "ssbfem.cli", "run", "--restart", str(interrupted)]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr

    assert not list((interrupted / "fields").glob("*_restart*"))
    assert not (interrupted / "fields" / "snapshots").exists()  # a complete run needs no replay
    for name, variable in (("c", "c"), ("phi_e", "phi_e")):
        a, b = (
            read_bp(reference / "fields" / f"{name}.bp", variable),
            read_bp(interrupted / "fields" / f"{name}.bp", variable),
        )
        assert len(b["times"]) == len(a["times"]) > len(stopped) > 1
        assert b["times"] == pytest.approx(a["times"], rel=1e-12)
        if ranks == 1:
            assert np.allclose(b["last"], a["last"], rtol=1e-8, atol=1e-12)


def test_restart_after_a_temperature_ramp_keeps_its_temperature(tmp_path):
    """demos/configs/thin_film_mechanics.toml stopped in the discharge that follows its warming
    ramp: resumed at the ramp's end temperature (not the cell's initial one), it reproduces the
    uninterrupted run's voltage and stresses, and its stress fields stay one series."""
    config = REPO / "demos" / "configs" / "thin_film_mechanics.toml"
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    quiet = ["--set", "output.plot=false", "--set", "output.fields=true"]
    proc = ssbfem("run", str(config), "-o", str(reference), *quiet)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    proc = ssbfem("run", str(config), "-o", str(interrupted), *quiet, sigterm_after_steps=40)
    assert proc.wait(timeout=600) == 1, proc.stderr.read()
    assert read_series(interrupted / "timeseries.csv")["step"][-1] == 1  # stopped after the ramp
    proc = ssbfem("run", "--restart", str(interrupted))
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    a, b = read_series(reference / "timeseries.csv"), read_series(interrupted / "timeseries.csv")
    assert np.allclose(b["voltage_V"], a["voltage_V"], rtol=1e-10)
    sa, sb = read_series(reference / "mechanics.csv"), read_series(interrupted / "mechanics.csv")
    assert np.allclose(sb["hydrostatic_mean_Pa[positive]"], sa["hydrostatic_mean_Pa[positive]"], rtol=1e-8)
    if importlib.util.find_spec("adios2") is not None:
        times = read_bp(interrupted / "fields" / "stress.bp", "hydrostatic_Pa")["times"]
        assert times == pytest.approx(list(sa["time_s"]), rel=1e-12)
