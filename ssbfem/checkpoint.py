"""Checkpoints: the time stepper's state and every unknown, independent of the MPI partition.

Each Lagrange unknown is stored against the coordinates of its nodes (unique for a continuous
space; a vector field's components, such as the radial values of a particle field, stored as one
row per node), so a run can resume on any number of ranks. An unknown in a Real space
(one global degree of freedom: the cell voltage, a lumped temperature) has no meaningful dof
coordinate (each rank tabulates a point of its own first cell), so it is stored as a plain
scalar. The file is one ``.npz`` written by rank 0 to a temporary name and renamed, so a crash
never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ssbfem._dolfinx import dolfinx
from ssbfem.errors import InputError
from ssbfem.simulation import Point, Simulation, StepperState

fem = dolfinx.fem

_KEY = np.dtype([("x", "i8"), ("y", "i8"), ("z", "i8")])


def _keys(coords: np.ndarray) -> np.ndarray:
    """Coordinates (micrometres) rounded to 1e-9 um, as sortable integer triples."""
    ints = np.round(np.asarray(coords, dtype=float) * 1e9).astype(np.int64)
    out = np.empty(len(ints), dtype=_KEY)
    out["x"], out["y"], out["z"] = ints[:, 0], ints[:, 1], ints[:, 2]
    return out


def is_real(space: fem.FunctionSpace) -> bool:
    """Whether `space` is a Real space (basix real_element: one global degree of freedom)."""
    return bool(getattr(space.ufl_element(), "is_real", False))


def gather_points(comm, model, points: list[Point], name: str = "history") -> dict[str, np.ndarray]:
    """The unknowns of `points` keyed by their nodes' coordinates (on rank 0; empty elsewhere):
    ``coords_<k>``, ``<name>_<i>_<k>`` for unknown k at point i, ``<name>_real_<i>_<k>`` for a
    Real one (collective)."""
    data: dict[str, np.ndarray] = {}
    real = "real" if name == "history" else f"{name}_real"  # the history's keys as they have always been
    for k, u in enumerate(model.unknowns):
        space = u.function_space
        nodes, bs = space.dofmap.index_map.size_local, space.dofmap.index_map_bs
        owned = nodes * bs
        if is_real(space):  # the one owner's value, as a scalar per point
            values = [comm.gather(p.arrays[k][:owned], root=0) for p in points]
            if comm.rank == 0:
                for i, v in enumerate(values):
                    data[f"{real}_{i}_{k}"] = np.asarray(np.concatenate(v)[0])
            continue
        coords = comm.gather(space.tabulate_dof_coordinates()[:nodes], root=0)
        shape = (nodes, bs) if bs > 1 else (nodes,)
        values = [comm.gather(p.arrays[k][:owned].reshape(shape), root=0) for p in points]
        if comm.rank == 0:
            data[f"coords_{k}"] = np.concatenate(coords)
            for i, v in enumerate(values):
                data[f"{name}_{i}_{k}"] = np.concatenate(v)
    return data


def save_checkpoint(path: Path, sim: Simulation, extra: dict | None = None) -> None:
    """Write the simulation's state (and `extra` metadata) to `path` (collective)."""
    comm, model, state = sim.comm, sim.model, sim.state
    data = gather_points(comm, model, state.history)
    if comm.rank == 0:
        meta = {"state": state.scalars(), "extra": extra or {}, "unknowns": [u.name for u in model.unknowns]}
        data["meta"] = np.array(json.dumps(meta))
        write_npz(path, data)
    comm.barrier()


def write_npz(path: Path, data: dict[str, np.ndarray]) -> None:
    """Write `data` to `path` through a temporary name: a crash never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **data)
    os.replace(tmp, path)


def read_npz(path: Path, comm, key: str = "--restart") -> dict[str, np.ndarray]:
    """An .npz file read by rank 0 and broadcast (InputError naming `key` when it is missing)."""
    data = None
    if comm.rank == 0:
        if not path.is_file():
            data = f"no checkpoint at {path}"
        else:
            with np.load(path) as f:
                data = {k: f[k] for k in f.files}
    data = comm.bcast(data, root=0)
    if isinstance(data, str):
        raise InputError(key, data)
    return data


def load_checkpoint(path: Path, sim: Simulation) -> dict:
    """Restore the simulation's state from `path`; returns the checkpoint's extra metadata."""
    comm, model = sim.comm, sim.model
    data = read_npz(path, comm)
    meta = json.loads(str(data["meta"]))
    if meta["unknowns"] != [u.name for u in model.unknowns]:
        raise InputError(
            "--restart", f"checkpoint holds {meta['unknowns']}, the model {[u.name for u in model.unknowns]}"
        )
    scalars = meta["state"]
    history_meta = scalars.pop("history")
    arrays = scatter_points(data, model, history_meta)
    history = [Point(h["t"], a, h["voltage"], h["current"]) for h, a in zip(history_meta, arrays, strict=True)]
    sim.state = StepperState(**scalars, history=history)
    sim.integrator.restore(history[-1].arrays)
    return meta["extra"]


def scatter_points(data: dict, model, points_meta: list[dict], name: str = "history") -> list[list[np.ndarray]]:
    """Each point's unknowns on this rank's nodes, from :func:`gather_points`'s arrays (any
    partition); `points_meta` one dict per point (``voltage``: the voltage of an old checkpoint)."""
    comm = model.cellmesh.mesh.comm
    arrays: list[list[np.ndarray]] = [[] for _ in points_meta]
    for k, u in enumerate(model.unknowns):
        if is_real(u.function_space):
            for i, h in enumerate(points_meta):
                value = _real_value(data, i, k, h, u is model.voltage, name)
                arrays[i].append(np.full(u.x.array.shape, value))
            continue
        saved = _keys(data[f"coords_{k}"])
        order = np.argsort(saved, order=("x", "y", "z"))
        mine = _keys(u.function_space.tabulate_dof_coordinates())
        where = np.searchsorted(saved[order], mine)
        where = np.minimum(where, len(order) - 1)
        found = saved[order][where] == mine
        if not comm.allreduce(bool(np.all(found))):
            raise InputError("--restart", f"the checkpoint's mesh does not match this run's mesh ({u.name})")
        index = order[where]
        for i in range(len(points_meta)):
            arrays[i].append(data[f"{name}_{i}_{k}"][index].reshape(-1))  # a vector field's rows, blocked
    return arrays


def _real_value(data: dict, i: int, k: int, point: dict, voltage: bool, name: str = "history") -> float:
    """A Real-space unknown's value at history point i. Checkpoints written before they were
    stored as scalars hold the voltage in the point's metadata only, and any other Real unknown
    as the gathered owned values (all copies of the one global value)."""
    real = "real" if name == "history" else f"{name}_real"
    if f"{real}_{i}_{k}" in data:
        return float(data[f"{real}_{i}_{k}"])
    if voltage:
        return float(point["voltage"])
    return float(data[f"{name}_{i}_{k}"][0])
