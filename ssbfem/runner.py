"""From settings to a run directory: mesh, model, experiment, outputs, checkpoints.

A run directory holds ``config.toml`` (the resolved config), ``run.json`` (status and metadata),
``timeseries.csv`` (flushed row by row), ``steps.csv`` and ``cycles.csv``, plots, ``fields/``,
``run.log`` and ``checkpoint.npz``. SIGINT and SIGTERM stop a run cleanly after the current
time step: everything so far is written, with a checkpoint, and ``run.json`` says
``"incomplete"``; ``ssbfem run --restart DIR`` resumes it in place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from mpi4py import MPI

from ssbfem.checkpoint import load_checkpoint
from ssbfem.effective import effective_parameters
from ssbfem.settings import Settings, read_toml, to_toml, validate
from ssbfem.settings.cell import Cell, Composite
from ssbfem.constants import FARADAY
from ssbfem.errors import InputError, SimulationError
from ssbfem.experiment import Experiment, Units, parse_experiment
from ssbfem.geometry import tags
from ssbfem.geometry.composite import ContactLoss, build_composite
from ssbfem.geometry.contact import build_contact_cell
from ssbfem.geometry.interdigitated import build_interdigitated, design_from_config
from ssbfem.geometry.io import CellMesh, load_mesh, mesh_from_model
from ssbfem.geometry.packing import Packing, pack_spheres, place_voids
from ssbfem.geometry.thin_film import Layer, build_thin_film
from ssbfem.materials.ocp import OCP_FUNCTIONS
from ssbfem.mechanics import CellMechanics
from ssbfem.microstructure import geometry_summary
from ssbfem.blocks import Block
from ssbfem.homogenised import HomogenisedModel, homogenised_parameters, homogenised_blocks, macro_dimension
from ssbfem.model import CellModel, cell_blocks
from ssbfem.model_interface import Model
from ssbfem.observables import Observable
from ssbfem.observers import (
    CheckpointWriter,
    FieldRecorder,
    StepLog,
    Observer,
    ProfileRecorder,
    Progress,
    SpectrumRecorder,
    StressRecorder,
    TimeSeriesRecorder,
)
from ssbfem.renderings import Renderer, renders
from ssbfem.results import (
    FieldWriter,
    Profiles,
    TimeSeries,
    cycle_summaries,
    now,
    plot_cycles,
    plot_heat,
    plot_impedance,
    plot_losses,
    plot_profiles,
    plot_voltage,
    read_table,
    versions,
    write_metadata,
    write_table,
)
from ssbfem.simulation import Interrupted, Simulation, StepperSettings
from ssbfem.solvers import number_of_dofs


def thin_film_layers(settings: Settings) -> list[Layer]:
    """The stack of a thin-film config, negative terminal first, graded towards the electrolyte.

    With ``cell.units = N > 1`` the unit cell is repeated N times, every other one mirrored, so
    that neighbours share a current collector: CC- | Li SE PE | CC+ | PE SE Li | CC- | ...
    """
    cell, mesh = settings.cell, settings.mesh

    def collector(layer: str) -> list[Layer]:
        section = getattr(cell, tags.SECTION_OF_LAYER[layer])
        return [Layer(layer, section.thickness_um, mesh.current_collector_elements)] if section else []

    unit = []
    if cell.negative.thickness_um:
        unit.append(Layer(tags.NEGATIVE, cell.negative.thickness_um, mesh.negative_elements, refine_end=True))
    unit.append(Layer(tags.ELECTROLYTE, cell.electrolyte.thickness_um, mesh.electrolyte_elements, True, True))
    positive = Layer(tags.POSITIVE, cell.positive.thickness_um, mesh.positive_elements, refine_start=True)
    unit.append(replace(positive, grading=mesh.positive_grading))
    mirrored = [replace(x, refine_start=x.refine_end, refine_end=x.refine_start) for x in reversed(unit)]
    negative_cc, positive_cc = collector(tags.NEGATIVE_CC), collector(tags.POSITIVE_CC)
    layers = list(negative_cc)
    for k in range(cell.units):
        layers += (unit + positive_cc) if k % 2 == 0 else (mirrored + negative_cc)
    return layers


def composite_packing(composite: Composite, thickness_um: float) -> Packing:
    """The particle packing (and pores) of a composite layer (deterministic from its seed)."""
    comp = composite
    box = (thickness_um, comp.length_um, comp.width_um)
    packing = pack_spheres(
        box,
        comp.volume_fraction,
        diameter_um=comp.particle_diameter_um,
        d50_um=comp.d50_um,
        d90_um=comp.d90_um,
        overlap=comp.overlap,
        seed=comp.seed,
    )
    pore = comp.pore_diameter_um or 0.3 * (comp.d50_um or comp.particle_diameter_um)
    return place_voids(packing, comp.porosity, pore, comp.seed)


def mesh_builder(config: Settings | dict) -> Callable[[], dict | None]:
    """What adds the meshed cell of a config to the current Gmsh model: the builder of its
    architecture (composite cathode; interdigitated; thin film, with patchy Li contact under
    ``[cell.contact]``), or for the homogenised model of a composite or thin-film config the planar
    stack of its macro mesh (an interdigitated one keeps its geometry). The
    composite builder returns its statistics (volume fractions)."""
    settings = validate(config)
    cell, mesh = settings.cell, settings.mesh
    if settings.model == "homogenised" and cell.architecture != "interdigitated":
        # a planar stack: separator | homogenised composite | collector
        # the stack's grading throughout: positive_grading resolves a dense electrode's diffusion layer
        layers = [replace(x, grading=None) for x in thin_film_layers(settings)]
        dim = macro_dimension(settings)
        return lambda: build_thin_film(layers, dim, mesh.width_um, mesh.in_plane_elements, mesh.grading)
    if cell.architecture == "composite":
        comp = cell.composite
        packing = composite_packing(comp, cell.positive.thickness_um)
        size = comp.mesh_size_um or (comp.d50_um or comp.particle_diameter_um) / 8.0
        collector_um = cell.positive_current_collector.thickness_um  # a composite cell has one
        loss = ContactLoss(
            comp.contact_loss_fraction, comp.seed if comp.contact_loss_seed is None else comp.contact_loss_seed
        )
        return lambda: build_composite(
            packing, cell.electrolyte.thickness_um, collector_um, size, comp.mesh_size_max_um, contact_loss=loss
        )
    if cell.architecture == "interdigitated":
        design = design_from_config(cell)
        return lambda: build_interdigitated(design)
    layers = thin_film_layers(settings)
    contact = cell.contact
    if contact:  # 3D, one unit cell (checked by the config)
        return lambda: build_contact_cell(
            layers, contact.spot_radius_um, contact.area_fraction, contact.element_size_um, contact.edge_element_size_um
        )
    outer = (tags.BOTTOM, tags.TOP) if cell.units > 1 else (tags.NEGATIVE_TERMINAL, tags.POSITIVE_TERMINAL)
    return lambda: build_thin_film(
        layers, cell.dimension, mesh.width_um, mesh.in_plane_elements, mesh.grading, outer_names=outer
    )


def build_mesh(config: Settings | dict, comm: MPI.Comm = MPI.COMM_WORLD) -> CellMesh:
    """The cell mesh of a config: its ``mesh.file``, or the builder of its architecture."""
    settings = validate(config)
    if settings.mesh.file:
        return load_mesh(settings.mesh.file, comm)
    return mesh_from_model(comm, mesh_builder(settings))


def one_c_current(cell: Cell, active_thickness_um: float | None = None) -> float:
    """Current density of 1C, A/m2 of footprint: the nominal capacity, or the positive
    electrode's capacity from its initial stoichiometry to 1, passed in one hour (times the
    number of unit cells of a stack). The electrode's active volume per footprint is
    `active_thickness_um` (a composite's measured active volume / footprint), by default its
    thickness (times the volume fraction of a composite; with the pillars of an interdigitated cell)."""
    if cell.nominal_capacity_mAh_cm2:
        return cell.nominal_capacity_mAh_cm2 * 10.0 * cell.units
    pos = cell.positive
    if active_thickness_um is None:
        if cell.architecture == "interdigitated":
            active_thickness_um = design_from_config(cell).positive_thickness_um()
        else:
            fraction = cell.composite.volume_fraction if cell.architecture == "composite" else 1.0
            active_thickness_um = pos.thickness_um * fraction
    capacity = FARADAY * pos.max_concentration_mol_m3 * active_thickness_um * 1e-6
    capacity *= 1 - pos.initial_stoichiometry
    return cell.units * capacity / 3600.0


def one_c_record(cell: Cell, active_thickness_um: float | None = None) -> dict:
    """What 1C meant in a run (run.json's ``one_c``): the capacity it was taken from (per
    footprint, and of the whole cell ``cell.area_cm2``) and the current it gave."""
    current = one_c_current(cell, active_thickness_um)
    source = (
        "cell.nominal_capacity_mAh_cm2"
        if cell.nominal_capacity_mAh_cm2
        else "the positive electrode's capacity from its initial stoichiometry to 1"
    )
    area_m2 = cell.area_cm2 * 1e-4
    return {
        "definition": source,
        "capacity_mAh_cm2": current * 0.1,  # 1 h of the current: A h/m2 = 0.1 mAh/cm2
        "capacity_mAh": current * 0.1 * cell.area_cm2,
        "current_A_m2": current,
        "current_A": current * area_m2,
    }


def parse_steps(
    config: Settings | dict, base_dir: Path | None = None, active_thickness_um: float | None = None
) -> Experiment:
    """Parse the experiment and reject a first step that would end before it starts
    (`active_thickness_um`: see :func:`one_c_current`)."""
    settings = validate(config)
    cell = settings.cell
    units = Units(cell.area_cm2 * 1e-4, one_c_current(cell, active_thickness_um))
    experiment = parse_experiment(settings.experiment.steps, units, base_dir)
    if settings.thermal.model == "isothermal":
        for step in experiment.steps:
            if any(event.quantity == "temperature" for event in step.events):
                raise InputError(
                    "experiment.steps", f"{step.text!r} ends on a temperature: set thermal.model = 'lumped' or 'full'"
                )
    pos = cell.positive
    ocv = float(OCP_FUNCTIONS[pos.ocp](pos.initial_stoichiometry, np))
    first = experiment.steps[0]
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
    return experiment


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        status: "complete", "incomplete" or "failed".
        series: The time series (``series["voltage_V"]`` is a numpy array).
        steps: One summary per finished experiment step.
        cycles: One summary per cycle.
        simulation: The simulation (counters, state).
        output: The run directory (None for an in-memory run).
        message: Why a run stopped early.
        spectra: One impedance spectrum per EIS step: ``step``, ``frequency_Hz``,
            ``z_real_ohm_cm2``, ``z_imag_ohm_cm2`` (numpy arrays).
        one_c: What 1C meant (run.json's ``one_c``: :func:`one_c_record`).
    """

    status: str
    series: TimeSeries
    steps: list[dict]
    cycles: list[dict]
    simulation: Simulation
    output: Path | None
    message: str = ""
    spectra: list[dict] = field(default_factory=list)
    one_c: dict = field(default_factory=dict)


def check_output(
    output: Path, comm: MPI.Comm, marker: str = "run.json", kind: str = "run", overwrite: bool = True
) -> None:
    """Raise an InputError (key ``output``) unless `output` may be made a fresh result directory:
    absent, empty, or an earlier ssbfem result (recognised by its `marker` file) when `overwrite`.
    A directory that holds anything else is always refused."""
    error = None
    if comm.rank == 0 and output.exists() and any(output.iterdir()):
        if not (output / marker).exists():
            error = f"{output} exists and is not an ssbfem {kind} directory; choose another output"
        elif not overwrite:
            resumable = kind == "run" and (output / "checkpoint.npz").is_file() and _status(output) != "complete"
            resume = f", resume it with --restart {output}" if resumable else ""
            error = f"{output} holds an earlier {kind}: pass --overwrite to replace it{resume} or choose another output"
    error = comm.bcast(error, root=0)
    if error:
        raise InputError("output", error)


def _status(output: Path) -> str | None:
    """The status an earlier run in `output` recorded (None: unreadable)."""
    try:
        return json.loads((output / "run.json").read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def prepare_output(
    output: Path, comm: MPI.Comm, marker: str = "run.json", kind: str = "run", overwrite: bool = True
) -> None:
    """Create an empty output directory, replacing an earlier ssbfem result when `overwrite`
    (refusals: :func:`check_output`)."""
    check_output(output, comm, marker, kind, overwrite)
    if comm.rank == 0:
        if output.exists():
            shutil.rmtree(output)  # nothing stale from the earlier result may remain
        output.mkdir(parents=True)
    comm.barrier()


#: What a run shows on the terminal (rank 0) while the forms compile: the first run of a model is
#: silent for that long. FFCx caches the compiled forms, so later runs of the same model start at once.
COMPILE_NOTICE = "ssbfem: compiling forms (the first run of a model takes ~20 s; cached afterwards)"


#: The folder of the unknowns at every field snapshot (in ``fields/``), written with each
#: checkpoint: a restart rewrites the earlier snapshots from it, so that the VTX files stay one
#: series (see FieldRecorder).
FIELD_SNAPSHOTS = "snapshots"


class _StopSignals:
    """SIGINT/SIGTERM set a flag that the time loop polls; the previous handlers come back after."""

    def __init__(self):
        self.received: str | None = None
        self._previous: dict = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame):
        self.received = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def __call__(self) -> bool:
        return self.received is not None


def _logger(output: Path | None, comm: MPI.Comm) -> logging.Logger:
    log = logging.getLogger(f"ssbfem.run.{id(output)}")
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.INFO)
    if output is not None and comm.rank == 0:
        handler = logging.FileHandler(output / "run.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
    else:
        log.addHandler(logging.NullHandler())
    return log


def run(
    config: Settings | dict,
    output: Path | None = None,
    comm: MPI.Comm = MPI.COMM_WORLD,
    progress: bool = False,
    command: str = "",
    restart: bool = False,
    base_dir: Path | None = None,
    observables: Sequence[Observable] = (),
    extra_blocks: Sequence[Block] = (),
    observers: Sequence[Observer] = (),
    overwrite: bool = True,
) -> RunResult:
    """Run a config (settings, or a raw or resolved dict); write its outputs to `output` (None:
    keep them in memory only).

    `observables` add time-series columns, `extra_blocks` physics to the cell's blocks and
    `observers` anything a run should do at its rows, snapshots or stop (research code's own,
    see docs/extending.md).

    Everything that can be checked is checked before the output directory is made, so bad
    input leaves no directory behind. With `restart`, `output` is an existing run directory and
    the run resumes from its checkpoint; otherwise an earlier run in `output` is replaced, or
    refused unless `overwrite` (the command line's default).
    """
    settings = validate(config)
    experiment = parse_steps(settings, base_dir)
    config_text = to_toml(settings.to_resolved_dict())  # a config that cannot be recorded stops here
    if output is not None and not restart:
        check_output(Path(output), comm, overwrite=overwrite)
    clock = time.perf_counter()
    cellmesh = build_mesh(settings, comm)
    timings = {"mesh_s": time.perf_counter() - clock}
    if progress and comm.rank == 0:
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)
    wall0 = time.perf_counter()
    model, geometry = MODELS[settings.model](settings, cellmesh, extra_blocks)
    measured = settings.cell.architecture == "composite" or settings.model == "homogenised"
    active = geometry["active_volume_per_footprint_um"] if measured else None  # 1C from the active volume
    experiment = parse_steps(settings, base_dir, active_thickness_um=active)
    mechanics = CellMechanics(model, settings.mechanics) if settings.mechanics.enabled else None
    if output is not None:
        output = Path(output)
        if not restart:
            prepare_output(output, comm, overwrite=overwrite)
            if comm.rank == 0:
                (output / "config.toml").write_text(config_text)
    outputs = RunOutputs.create(settings, model, mechanics, output, comm, restart)
    stop = _StopSignals()
    out = settings.output
    sim = Simulation(
        model,
        experiment,
        StepperSettings.from_config(settings.solver),
        observers=[*outputs.observers(experiment, progress and comm.rank == 0), *observers],
        field_times=out.field_times_s,
        checkpoint_every_steps=out.checkpoint_every_steps,
        checkpoint_every_s=out.checkpoint_every_s,
        stop_requested=stop,
        observables=observables,
    )
    timings["forms_s"] = time.perf_counter() - wall0
    outputs.log.info("mesh %.2f s; model and forms (compiled, or from the cache) %.2f s", *timings.values())
    if restart:
        sim.load_observer_state(load_checkpoint(output / "checkpoint.npz", sim))
        outputs.log.info("restart from t = %.6g s", sim.state.history[-1].t)
    meta = _start_metadata(model, mechanics, geometry, output, comm, command, one_c_record(settings.cell, active))
    outputs.log.info("run started: %d steps, %d dofs, %d ranks", len(experiment.steps), meta["num_dofs"], comm.size)
    clock = time.perf_counter()
    status, message = _simulate(sim, stop, restart, output)
    timings["solve_s"] = time.perf_counter() - clock
    outputs.log.info("run %s %s", status, message)
    steps = sim.state.steps
    cycles = cycle_summaries(steps)
    if output is not None:
        outputs.write(settings, steps, cycles, meta, status, message, sim, time.perf_counter() - wall0, timings)
    if status == "failed":
        raise SimulationError(message)
    spectra = _spectra(outputs.spectra)
    return RunResult(status, outputs.series, steps, cycles, sim, output, message, spectra, meta["one_c"])


