"""1 and 2 MPI ranks agree to solver tolerance (make test runs this file under mpiexec -n 2)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import simulate, thin_film
from mpi4py import MPI

from ssbfem.config import resolve
from ssbfem.impedance import impedance
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh
from ssbfem.solvers import create_solver

pytestmark = pytest.mark.mpi


def runs_on_the_ranks_and_alone(raw: dict):
    """The run on every rank and on this rank alone; their voltages agree to 1e-6 V and their
    capacities to 1e-6 relative."""
    world = simulate(raw, MPI.COMM_WORLD)
    alone = simulate(raw, MPI.COMM_SELF)
    t = alone.series.column("time_s")
    v_world = np.interp(t, world.series.column("time_s"), world.series.column("voltage_V"))
    assert np.abs(v_world - alone.series.column("voltage_V")).max() <= 1e-6
    q = [r.series.rows[-1]["capacity_mAh_cm2"] for r in (world, alone)]
    assert q[0] == pytest.approx(q[1], rel=1e-6)
    return world, alone


@pytest.mark.parametrize("dimension,thermal", [(1, "isothermal"), (2, "isothermal"), (2, "full")])
def test_ranks_agree(dimension, thermal):
    raw = thin_film(
        cell={"dimension": dimension, "positive": {"density_kg_m3": 5050.0, "heat_capacity_J_kg_K": 750.0}},
        mesh={"in_plane_elements": 2},
        thermal={"model": thermal, "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}},
        experiment={"steps": ["Discharge at 2C until 3.6 V"]},
    )
    world, alone = runs_on_the_ranks_and_alone(raw)
    temperatures = [r.series.rows[-1]["temperature_max_K"] for r in (world, alone)]
    assert temperatures[0] == pytest.approx(temperatures[1], abs=1e-8)


def test_cli_run_under_mpi(tmp_path):
    """`ssbfem run` under mpiexec: one CSV written by rank 0, fields written in parallel."""
    import csv
    import json
    from pathlib import Path

    from conftest import DEMO_CONFIG

    from ssbfem.cli import main

    comm = MPI.COMM_WORLD
    out = Path(comm.bcast(str(tmp_path / "run"), root=0))
    code = main(
        [
            "run",
            str(DEMO_CONFIG),
            "-o",
            str(out),
            "--set",
            "experiment.steps=['Discharge at 2C until 3.7 V']",
            "--set",
            "cell.dimension=2",
            "--set",
            "mesh.in_plane_elements=2",
        ]
    )
    assert code == 0
    comm.barrier()
    if comm.rank == 0:
        meta = json.loads((out / "run.json").read_text())
        assert meta["status"] == "complete" and meta["ranks"] == comm.size
        rows = list(csv.DictReader((out / "timeseries.csv").open()))
        assert len(rows) == meta["accepted_steps"] + 1
        assert float(rows[-1]["voltage_V"]) == pytest.approx(3.7, abs=1e-3)
        assert (out / "fields" / "c.bp").is_dir()


def test_mechanics_run_under_mpi(tmp_path):
    """Cooling a 2D LLZO | LiCoO2 stack on a rigid substrate under mpiexec: the biaxial thermal
    stress of each layer (case D) in mechanics.csv, written once."""
    import csv
    from pathlib import Path

    from conftest import DEMO_CONFIG

    from ssbfem.cli import main

    comm = MPI.COMM_WORLD
    out = Path(comm.bcast(str(tmp_path / "mech"), root=0))
    overrides = [
        "cell.dimension=2",
        "mesh.in_plane_elements=4",
        "cell.electrolyte.material='LLZO'",
        "cell.electrolyte.thickness_um=5.0",
        "cell.electrolyte.conductivity_S_m=1e-2",
        "mechanics.enabled=true",
        "mechanics.stress_free_temperature_K=1023.15",
        "mechanics.boundaries={negative_terminal='clamped', lateral='roller_y'}",
        "experiment.steps=['Cool from 1023.15 K to 298.15 K over 10 minutes']",
    ]
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), *[a for o in overrides for a in ("--set", o)]]) == 0
    comm.barrier()
    if comm.rank == 0:
        last = list(csv.DictReader((out / "mechanics.csv").open()))[-1]
        llzo = 150e9 * 1.55e-5 * 725.0 / (1 - 0.26)
        assert float(last["von_mises_max_Pa[electrolyte]"]) == pytest.approx(llzo, rel=1e-6)
        assert float(last["hydrostatic_mean_Pa[electrolyte]"]) == pytest.approx(2 * llzo / 3, rel=1e-6)


def test_impedance_ranks_agree():
    """The real block system of the impedance keeps each rank's rows together: same Z on 1 and 2 ranks."""
    raw = thin_film(
        cell={"dimension": 2, "negative": {"double_layer_F_m2": 1e-3}, "positive": {"double_layer_F_m2": 1e-2}},
        mesh={"in_plane_elements": 2},
    )
    f = np.array([1e5, 1e2, 1e-2])
    z = []
    for comm in (MPI.COMM_WORLD, MPI.COMM_SELF):
        cfg = resolve(raw)
        model = CellModel(build_mesh(cfg, comm), cfg["cell"], cfg["mesh"]["degree"])
        model.set_initial_state()
        problem = create_solver(model)
        z.append(impedance(model, problem, f))
    assert np.abs(z[0] - z[1]).max() <= 1e-8 * np.abs(z[1]).max()


