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


def save_checkpoint(path: Path, sim: Simulation, extra: dict | None = None) -> None:
    """Write the simulation's state (and `extra` metadata) to `path` (collective)."""
    comm, model, state = sim.comm, sim.model, sim.state
    data: dict[str, np.ndarray] = {}
    for k, u in enumerate(model.unknowns):
        space = u.function_space
        nodes, bs = space.dofmap.index_map.size_local, space.dofmap.index_map_bs
        owned = nodes * bs
        if is_real(space):  # the one owner's value, as a scalar per history point
            values = [comm.gather(p.arrays[k][:owned], root=0) for p in state.history]
            if comm.rank == 0:
                for i, v in enumerate(values):
                    data[f"real_{i}_{k}"] = np.asarray(np.concatenate(v)[0])
            continue
        coords = comm.gather(space.tabulate_dof_coordinates()[:nodes], root=0)
        shape = (nodes, bs) if bs > 1 else (nodes,)
        values = [comm.gather(p.arrays[k][:owned].reshape(shape), root=0) for p in state.history]
        if comm.rank == 0:
            data[f"coords_{k}"] = np.concatenate(coords)
            for i, v in enumerate(values):
                data[f"history_{i}_{k}"] = np.concatenate(v)
    if comm.rank == 0:
        meta = {"state": state.scalars(), "extra": extra or {}, "unknowns": [u.name for u in model.unknowns]}
        data["meta"] = np.array(json.dumps(meta))
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **data)
        os.replace(tmp, path)
    comm.barrier()


def load_checkpoint(path: Path, sim: Simulation) -> dict:
    """Restore the simulation's state from `path`; returns the checkpoint's extra metadata."""
    comm, model = sim.comm, sim.model
    data = None
    if comm.rank == 0:
        if not path.is_file():
            data = f"no checkpoint at {path}"
        else:
            with np.load(path) as f:
                data = {k: f[k] for k in f.files}
    data = comm.bcast(data, root=0)
    if isinstance(data, str):
        raise InputError("--restart", data)
    meta = json.loads(str(data["meta"]))
    if meta["unknowns"] != [u.name for u in model.unknowns]:
        raise InputError(
            "--restart", f"checkpoint holds {meta['unknowns']}, the model {[u.name for u in model.unknowns]}"
        )
    scalars = meta["state"]
    history_meta = scalars.pop("history")
    arrays: list[list[np.ndarray]] = [[] for _ in history_meta]
    for k, u in enumerate(model.unknowns):
        if is_real(u.function_space):
            for i, h in enumerate(history_meta):
                arrays[i].append(np.full(u.x.array.shape, _real_value(data, i, k, h, u is model.voltage)))
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
        for i in range(len(history_meta)):
            arrays[i].append(data[f"history_{i}_{k}"][index].reshape(-1))  # a vector field's rows, blocked
    history = [Point(h["t"], a, h["voltage"], h["current"]) for h, a in zip(history_meta, arrays, strict=True)]
    sim.state = StepperState(**scalars, history=history)
    sim.integrator.restore(history[-1].arrays)
    return meta["extra"]


def _real_value(data: dict, i: int, k: int, point: dict, voltage: bool) -> float:
    """A Real-space unknown's value at history point i. Checkpoints written before they were
    stored as scalars hold the voltage in the point's metadata only, and any other Real unknown
    as the gathered owned values (all copies of the one global value)."""
    if f"real_{i}_{k}" in data:
        return float(data[f"real_{i}_{k}"])
    if voltage:
        return float(point["voltage"])
    return float(data[f"history_{i}_{k}"][0])
