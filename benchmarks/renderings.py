"""Benchmark: the cost of the PNG renderings of a 3D composite cathode (``ssbfem.renderings``).

The composite of ``benchmarks/composite_scale.py`` (5 um particles at 60 vol%) at a given edge and
mesh size, P1, at its initial state: the time to set up the renderer (submeshes of the interface
and its forms; form compilation excluded by a warm-up on the smallest case), to evaluate the
facet means of the fields once (done at every field snapshot) and to gather and draw the PNGs of
one snapshot (done twice per run). Then matplotlib alone on a synthetic surface of N oriented
facets (spheres), to time the drawing of meshes larger than those built here.

Run: ``python benchmarks/renderings.py [edge_um:mesh_um ...]`` (default 15:0.6 15:0.4 20:0.4).
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from composite_scale import composite_cell
from mpi4py import MPI

from ssbfem.config import resolve
from ssbfem.renderings import Picture, Renderer, draw
from ssbfem.runner import run


class Timed(Renderer):
    """The renderer, timed: set-up and one evaluation of the facet means, then a second
    evaluation and the gathering and drawing of one snapshot."""

    def on_start(self, sim) -> None:
        Renderer.__init__(self, sim.model, self.directory)
        self.row: dict = {}
        self.row["unknowns"] = sum(
            u.function_space.dofmap.index_map.size_global * u.function_space.dofmap.index_map_bs
            for u in sim.model.unknowns
        )
        t = time.perf_counter()
        self.values()
        self.row["setup_s"] = time.perf_counter() - t

    def on_snapshot(self, sim, t: float) -> None:
        if "values_s" in self.row:
            return
        clock = time.perf_counter()
        values = self.values()
        self.row["values_s"] = time.perf_counter() - clock
        self.row["facets"] = self.comm.allreduce(len(values[0]))
        clock = time.perf_counter()
        self.render(t, values, "first")
        self.row["gather_and_draw_s"] = time.perf_counter() - clock

    def on_stop(self, sim, status: str) -> None:
        pass


def case(edge: float, size: float, directory: Path) -> dict:
    raw = {"cell": composite_cell(edge, size), "mesh": {"degree": 1}, "experiment": {"steps": ["Rest for 1 s"]}}
    timed = Timed.__new__(Timed)
    timed.directory = directory
    run(resolve(raw), None, MPI.COMM_WORLD, observers=[timed])
    return {"edge_um": edge, "mesh_um": size, **timed.row}


def spheres(n: int) -> np.ndarray:
    """About n triangles on 27 spheres (an octahedron refined), corners anticlockwise from outside."""
    per = max(n // 27, 8)
    k = max(int(np.sqrt(per / 2)), 2)
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, 2 * k + 1), np.linspace(1e-3, np.pi - 1e-3, k + 1))
    points = np.stack([np.sin(v) * np.cos(u), np.sin(v) * np.sin(u), np.cos(v)], axis=-1)
    quads = np.stack([points[:-1, :-1], points[1:, :-1], points[1:, 1:], points[:-1, 1:]], axis=2).reshape(-1, 4, 3)
    one = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    centres = np.stack(np.meshgrid(*[np.arange(3) * 2.5] * 3), axis=-1).reshape(-1, 1, 1, 3)
    return (one[None] + centres).reshape(-1, 3, 3)


def main() -> None:
    cases = [tuple(float(x) for x in a.split(":")) for a in sys.argv[1:]] or [(15.0, 0.6), (15.0, 0.4), (20.0, 0.4)]
    print(f"machine: {platform.node()} {platform.machine()}, python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        case(10.0, 1.0, Path(tmp))  # compiles the forms
        for edge, size in cases:
            row = case(edge, size, Path(tmp))
            print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        if MPI.COMM_WORLD.rank == 0:
            for n in (50_000, 100_000, 200_000):
                polygons = spheres(n)
                picture = Picture("s", "S (1)", polygons, polygons[:, 0, 2].copy())
                t = time.perf_counter()
                draw(picture, Path(tmp) / "s.png", "spheres")
                print(f"synthetic: facets={len(polygons)}, draw_s={time.perf_counter() - t:.3g}", flush=True)


if __name__ == "__main__":
    main()