def _lumped_run(tmp_path, comm, name: str):
    """A lumped-thermal 2C discharge on `comm`, checkpointed every 40 steps into tmp_path/name;
    returns (its directory, its time series' rows)."""
    from pathlib import Path

    from ssbfem.runner import run

    raw = thin_film(
        cell={"positive": {"density_kg_m3": 5050.0, "heat_capacity_J_kg_K": 750.0}},
        thermal={"model": "lumped", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 1.0}}},
        experiment={"steps": ["Discharge at 2C until 3.6 V"]},
        output={"checkpoint_every_steps": 40, "checkpoint_every_s": 0.0},
    )
    out = Path(comm.bcast(str(tmp_path / name), root=0))
    return out, run(resolve(raw), out, comm).series.rows


def _resumed_differs(out, comm, reference: list[dict]) -> str:
    """Resume the run in `out` on `comm`; "" if its time series equals `reference`, else why not."""
    import json

    from ssbfem.runner import restart_run

    with np.load(out / "checkpoint.npz") as f:
        checkpoint_rows = json.loads(str(f["meta"]))["extra"]["rows"]
    if not 0 < checkpoint_rows < len(reference) - 5:
        return f"the checkpoint is not from mid-run ({checkpoint_rows} of {len(reference)} rows)"
    if reference[-1]["temperature_mean_K"] - 298.15 < 0.05:
        return "the lumped temperature hardly moved"
    resumed = restart_run(out, comm).series
    if len(resumed.rows) != len(reference):
        return f"{len(resumed.rows)} rows resumed, {len(reference)} uninterrupted"
    for name in ("time_s", "voltage_V", "temperature_mean_K", "heat_stored_J", "heat_removed_J"):
        if not np.allclose(resumed.column(name), [r[name] for r in reference], rtol=1e-8, atol=1e-9):
            return f"{name} differs"
    return ""


def test_lumped_thermal_restart_across_rank_counts(tmp_path):
    """A lumped-thermal run checkpointed on all ranks resumes on one, and one checkpointed on one
    rank resumes on all: the lumped temperature and the voltage (Real-space unknowns, stored as
    scalars) come back, and the time series equals the uninterrupted run's to 1e-8."""
    world = MPI.COMM_WORLD
    out, reference = _lumped_run(tmp_path, world, "world")
    failure = None
    if world.rank == 0:  # a failure is passed on, so that no rank waits for one that has failed
        try:
            failure = _resumed_differs(out, MPI.COMM_SELF, reference)
        except Exception as exc:  # reported on every rank below
            failure = f"{type(exc).__name__}: {exc}"
    assert not world.bcast(failure, root=0), "resumed on 1 rank"

    if world.rank == 0:
        try:
            out, reference = _lumped_run(tmp_path, MPI.COMM_SELF, "self")
        except Exception as exc:
            out, reference = None, f"{type(exc).__name__}: {exc}"
    out, reference = world.bcast((out, reference), root=0)
    assert out is not None, reference
    assert not _resumed_differs(out, world, reference), f"resumed on {world.size} ranks"


@pytest.mark.parametrize("dimension", [1, 2])
def test_homogenised_ranks_agree(dimension):
    """The homogenised model (a vector particle field per macro node) on the ranks as alone."""
    raw = thin_film(
        model="homogenised",
        homogenised={"volume_fraction_active": 0.6, "particle_radius_um": 2.0, "dimension": dimension},
        mesh={"positive_elements": 8, "in_plane_elements": 2},
        experiment={"steps": ["Discharge at 2C until 3.6 V"]},
    )
    runs_on_the_ranks_and_alone(raw)
