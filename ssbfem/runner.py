"""From a resolved config to a finished run directory: mesh, model, experiment, outputs."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mpi4py import MPI

from ssbfem.config import to_toml
from ssbfem.constants import FARADAY
from ssbfem.errors import InputError, SimulationError
from ssbfem.experiment import Step, Units, parse_experiment
from ssbfem.geometry import tags
from ssbfem.geometry.io import CellMesh, load_mesh, mesh_from_model
from ssbfem.geometry.thin_film import Layer, build_thin_film
from ssbfem.materials.ocp import OCP_FUNCTIONS
from ssbfem.model import CellModel
from ssbfem.results import FieldWriter, TimeSeries, now, plot_voltage, versions, write_metadata
from ssbfem.simulation import Simulation, StepperSettings


def thin_film_layers(cfg: dict) -> list[Layer]:
    """The stack of a thin-film config, negative terminal first, graded towards the electrolyte."""
    cell, mesh = cfg["cell"], cfg["mesh"]
    layers = []
    if "negative_current_collector" in cell:
        layers.append(
            Layer(
                tags.NEGATIVE_CC, cell["negative_current_collector"]["thickness_um"], mesh["current_collector_elements"]
            )
        )
    if cell["negative"].get("thickness_um"):
        layers.append(
            Layer(tags.NEGATIVE, cell["negative"]["thickness_um"], mesh["negative_elements"], refine_end=True)
        )
    layers.append(
        Layer(tags.ELECTROLYTE, cell["electrolyte"]["thickness_um"], mesh["electrolyte_elements"], True, True)
    )
    layers.append(Layer(tags.POSITIVE, cell["positive"]["thickness_um"], mesh["positive_elements"], refine_start=True))
    if "positive_current_collector" in cell:
        layers.append(
            Layer(
                tags.POSITIVE_CC, cell["positive_current_collector"]["thickness_um"], mesh["current_collector_elements"]
            )
        )
    return layers


def build_mesh(cfg: dict, comm: MPI.Comm = MPI.COMM_WORLD) -> CellMesh:
    """The cell mesh of a config: its ``mesh.file``, or the thin-film builder."""
    mesh = cfg["mesh"]
    if mesh.get("file"):
        return load_mesh(mesh["file"], comm)
    layers = thin_film_layers(cfg)
    return mesh_from_model(
        comm,
        lambda: build_thin_film(
            layers, cfg["cell"]["dimension"], mesh["width_um"], mesh["in_plane_elements"], mesh["grading"]
        ),
    )


def one_c_current(cell: dict) -> float:
    """Current density of 1C, A/m2: the nominal capacity, or the positive electrode's capacity
    from its initial stoichiometry to 1, passed in one hour."""
    if cell.get("nominal_capacity_mAh_cm2"):
        return cell["nominal_capacity_mAh_cm2"] * 10.0
    pos = cell["positive"]
    capacity = (
        FARADAY * pos["max_concentration_mol_m3"] * pos["thickness_um"] * 1e-6 * (1 - pos["initial_stoichiometry"])
    )
    return capacity / 3600.0


def parse_steps(cfg: dict) -> list[Step]:
    """Parse the experiment and reject steps that would end before they start."""
    cell = cfg["cell"]
    steps = parse_experiment(cfg["experiment"]["steps"], Units(cell["area_cm2"] * 1e-4, one_c_current(cell)))
    pos = cell["positive"]
    ocv = float(OCP_FUNCTIONS[pos["ocp"]](pos["initial_stoichiometry"], np))
    first = steps[0]
    for event in first.events:
        if event.quantity != "voltage" or first.mode != "current":
            continue
        if first.value > 0 and event.value >= ocv:
            raise InputError(
                "experiment.steps[0]", f"cut-off {event.value} V is not below the open-circuit voltage {ocv:.4f} V"
            )
        if first.value < 0 and event.value <= ocv:
            raise InputError(
                "experiment.steps[0]", f"cut-off {event.value} V is not above the open-circuit voltage {ocv:.4f} V"
            )
    return steps


@dataclass
class RunResult:
    """What a run produced: the status, the time series and the simulation counters."""

    status: str
    series: TimeSeries
    simulation: Simulation
    output: Path | None


def prepare_output(output: Path, comm: MPI.Comm) -> None:
    """Create the output directory; refuse one that holds something other than an ssbfem run."""
    error = None
    if comm.rank == 0:
        if output.exists() and any(output.iterdir()) and not (output / "run.json").exists():
            error = f"{output} exists and is not an ssbfem run directory; choose another --output"
        else:
            if output.exists():
                shutil.rmtree(output)
            output.mkdir(parents=True)
    error = comm.bcast(error, root=0)
    if error:
        raise InputError("output", error)


def run(
    cfg: dict, output: Path | None = None, comm: MPI.Comm = MPI.COMM_WORLD, progress: bool = False, command: str = ""
) -> RunResult:
    """Run a resolved config; write its outputs to `output` (None: keep them in memory only).

    Everything that can be checked is checked before the output directory is made, so bad
    input leaves no directory behind.
    """
    steps = parse_steps(cfg)
    cellmesh = build_mesh(cfg, comm)
    wall0 = time.perf_counter()
    model = CellModel(cellmesh, cfg["cell"], degree=cfg["mesh"]["degree"])
    rank0 = comm.rank == 0
    meta = {"status": "running", "started": now(), "command": command, "ranks": comm.size, **versions()}
    if output is not None:
        output = Path(output)
        prepare_output(output, comm)
        if rank0:
            (output / "config.toml").write_text(to_toml(cfg))
            write_metadata(output / "run.json", meta)
    series = TimeSeries(output / "timeseries.csv" if output is not None else None, comm)
    fields = FieldWriter(model, output / "fields") if output is not None and cfg["output"]["fields"] else None
    record = series
    if progress and rank0:
        record = _with_progress(series, len(steps))
    sim = Simulation(
        model,
        steps,
        StepperSettings.from_config(cfg["solver"]),
        record=record,
        field_times=cfg["output"]["field_times_s"],
        snapshot=fields,
    )
    meta["num_dofs"] = sum(
        u.function_space.dofmap.index_map.size_global * u.function_space.dofmap.index_map_bs for u in model.unknowns
    )
    status, message = "complete", ""
    try:
        status = sim.run()
    except SimulationError as exc:
        status, message = "failed", str(exc)
    except KeyboardInterrupt:
        status, message = "incomplete", "interrupted"
    finally:
        sim.close()
        if progress and rank0:
            print(file=sys.stderr)
        series.close()
        if fields is not None:
            fields.close()
        if output is not None and rank0:
            if cfg["output"]["plot"] and len(series.rows) > 1:
                plot_voltage(
                    series,
                    output / "voltage.png",
                    title=f"{cfg['cell']['architecture']} cell, {cfg['cell']['dimension']}D",
                )
            last = series.rows[-1] if series.rows else {}
            meta.update(
                status=status,
                message=message,
                finished=now(),
                wall_time_s=time.perf_counter() - wall0,
                accepted_steps=sim.accepted_steps,
                rejected_steps=sim.rejected_steps,
                newton_iterations=sim.newton_iterations,
                final_time_s=last.get("time_s"),
                final_voltage_V=last.get("voltage_V"),
                final_capacity_mAh_cm2=last.get("capacity_mAh_cm2"),
            )
            write_metadata(output / "run.json", meta)
    if status == "failed":
        raise SimulationError(message)
    return RunResult(status, series, sim, output)


def _with_progress(series: TimeSeries, num_steps: int):
    """Wrap the recorder with a one-line progress display on the terminal."""

    def record(row: dict) -> None:
        series(row)
        sys.stderr.write(
            f"\rstep {row['step'] + 1}/{num_steps}  t = {row['time_s']:10.1f} s  "
            f"V = {row['voltage_V']:.4f} V  Q = {row['capacity_mAh_cm2']:.4f} mAh/cm2 "
        )
        sys.stderr.flush()

    return record