def _start_metadata(
    model: Model, mechanics, geometry: dict, output: Path | None, comm: MPI.Comm, command: str, one_c: dict
) -> dict:
    """run.json's fields at the start (status "running"; written with geometry.json)."""
    meta = {"status": "running", "started": now(), "command": command, "ranks": comm.size, **versions()}
    meta["one_c"] = one_c
    if mechanics is not None:
        meta["monroe_newman_shear_modulus_ratio"] = mechanics.monroe_newman_ratio()
    meta["num_dofs"] = geometry["num_dofs"] = number_of_dofs(model)
    if output is not None and comm.rank == 0:
        write_metadata(output / "run.json", meta)
        write_metadata(output / "geometry.json", geometry)
    return meta


def resolved_model(settings: Settings, cellmesh: CellMesh, extra_blocks: Sequence[Block] = ()) -> tuple[Model, dict]:
    """The resolved cell model of the meshed geometry, and its geometry summary."""
    cell, thermal = settings.cell, settings.thermal
    blocks = [*cell_blocks(cell, thermal, tags.NEGATIVE in cellmesh.cell_names), *extra_blocks]
    model = CellModel(cellmesh, cell, degree=settings.mesh.degree, thermal=thermal, blocks=blocks)
    summary = geometry_summary(cellmesh, model.terminal_area, cell)
    if cell.architecture == "composite" and settings.output.effective_parameters:
        # what a homogenised model of this microstructure takes
        separator = cell.electrolyte.thickness_um
        layer = (separator, separator + cell.positive.thickness_um)
        measured = effective_parameters(cellmesh, layer, mesh_name=settings.mesh.file or "composite builder")
        summary["effective_parameters"] = asdict(measured)
    return model, summary


def homogenised_model(settings: Settings, cellmesh: CellMesh, extra_blocks: Sequence[Block] = ()) -> tuple[Model, dict]:
    """The homogenised cell model on its macro mesh, and a summary with its effective parameters."""
    effective = homogenised_parameters(settings)
    blocks = [
        *homogenised_blocks(effective, tags.NEGATIVE in cellmesh.cell_names, settings.thermal),
        *extra_blocks,
    ]
    model = HomogenisedModel(
        cellmesh, settings.cell, effective, degree=settings.mesh.degree, thermal=settings.thermal, blocks=blocks
    )
    composite_um = model.composite_volume / model.terminal_area  # mesh units: um (pillars and base film)
    summary = {
        "model": "homogenised",
        "dimension": cellmesh.dimension,
        "effective_parameters": effective.as_dict(),
        "active_volume_per_footprint_um": effective.active_fraction * composite_um,
        "num_cells": cellmesh.mesh.topology.index_map(cellmesh.dimension).size_global,
    }
    return model, summary


#: The models a config may ask for (``model = "..."``): each builds the model on the cell mesh
#: and returns it with what ``geometry.json`` records (with ``active_volume_per_footprint_um``).
MODELS: dict[str, Callable[[Settings, CellMesh, Sequence[Block]], tuple[Model, dict]]] = {
    "resolved": resolved_model,
    "homogenised": homogenised_model,
}


