"""Run outputs: the time series (CSV, flushed row by row), field snapshots (VTX), the voltage
plot and the run metadata (``run.json``). Scalars are written by rank 0 only."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ssbfem._dolfinx import dolfinx
from ssbfem.model import CellModel

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class TimeSeries:
    """Rows of scalars, kept in memory and appended to a CSV file as they arrive.

    ``series["voltage_V"]`` is that column as a numpy array.
    """

    def __init__(self, path: Path | None, comm):
        self.rows: list[dict] = []
        self._path = path if comm.rank == 0 else None
        self._file = None
        self._writer = None

    def resume(self, rows: int, comm) -> None:
        """Keep the first `rows` rows of the existing file (a restart); new rows follow them."""
        kept = None
        if self._path is not None:
            with open(self._path, newline="") as f:
                kept = list(csv.DictReader(f))[:rows]
        kept = comm.bcast(kept, root=0)
        self.rows = [{k: _number(v) for k, v in r.items()} for r in kept]
        for row in self.rows:
            self._write(row)

    def __call__(self, row: dict) -> None:
        self.rows.append(row)
        self._write(row)

    def _write(self, row: dict) -> None:
        if self._path is not None:
            if self._file is None:
                self._file = open(self._path, "w", newline="")  # noqa: SIM115 - streamed row by row, closed by close()
            if self._writer is None:
                self._writer = csv.DictWriter(self._file, fieldnames=list(row))
                self._writer.writeheader()
            self._writer.writerow({k: repr(float(v)) if isinstance(v, float) else v for k, v in row.items()})
            self._file.flush()

    def column(self, name: str) -> np.ndarray:
        return np.array([r[name] for r in self.rows])

    __getitem__ = column

    @property
    def names(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class FieldWriter:
    """VTX (ADIOS2) files of phi_e, phi_s and c, one per field domain, written at snapshots.

    Coordinates are in micrometres. phi_s is written as the absolute electronic potential
    (V) on each side; c in mol/m3. The files are opened (an earlier file of the same name
    replaced) at the first snapshot, not before: a restart that fails before it writes leaves
    the earlier files alone.
    """

    def __init__(self, model: CellModel, directory: Path, suffix: str = "", mechanics=None):
        directory.mkdir(parents=True, exist_ok=True)
        self.model = model
        self.directory, self.suffix, self.mechanics = directory, suffix, mechanics
        self.seconds = 0.0  # wall time spent writing
        fem = dolfinx.fem
        self.phi_s_pos = fem.Function(model.psi_pos.function_space, name="phi_s")
        self.c = fem.Function(model.theta.function_space, name="c")
        if model.thermal.model == "full":
            self.temperature = fem.Function(model.temperature_rise.function_space, name="temperature")
        self.writers: list = []

    def _open(self) -> None:
        model, mechanics, suffix = self.model, self.mechanics, self.suffix
        comm = model.cellmesh.mesh.comm

        def vtx(name: str, functions: list):
            return dolfinx.io.VTXWriter(comm, self.directory / f"{name}{suffix}.bp", functions, engine="BP4")

        self.writers = [vtx("phi_e", [model.phi_e]), vtx("phi_s_positive", [self.phi_s_pos]), vtx("c", [self.c])]
        if model.has_negative:
            self.writers.append(vtx("phi_s_negative", [model.psi_neg]))
        if mechanics is not None:  # displacement in micrometres; stresses per cell, Pa
            self.writers.append(vtx("displacement", [mechanics.displacement]))
            self.writers.append(vtx("stress", [mechanics.von_mises, mechanics.hydrostatic]))
        if model.thermal.model == "full":
            self.writers.append(vtx("temperature", [self.temperature]))

    def __call__(self, t: float) -> None:
        start = time.perf_counter()
        if not self.writers:
            self._open()
        m = self.model
        self.phi_s_pos.x.array[:] = m.psi_pos.x.array + m.cell_voltage()
        self.c.x.array[:] = m.theta.x.array * m.max_concentration
        if m.thermal.model == "full":
            self.temperature.x.array[:] = m.temperature_rise.x.array + m.T0
        for w in self.writers:
            w.write(t)
        self.seconds += time.perf_counter() - start

    def close(self) -> None:
        for w in self.writers:
            w.close()


def plot_voltage(series: TimeSeries, path: Path, title: str = "") -> Figure:
    """Voltage against capacity and against time, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, t_label = time_axis(series.column("time_s"))
    v = series.column("voltage_V")
    q = series.column("capacity_mAh_cm2")
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    ax0.plot(q, v, color="C0")
    ax0.set_xlabel("Discharge capacity (mAh/cm$^2$)")
    ax0.set_ylabel("Cell voltage (V)")
    ax1.plot(t, v, color="C1")
    ax1.set_xlabel(t_label)
    ax1.set_ylabel("Cell voltage (V)")
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig


def write_metadata(path: Path, data: dict) -> None:
    """Write run.json atomically (a reader never sees half a file)."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


def versions() -> dict:
    """Versions of the software stack that produced a result."""
    from mpi4py import MPI

    from ssbfem import __version__
    from ssbfem._dolfinx import PETSc

    import gmsh

    return {
        "ssbfem": __version__,
        "dolfinx": dolfinx.__version__,
        "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
        "petsc_packages": ", ".join(
            p for p in ("mumps", "superlu_dist", "hypre", "hdf5") if PETSc.Sys.hasExternalPackage(p)
        ),
        "gmsh": gmsh.__version__,
        "mpi": MPI.Get_library_version().splitlines()[0].strip(),
    }


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _number(text: str):
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


#: Most points of a stoichiometry profile: more distinct dof positions are averaged over this many slabs.
PROFILE_SLABS = 200


class Profiles:
    """Stoichiometry across the positive electrode (averaged over planes of equal x) at the
    field-snapshot times, kept on rank 0."""

    def __init__(self, model: CellModel):
        self.model = model
        self.x = np.round(model.theta.function_space.tabulate_dof_coordinates()[:, 0], 9)
        # a particle field (several radial values per node) is profiled by its volume average
        self.weights = getattr(model, "radial_weights", None)
        owned = model.theta.function_space.dofmap.index_map.size_local
        self.owned = slice(0, owned)
        self.times: list[float] = []
        self.profiles: list[list[float]] = []
        self.positions: list[float] = []
        # particles resolved in 2D/3D: a slab profile through particles and electrolyte is noise, so the
        # spread of the particle stoichiometry (5th, 50th, 95th percentile and mean over nodes) is kept
        self.resolved = self.weights is None and model.cellmesh.mesh.topology.dim > 1
        self.spread: list[list[float]] = []

    def __call__(self, t: float) -> None:
        comm = self.model.cellmesh.mesh.comm
        theta = self.model.theta.x.array
        if self.weights is not None:
            theta = theta.reshape(-1, len(self.weights)) @ self.weights
        theta = theta[self.owned]
        pairs = comm.gather((self.x[self.owned], theta), root=0)
        if comm.rank == 0:
            x = np.concatenate([p[0] for p in pairs])
            values = np.concatenate([p[1] for p in pairs])
            positions, inverse = np.unique(x, return_inverse=True)
            if len(positions) > PROFILE_SLABS:  # an unstructured mesh: means over slabs of equal thickness
                edges = np.linspace(x.min(), x.max(), PROFILE_SLABS + 1)
                inverse = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, PROFILE_SLABS - 1)
                positions = 0.5 * (edges[:-1] + edges[1:])
            counts = np.bincount(inverse, minlength=len(positions))
            means = np.bincount(inverse, weights=values, minlength=len(positions))[counts > 0] / counts[counts > 0]
            positions = positions[counts > 0]
            self.positions = positions.tolist()
            self.times.append(t)
            self.profiles.append(means.tolist())
            if self.resolved:
                self.spread.append([*np.percentile(values, [5, 50, 95]).tolist(), float(values.mean())])

    def gather(self) -> dict | None:
        return self.to_json() if self.times else None

    def to_json(self) -> dict:
        data = {"x_um": self.positions, "times_s": self.times, "stoichiometry": self.profiles}
        if self.resolved:
            data["stoichiometry_p5_p50_p95_mean"] = self.spread
        return data

    def from_json(self, data: dict) -> None:
        self.positions, self.times, self.profiles = data["x_um"], data["times_s"], data["stoichiometry"]
        self.spread = data.get("stoichiometry_p5_p50_p95_mean", [])


#: A cycle's charge or discharge capacity below this fraction of its total charge passed is
#: round-off, not a half-cycle: no coulombic efficiency (or mean voltage) is computed from it.
MEANINGFUL_CAPACITY_FRACTION = 1e-6


def cycle_summaries(steps: list[dict]) -> list[dict]:
    """Per cycle: discharge and charge capacity and energy, coulombic efficiency, mean voltages.

    A step counts towards the discharge when it passed charge out of the cell (positive
    capacity), towards the charge when it passed charge in; a rest passes none (exactly zero) and
    counts towards neither. The coulombic efficiency is discharge over charge capacity, and NaN
    (``nan`` in ``cycles.csv``, a gap in ``cycles.png``) unless both are meaningful: each at least
    :data:`MEANINGFUL_CAPACITY_FRACTION` of the cycle's total charge passed. A cycle without a charge
    (a GITT discharge, say) has none; so have the mean discharge and charge voltages of a
    half-cycle that did not happen.
    """
    cycles: dict[int, dict] = {}
    for s in steps:
        c = cycles.setdefault(
            s["cycle"],
            {
                "cycle": s["cycle"],
                "discharge_capacity_mAh_cm2": 0.0,
                "charge_capacity_mAh_cm2": 0.0,
                "discharge_energy_mWh_cm2": 0.0,
                "charge_energy_mWh_cm2": 0.0,
                "duration_s": 0.0,
            },
        )
        c["duration_s"] += s["end_s"] - s["start_s"]
        if s["capacity_mAh_cm2"] == 0.0:  # a rest
            continue
        kind = "discharge" if s["capacity_mAh_cm2"] > 0 else "charge"
        c[f"{kind}_capacity_mAh_cm2"] += abs(s["capacity_mAh_cm2"])
        c[f"{kind}_energy_mWh_cm2"] += abs(s["energy_mWh_cm2"])
    nan = float("nan")
    for c in cycles.values():
        qd, qc = c["discharge_capacity_mAh_cm2"], c["charge_capacity_mAh_cm2"]
        floor = MEANINGFUL_CAPACITY_FRACTION * (qd + qc)
        discharged, charged = qd > floor, qc > floor
        c["coulombic_efficiency"] = qd / qc if discharged and charged else nan
        c["mean_discharge_voltage_V"] = c["discharge_energy_mWh_cm2"] / qd if discharged else nan
        c["mean_charge_voltage_V"] = c["charge_energy_mWh_cm2"] / qc if charged else nan
    return [cycles[k] for k in sorted(cycles)]


def write_table(path: Path, rows: list[dict]) -> None:
    """A list of dicts as CSV (an empty file with no rows)."""
    with open(path, "w", newline="") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def read_table(path: Path) -> list[dict]:
    """A CSV written by write_table, as a list of dicts of strings."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plot_impedance(spectra: list[dict], path: Path) -> Figure:
    """Nyquist plot (-Im Z against Re Z, equal axes) and Bode plots (|Z| and phase) per spectrum."""
    plt = _pyplot()
    fig = plt.figure(figsize=(11, 4.5), layout="constrained")
    left, right = fig.add_gridspec(1, 2)  # one grid, so the layout leaves room for every label
    nyquist = fig.add_subplot(left)
    bode = right.subgridspec(2, 1)
    magnitude = fig.add_subplot(bode[0])
    phase = fig.add_subplot(bode[1], sharex=magnitude)
    for s in spectra:
        f, re, im = s["frequency_Hz"], s["z_real_ohm_cm2"], s["z_imag_ohm_cm2"]
        label = f"step {s['step']}"
        (line,) = nyquist.plot(re, -im, "o-", ms=2.5, label=label)
        _decade_markers(nyquist, f, np.asarray(re), np.asarray(im), line.get_color())
        magnitude.loglog(f, np.hypot(re, im), label=label)
        phase.semilogx(f, np.degrees(np.arctan2(im, re)), label=label)
    nyquist.set_aspect("equal", adjustable="datalim")
    nyquist.set_xlabel("Re Z (ohm cm$^2$)")
    nyquist.set_ylabel("-Im Z (ohm cm$^2$)")
    nyquist.set_title("Nyquist")
    magnitude.set_ylabel("|Z| (ohm cm$^2$)")
    magnitude.set_title("Bode")
    phase.set_ylabel("Phase (deg)")
    phase.set_xlabel("Frequency (Hz)")
    for ax in (nyquist, magnitude, phase):
        ax.grid(alpha=0.3, which="both")
    if len(spectra) > 1:
        nyquist.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig


def time_unit(span_s: float) -> tuple[float, str]:
    """(seconds per unit, unit) that suits a span of time: s below 5 min, min below 5 h, h beyond."""
    if span_s < 300.0:
        return 1.0, "s"
    if span_s < 5 * 3600.0:
        return 60.0, "min"
    return 3600.0, "h"


def time_axis(time_s: np.ndarray) -> tuple[np.ndarray, str]:
    """Times in the unit that suits their span (:func:`time_unit`), and the axis label."""
    t = np.asarray(time_s, dtype=float)
    seconds, unit = time_unit(float(t.max() - t.min()) if t.size else 0.0)
    return t / seconds, f"Time ({unit})"


def _decade_markers(ax, f: np.ndarray, re: np.ndarray, im: np.ndarray, color: str) -> None:
    """Mark and label the points of a Nyquist curve nearest each whole decade of frequency."""
    f = np.asarray(f, dtype=float)
    if f.size == 0 or np.any(f <= 0):
        return
    for decade in range(int(np.ceil(np.log10(f.min()))), int(np.floor(np.log10(f.max()))) + 1):
        i = int(np.argmin(np.abs(np.log10(f) - decade)))
        ax.plot(re[i], -im[i], "D", ms=5, color=color, mec="k", mew=0.5)
        right = re[i] > 0.5 * (np.min(re) + np.max(re))  # labels point inwards, off the plot's edge
        ax.annotate(
            f"$10^{{{decade}}}$ Hz",
            (re[i], -im[i]),
            textcoords="offset points",
            xytext=(-5 if right else 5, 4),
            ha="right" if right else "left",
            fontsize=7,
        )


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_losses(series: TimeSeries, path: Path) -> Figure:
    """The voltage breakdown over time: OCP, each loss as a band, and the cell voltage."""
    plt = _pyplot()
    t, t_label = time_axis(series["time_s"])
    losses = [n for n in series.names if n.startswith("loss_")]
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    level = series["ocp_positive_V"] - series["ocp_negative_V"]
    ax.plot(t, level, color="k", lw=1.2, label="OCP (positive - negative)")
    for i, name in enumerate(losses):
        new = level + series[name]
        ax.fill_between(t, level, new, color=f"C{i}", alpha=0.6, lw=0, label=name[5:-2].replace("_", " "))
        level = new
    ax.plot(t, series["voltage_V"], color="k", lw=1.0, ls=":", label="cell voltage")
    ax.set_xlabel(t_label)
    ax.set_ylabel("Voltage (V)")
    ax.set_title("Voltage breakdown (losses stacked from the OCP)")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig


def plot_profiles(profiles: dict, path: Path) -> Figure:
    """Stoichiometry across the positive electrode at the snapshot times; for particles resolved in
    2D/3D, the mean particle stoichiometry over time with its 5-95 % band instead."""
    plt = _pyplot()
    if profiles.get("stoichiometry_p5_p50_p95_mean"):
        return _plot_spread(profiles, path, plt)
    x = np.array(profiles["x_um"])
    times = np.array(profiles["times_s"])
    shown = np.unique(np.linspace(0, len(times) - 1, min(len(times), 12)).round().astype(int))
    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    norm = plt.Normalize(times.min() / 3600, max(times.max(), 1e-9) / 3600)
    for i in shown:
        ax.plot(x - x.min(), profiles["stoichiometry"][i], color=plt.cm.viridis(norm(times[i] / 3600)))
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax, label="Time (h)")
    ax.set_xlabel("Distance from the electrolyte interface (um)")
    ax.set_ylabel("Stoichiometry x = c/c_max")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig


def _plot_spread(profiles: dict, path: Path, plt) -> Figure:
    spread = np.array(profiles["stoichiometry_p5_p50_p95_mean"])
    t, t_label = time_axis(np.array(profiles["times_s"]))
    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    ax.fill_between(t, spread[:, 0], spread[:, 2], color="C0", alpha=0.3, label="5-95 % of particle nodes")
    ax.plot(t, spread[:, 1], color="C0", ls="--", label="median")
    ax.plot(t, spread[:, 3], "o-", color="k", ms=3, label="mean")
    ax.set_xlabel(t_label)
    ax.set_ylabel("Particle stoichiometry x = c/c_max")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig


def _integer_locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def plot_cycles(cycles: list[dict], path: Path) -> Figure:
    """Discharge capacity and coulombic efficiency against cycle number."""
    plt = _pyplot()
    n = [c["cycle"] + 1 for c in cycles]
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.plot(n, [c["discharge_capacity_mAh_cm2"] for c in cycles], "o-", color="C0")
    ax.set_xlabel("Cycle")
    ax.xaxis.set_major_locator(_integer_locator())
    ax.set_ylabel("Discharge capacity (mAh/cm$^2$)", color="C0")
    twin = ax.twinx()
    twin.plot(n, [100 * c["coulombic_efficiency"] for c in cycles], "s--", color="C3", ms=3)
    twin.set_ylabel("Coulombic efficiency (%)", color="C3")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig


def plot_heat(series: TimeSeries, path: Path) -> Figure:
    """Heat sources (stacked) and the heat lost through the boundaries over time, W/m2."""
    plt = _pyplot()
    t, t_label = time_axis(series["time_s"])
    sources = [n for n in series.names if n.startswith("heat_") and n.endswith("_W_m2") and n != "heat_removed_W_m2"]
    fig, (ax, ax_t) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, constrained_layout=True)
    ax.stackplot(t, *[series[n] for n in sources], labels=[n[5:-5] for n in sources], alpha=0.8)
    ax.plot(t, series["heat_removed_W_m2"], color="k", lw=1.0, ls="--", label="removed through boundaries")
    ax.set_ylabel("Heat (W/m2 of footprint)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax_t.plot(t, series["temperature_mean_K"], color="C3", label="mean")
    ax_t.fill_between(
        t, series["temperature_min_K"], series["temperature_max_K"], color="C3", alpha=0.3, label="min-max"
    )
    ax_t.set_xlabel(t_label)
    ax_t.set_ylabel("Temperature (K)")
    ax_t.set_yscale("linear")
    ax_t.ticklabel_format(axis="y", style="plain", useOffset=False)
    ax_t.legend(fontsize=8)
    ax_t.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig
