"""Run outputs: the time series (CSV, flushed row by row), field snapshots (VTX), the voltage
plot and the run metadata (``run.json``). Scalars are written by rank 0 only."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np

from ssbfem._dolfinx import dolfinx
from ssbfem.model import CellModel


class TimeSeries:
    """Rows of scalars, kept in memory and appended to a CSV file as they arrive."""

    def __init__(self, path: Path | None, comm):
        self.rows: list[dict] = []
        self._file = None
        self._writer = None
        if path is not None and comm.rank == 0:
            self._file = open(path, "w", newline="")  # noqa: SIM115 - streamed row by row, closed by close()

    def __call__(self, row: dict) -> None:
        self.rows.append(row)
        if self._file is not None:
            if self._writer is None:
                self._writer = csv.DictWriter(self._file, fieldnames=list(row))
                self._writer.writeheader()
            self._writer.writerow({k: repr(float(v)) if isinstance(v, float) else v for k, v in row.items()})
            self._file.flush()

    def column(self, name: str) -> np.ndarray:
        return np.array([r[name] for r in self.rows])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class FieldWriter:
    """VTX (ADIOS2) files of phi_e, phi_s and c, one per field domain, written at snapshots.

    Coordinates are in micrometres. phi_s is written as the absolute electronic potential
    (V) on each side; c in mol/m3.
    """

    def __init__(self, model: CellModel, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.model = model
        comm = model.cellmesh.mesh.comm
        fem = dolfinx.fem
        self.phi_s_pos = fem.Function(model.psi_pos.function_space, name="phi_s")
        self.c = fem.Function(model.theta.function_space, name="c")
        vtx = dolfinx.io.VTXWriter
        self.writers = [
            vtx(comm, directory / "phi_e.bp", [model.phi_e], engine="BP4"),
            vtx(comm, directory / "phi_s_positive.bp", [self.phi_s_pos], engine="BP4"),
            vtx(comm, directory / "c.bp", [self.c], engine="BP4"),
        ]
        if model.has_negative:
            self.writers.append(vtx(comm, directory / "phi_s_negative.bp", [model.psi_neg], engine="BP4"))

    def __call__(self, t: float) -> None:
        m = self.model
        self.phi_s_pos.x.array[:] = m.psi_pos.x.array + m.cell_voltage()
        self.c.x.array[:] = m.theta.x.array * m.max_concentration
        for w in self.writers:
            w.write(t)

    def close(self) -> None:
        for w in self.writers:
            w.close()


def plot_voltage(series: TimeSeries, path: Path, title: str = "") -> None:
    """Voltage against capacity and against time, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = series.column("time_s") / 3600.0
    v = series.column("voltage_V")
    q = series.column("capacity_mAh_cm2")
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    ax0.plot(q, v, color="C0")
    ax0.set_xlabel("Discharge capacity (mAh/cm$^2$)")
    ax0.set_ylabel("Cell voltage (V)")
    ax1.plot(t, v, color="C1")
    ax1.set_xlabel("Time (h)")
    ax1.set_ylabel("Cell voltage (V)")
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


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

    return {
        "ssbfem": __version__,
        "dolfinx": dolfinx.__version__,
        "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
        "mpi": MPI.Get_library_version().splitlines()[0].strip(),
    }


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