def _simulate(sim: Simulation, stop: _StopSignals, restart: bool, output: Path | None) -> tuple[str, str]:
    """Run the simulation; (status, message): "complete", "incomplete" (stopped by a signal)
    or "failed" (with the solver's diagnosis). The observers always hear of the stop."""
    status, message = "failed", ""
    try:
        with stop:
            status = sim.run(resume=restart)
    except SimulationError as exc:
        message = str(exc)
    except Interrupted:
        status, message = "incomplete", f"stopped by {stop.received}; resume with: ssbfem run --restart {output}"
    finally:
        sim.stop(status)
    return status, message


@dataclass
class RunOutputs:
    """What a run records: the time series, stresses, profiles, spectra and its log, and the
    observers that fill them (files only when the run has an output directory)."""

    output: Path | None
    comm: MPI.Comm
    series: TimeSeries
    profiles: Profiles
    spectra: list[dict]
    log: logging.Logger
    fields: FieldWriter | None = None
    mechanics: CellMechanics | None = None
    stresses: TimeSeries | None = None
    feedback: bool = False
    renderer: Renderer | None = None

    @classmethod
    def create(
        cls, settings: Settings, model: CellModel, mechanics, output: Path | None, comm, restart: bool
    ) -> RunOutputs:
        path = (lambda name: output / name) if output is not None else (lambda name: None)
        impedance = path("impedance.csv")
        spectra = read_table(impedance) if restart and impedance is not None and impedance.is_file() else []
        series, log = TimeSeries(path("timeseries.csv"), comm), _logger(output, comm)
        out = cls(output, comm, series, Profiles(model), spectra, log)
        if output is not None and settings.output.fields:
            out.fields = FieldWriter(model, output / "fields", mechanics=mechanics)
        if output is not None and settings.output.renderings and renders(model):
            out.renderer = Renderer(model, output / "fields", mechanics=mechanics, logger=log)
        if mechanics is not None:
            out.mechanics, out.stresses = mechanics, TimeSeries(path("mechanics.csv"), comm)
            out.feedback = settings.mechanics.kinetics_feedback
        return out

    def observers(self, experiment: Experiment, progress: bool) -> list[Observer]:
        found: list[Observer] = [TimeSeriesRecorder(self.series, self.comm), ProfileRecorder(self.profiles)]
        if self.mechanics is not None:
            found.append(StressRecorder(self.mechanics, self.stresses, self.feedback, self.comm))
        if self.fields is not None:
            found.append(FieldRecorder(self.fields, self.output / "fields" / FIELD_SNAPSHOTS))
        if self.renderer is not None:
            found.append(self.renderer)
        found.append(SpectrumRecorder(self.output / "impedance.csv" if self.output else None, self.spectra, self.comm))
        if self.output is not None:
            found.append(CheckpointWriter(self.output / "checkpoint.npz", self.log))
            found.append(StepLog(self.log))
        if progress:
            found.append(Progress(experiment))
        return found

    def write(
        self,
        settings: Settings,
        steps,
        cycles,
        meta: dict,
        status: str,
        message: str,
        sim: Simulation,
        wall: float,
        timings: dict[str, float],
    ) -> None:
        """The tables, plots and run.json at the end of a run (rank 0 writes), and the summary
        of the solver's work and of the wall time per phase in run.log."""
        profiles = self.profiles.gather()
        if self.comm.rank != 0:
            return
        clock = time.perf_counter()
        _write_outputs(self.output, settings, self.series, steps, cycles, profiles, self.spectra)
        fields = self.fields.seconds if self.fields is not None else 0.0
        timings = {**timings, "fields_s": fields, "tables_and_plots_s": time.perf_counter() - clock}
        self.log.info(
            "summary: %d of %d steps finished; %d time steps, %d rejected, %d Newton iterations, %d linear iterations",
            len(steps),
            len(sim.experiment.steps),
            sim.accepted_steps,
            sim.rejected_steps,
            sim.newton_iterations,
            sim.linear_iterations,
        )
        self.log.info(
            "wall time: mesh %.2f s, forms %.2f s, solve %.2f s (of which field output %.2f s), "
            "tables and plots %.2f s",
            *(timings[k] for k in ("mesh_s", "forms_s", "solve_s", "fields_s", "tables_and_plots_s")),
        )
        last = self.series.rows[-1] if self.series.rows else {}
        meta.update(
            status=status,
            message=message,
            finished=now(),
            wall_time_s=wall,
            wall_time_per_phase_s=timings,
            accepted_steps=sim.accepted_steps,
            rejected_steps=sim.rejected_steps,
            newton_iterations=sim.newton_iterations,
            linear_iterations=sim.linear_iterations,
            final_time_s=last.get("time_s"),
            final_voltage_V=last.get("voltage_V"),
            final_capacity_mAh_cm2=last.get("capacity_mAh_cm2"),
        )
        write_metadata(self.output / "run.json", meta)


