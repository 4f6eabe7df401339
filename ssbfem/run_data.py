"""A finished run directory read back into Python: ``ssbfem.load(directory) -> Run``.

What a run writes (see :mod:`ssbfem.runner`) comes back as:

- ``run.timeseries``, ``run.steps``, ``run.cycles`` (and ``run.impedance``, ``run.mechanics``
  where the run wrote them): :class:`pandas.DataFrame` with the columns of the CSV files;
- ``run.settings``: the resolved :class:`~ssbfem.settings.Settings` from ``config.toml``;
- ``run.status``, ``run.message``, ``run.metadata`` (all of ``run.json``), ``run.geometry``
  (``geometry.json``);
- ``run.fields``: the field snapshots written to ``fields/*.bp`` (name, time), and
  ``run.field(name, time)``: one snapshot as numpy arrays (points in micrometres, values), and
  ``run.function(name, time)``: a scalar one as a DOLFINx Function on the mesh rebuilt from the
  settings (where DOLFINx is installed);
- ``run.plot_voltage()``, ``run.plot_losses()``, ... : the figures of :mod:`ssbfem.results`.

Units. Every column name ends in its unit (``voltage_V``, ``capacity_mAh_cm2``,
``current_A_m2``, ``z_real_ohm_cm2``); :func:`column_units` reads it, and each DataFrame carries
the mapping column -> unit in ``df.attrs["units"]`` (``"mAh/cm2"``, ``"A/m2"``, ...): ``"1"``
for a dimensionless column (a stoichiometry, the coulombic efficiency), ``""`` for a counter or
a label (``step``, ``cycle``, ``text``). ``run.units`` joins the mappings of all tables.

Fields are read from the VTX (ADIOS2 BP4) files with the ``adios2`` Python module rather than
from ``checkpoint.npz``: the VTX files hold every snapshot in the quantities a user sees (c in
mol/m3, absolute phi_s in V), while a checkpoint holds only the last state, in scaled unknowns
(theta = c/c_max). The points are the mesh nodes of each snapshot in micrometres, sorted by
coordinates (x, then y, then z) and each once: a run on several ranks wrote one block per rank,
which are joined, a node shared by two ranks kept once, so the arrays do not depend on the
number of ranks. Where DOLFINx is installed it is imported before
``adios2``: the libraries of the two wheels agree only in that order.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssbfem.errors import InputError

#: Unit suffixes of column names and the unit they stand for, longest first.
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_mAh_cm2", "mAh/cm2"),
    ("_mWh_cm2", "mWh/cm2"),
    ("_ohm_cm2", "ohm cm2"),
    ("_mAh", "mAh"),
    ("_mWh", "mWh"),
    ("_mol_m2", "mol/m2"),
    ("_mol_m3", "mol/m3"),
    ("_kg_m3", "kg/m3"),
    ("_A_m2", "A/m2"),
    ("_W_m2", "W/m2"),
    ("_J_m2", "J/m2"),
    ("_S_m", "S/m"),
    ("_m2", "m2"),
    ("_um", "um"),
    ("_Hz", "Hz"),
    ("_Pa", "Pa"),
    ("_s", "s"),
    ("_V", "V"),
    ("_A", "A"),
    ("_W", "W"),
    ("_J", "J"),
    ("_K", "K"),
)

#: Words that mark a dimensionless column (unit "1").
DIMENSIONLESS_WORDS = ("stoichiometry", "efficiency", "fraction", "ratio", "indicator")

#: The states of ``run.json`` whose files are complete and consistent.
FINISHED = ("complete", "incomplete")


def column_units(names: list[str]) -> dict[str, str]:
    """The unit of each column from the suffix of its name (before a ``[layer]`` qualifier): "1"
    dimensionless, "" a counter or label."""
    units = {}
    for name in names:
        quantity = name.split("[", 1)[0]  # a per-layer column: hydrostatic_mean_Pa[positive]
        unit = next((u for suffix, u in UNIT_SUFFIXES if quantity.endswith(suffix)), None)
        if unit is None:
            unit = "1" if set(quantity.split("_")) & set(DIMENSIONLESS_WORDS) else ""  # words: not "iterations"
        units[name] = unit
    return units


@dataclass(frozen=True)
class FieldSnapshot:
    """One field snapshot: the field `name` (a ``fields/*.bp`` file) at time `time_s`, the
    `index`-th step of that file."""

    name: str
    time_s: float
    index: int
    file: Path


def _read_csv(path: Path):
    """A run's CSV as a DataFrame with ``attrs["units"]`` (None when the file is absent)."""
    import pandas as pd

    if not path.is_file():
        return None
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:  # a table with no rows (a run with no finished step)
        df = pd.DataFrame()
    df.attrs["units"] = column_units(list(df.columns))
    return df


def _run_json(directory: Path) -> dict:
    path = directory / "run.json"
    if not directory.is_dir():
        raise InputError(str(directory), "no such directory")
    if not path.is_file():
        raise InputError(str(directory), "not an ssbfem run directory (it holds no run.json)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"not readable as JSON ({exc})") from exc


def load(directory: str | Path, partial: bool = False) -> Run:
    """The run written to `directory` by ``ssbfem run`` (or :func:`ssbfem.runner.run`).

    A run whose ``run.json`` says "failed" (the solver gave up) or "running" (a run still going,
    or one that was killed before it could record its end) raises an InputError naming the
    directory and the status; ``partial=True`` reads what it wrote all the same. A run stopped by
    a signal ("incomplete", resumable with ``ssbfem run --restart``) reads as it is.
    """
    directory = Path(directory)
    meta = _run_json(directory)
    status = meta.get("status", "")
    if status not in FINISHED and not partial:
        reason = {
            "failed": f"the run failed: {meta.get('message', '')}",
            "running": "the run has not finished (still running, or killed before it recorded its end)",
        }.get(status, f"unknown run status {status!r}")
        raise InputError(str(directory), reason + "; load(..., partial=True) reads what it wrote")
    if not (directory / "config.toml").is_file():
        raise InputError(str(directory), "not an ssbfem run directory (it holds no config.toml)")
    return Run(directory, meta)


class Run:
    """A run directory read back (see the module docstring); make one with :func:`load`."""

    def __init__(self, directory: Path, metadata: dict):
        from ssbfem.settings import read_toml, validate

        self.directory = directory
        self.metadata = metadata
        self.settings = validate(read_toml(directory / "config.toml"))
        geometry = directory / "geometry.json"
        self.geometry = json.loads(geometry.read_text()) if geometry.is_file() else {}
        self.timeseries = _read_csv(directory / "timeseries.csv")
        self.steps = _read_csv(directory / "steps.csv")
        self.cycles = _read_csv(directory / "cycles.csv")
        self.impedance = _read_csv(directory / "impedance.csv")
        self.mechanics = _read_csv(directory / "mechanics.csv")
        self._fields: list[FieldSnapshot] | None = None

    def __repr__(self) -> str:
        rows = 0 if self.timeseries is None else len(self.timeseries)
        return f"Run({str(self.directory)!r}, status={self.status!r}, {rows} rows, {len(self.fields)} field snapshots)"

    @property
    def status(self) -> str:
        """The status in run.json: "complete", "incomplete", "failed" or "running"."""
        return self.metadata.get("status", "")

    @property
    def message(self) -> str:
        """Why the run stopped early ("" for a complete run)."""
        return self.metadata.get("message", "")

    @property
    def units(self) -> dict[str, str]:
        """Column -> unit over all the tables of the run."""
        out: dict[str, str] = {}
        for df in (self.timeseries, self.steps, self.cycles, self.impedance, self.mechanics):
            if df is not None:
                out.update(df.attrs["units"])
        return out

    def spectra(self) -> list[dict]:
        """The impedance spectra, one per EIS step: ``step``, ``frequency_Hz``, ``z_real_ohm_cm2``,
        ``z_imag_ohm_cm2`` (numpy arrays); empty without an EIS step."""
        if self.impedance is None or self.impedance.empty:
            return []
        names = ("frequency_Hz", "z_real_ohm_cm2", "z_imag_ohm_cm2")
        return [
            {"step": int(step), **{n: group[n].to_numpy() for n in names}}
            for step, group in self.impedance.groupby("step", sort=True)
        ]

    # -- fields ---------------------------------------------------------------------------
    @property
    def fields(self) -> list[FieldSnapshot]:
        """Every field snapshot in ``fields/``, by name then time (a restarted run's files follow)."""
        if self._fields is None:
            found = []
            for path in sorted((self.directory / "fields").glob("*.bp")):
                name = path.stem.split("_restart")[0]
                found += [FieldSnapshot(name, t, i, path) for i, t in enumerate(_bp_times(path))]
            self._fields = sorted(found, key=lambda s: (s.name, s.time_s))
        return self._fields

    @property
    def field_names(self) -> list[str]:
        """The names of the written fields (``c``, ``phi_e``, ``phi_s_positive``, ...)."""
        return sorted({s.name for s in self.fields})

    def field_times(self, name: str) -> list[float]:
        """The snapshot times of field `name`, s."""
        return [s.time_s for s in self.fields if s.name == name]

    def field(self, name: str, time_s: float | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Field file `name` at the snapshot nearest `time_s` (None: the last): the node
        coordinates (n, 3) in micrometres, sorted and each function in the file by its name (c in mol/m3,
        potentials in V; a vector field as (n, components))."""
        snapshots = [s for s in self.fields if s.name == name]
        if not snapshots:
            raise InputError("field", f"no field {name!r} in {self.directory}; the run wrote {self.field_names}")
        snap = snapshots[-1] if time_s is None else min(snapshots, key=lambda s: abs(s.time_s - time_s))
        return _bp_read(snap.file, snap.index)

    def function(self, name: str, time_s: float | None = None, comm=None):
        """Field file `name` at the snapshot nearest `time_s` as a DOLFINx Function (DOLFINx
        installed), on the run's mesh rebuilt from its settings (the builders are deterministic;
        a ``mesh.file`` is read again) in the function space of the run's model, on `comm`
        (default: this process alone). Offered for the scalar fields (``c``, ``phi_e``,
        ``phi_s_positive``, ``phi_s_negative``, ``temperature``): every dof takes the value of
        the snapshot node at its coordinates."""
        from mpi4py import MPI

        from ssbfem._dolfinx import dolfinx
        from ssbfem.runner import MODELS, build_mesh

        points, values = self.field(name, time_s)
        if len(values) != 1 or next(iter(values.values())).ndim != 1:
            raise InputError("field", f"{name!r} is not one scalar field; read it with Run.field")
        ((key, snapshot),) = values.items()
        model, _ = MODELS[self.settings.model](self.settings, build_mesh(self.settings, comm or MPI.COMM_SELF))
        unknown = {
            "c": "theta",
            "phi_e": "phi_e",
            "phi_s_positive": "psi_pos",
            "phi_s_negative": "psi_neg",
            "temperature": "temperature_rise",
        }.get(name)
        template = getattr(model, unknown, None) if unknown else None
        if template is None or template.function_space.dofmap.index_map_bs != 1:
            raise InputError("field", f"{name!r} has no scalar space in the model; read it with Run.field")
        function = dolfinx.fem.Function(template.function_space, name=key)
        saved, mine = _node_keys(points), _node_keys(function.function_space.tabulate_dof_coordinates())
        order = np.argsort(saved)
        where = np.minimum(np.searchsorted(saved[order], mine), len(order) - 1)
        if not np.array_equal(saved[order][where], mine):
            raise InputError("field", f"the nodes of {name!r} do not match the mesh rebuilt from the run's settings")
        function.x.array[:] = snapshot[order][where]
        return function

    # -- plots ----------------------------------------------------------------------------
    def plot_voltage(self, path: str | Path | None = None) -> Path:
        """Voltage against capacity and time as a PNG (default: ``voltage.png`` in a temporary
        folder); returns its path (``IPython.display.Image(run.plot_voltage())`` shows it)."""
        from ssbfem.results import plot_voltage

        return self._plot(plot_voltage, self._series(), path, "voltage.png")

    def plot_losses(self, path: str | Path | None = None) -> Path:
        """The voltage breakdown (OCP, each loss stacked, the cell voltage) as a PNG."""
        from ssbfem.results import plot_losses

        return self._plot(plot_losses, self._series(), path, "losses.png")

    def plot_cycles(self, path: str | Path | None = None) -> Path:
        """Discharge capacity and coulombic efficiency against cycle number as a PNG."""
        from ssbfem.results import plot_cycles

        return self._plot(plot_cycles, self.cycles.to_dict("records"), path, "cycles.png")

    def plot_impedance(self, path: str | Path | None = None) -> Path:
        """Nyquist and Bode plots of the impedance spectra as a PNG."""
        from ssbfem.results import plot_impedance

        if not self.spectra():
            raise InputError("impedance", f"{self.directory} holds no impedance spectrum")
        return self._plot(plot_impedance, self.spectra(), path, "impedance.png")

    def _series(self):
        """The time series as the :class:`ssbfem.results.TimeSeries` the plot functions take."""
        from mpi4py import MPI

        from ssbfem.results import TimeSeries

        series = TimeSeries(None, MPI.COMM_SELF)
        series.rows = self.timeseries.to_dict("records")
        return series

    def _plot(self, function, data, path: str | Path | None, default: str) -> Path:
        if path is None:
            import tempfile

            path = Path(tempfile.mkdtemp(prefix="ssbfem-plot-")) / default
        path = Path(path)
        with _keep_backend():
            function(data, path)
        return path


def _node_keys(points: np.ndarray) -> np.ndarray:
    """Node coordinates (um) rounded to 1e-9 um, as one sortable string per node."""
    ints = np.round(np.asarray(points, dtype=float) * 1e9).astype(np.int64)
    return np.array([f"{x:+021d}{y:+021d}{z:+021d}" for x, y, z in ints])


@contextlib.contextmanager
def _keep_backend() -> Iterator[None]:
    """The plot functions of ssbfem.results switch matplotlib to Agg (files only); give the
    caller's backend (a notebook's inline one) back afterwards."""
    import matplotlib

    backend = matplotlib.get_backend()
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            matplotlib.use(backend)


def _adios2():
    # The adios2 wheel's own libraries clash with those bundled in the DOLFINx wheel unless
    # DOLFINx's are loaded first: import DOLFINx (where installed) before adios2.
    with contextlib.suppress(ImportError):
        import ssbfem._dolfinx  # noqa: F401
    try:
        import adios2
    except ImportError as exc:  # the package depends on it; a broken installation
        raise InputError(
            "fields", "reading field snapshots needs the adios2 Python module: pip install adios2"
        ) from exc
    return adios2


def _bp_times(path: Path) -> list[float]:
    """The time of each step of a VTX file."""
    adios2 = _adios2()
    times = []
    with adios2.FileReader(str(path)) as reader:
        steps = int(reader.available_variables()["step"]["AvailableStepsCount"])
        for i in range(steps):
            times.append(float(np.ravel(reader.read("step", step_selection=[i, 1]))[0]))
    return [t for t in times if math.isfinite(t)]


def _bp_read(path: Path, index: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Node coordinates and every function of step `index` of a VTX file, all rank blocks joined."""
    adios2 = _adios2()
    skip = {"step", "geometry", "connectivity", "types", "vtkGhostType", "vtkOriginalPointIds"}
    with adios2.Stream(str(path), "r") as stream:
        for step in stream:
            if step.current_step() != index:
                continue
            names = [n for n in stream.available_variables() if n not in skip and not n.startswith("Number")]
            blocks = len(stream._engine.blocks_info("geometry", index))
            points = _blocks(stream, "geometry", blocks)
            values = {n: _blocks(stream, n, blocks) for n in names}
            values = {n: v[:, 0] if v.ndim == 2 and v.shape[1] == 1 else v for n, v in values.items()}
            # a node on a partition boundary is in the block of every rank that holds it: keep one
            _, first = np.unique(np.round(points, 9), axis=0, return_index=True)
            return points[first], {n: v[first] for n, v in values.items()}
    raise InputError("field", f"{path} has no step {index}")


def _blocks(stream, name: str, blocks: int) -> np.ndarray:
    parts = []
    for b in range(blocks):
        variable = stream.inquire_variable(name)
        variable.set_block_selection(b)
        if np.prod(variable.count()) > 0:  # a rank that holds none of the field's domain
            parts.append(np.asarray(stream.read(variable)))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