def _spectra(rows: list[dict]) -> list[dict]:
    """Impedance rows grouped by step, as arrays."""
    out = []
    for step in sorted({int(r["step"]) for r in rows}):
        mine = [r for r in rows if int(r["step"]) == step]
        names = ("frequency_Hz", "z_real_ohm_cm2", "z_imag_ohm_cm2")
        out.append({"step": step, **{n: np.array([float(r[n]) for r in mine]) for n in names}})
    return out


def _write_outputs(
    output: Path,
    settings: Settings,
    series: TimeSeries,
    steps: list[dict],
    cycles: list[dict],
    profiles,
    impedance_rows,
) -> None:
    write_table(output / "steps.csv", steps)
    write_table(output / "cycles.csv", cycles)
    plot = settings.output.plot
    if plot and impedance_rows:
        plot_impedance(_spectra(impedance_rows), output / "impedance.png")
    if not plot or len(series.rows) < 2:
        return
    title = f"{settings.cell.architecture} cell, {settings.cell.dimension}D"
    plot_voltage(series, output / "voltage.png", title=title)
    plot_losses(series, output / "losses.png")
    if profiles:
        plot_profiles(profiles, output / "concentration.png")
    if len(cycles) > 1:
        plot_cycles(cycles, output / "cycles.png")
    if "heat_generated_J" in series.names:
        plot_heat(series, output / "heat.png")


def restart_run(output: Path, comm: MPI.Comm = MPI.COMM_WORLD, progress: bool = False, command: str = "") -> RunResult:
    """Resume the run in `output` from its checkpoint, with the config it was started with."""
    output = Path(output)
    if not (output / "checkpoint.npz").is_file() or not (output / "config.toml").is_file():
        raise InputError("--restart", f"{output} holds no checkpoint of an ssbfem run")
    settings = validate(read_toml(output / "config.toml"))
    return run(settings, output, comm, progress, command, restart=True)
