"""Benchmark: 3D elasticity with CG + GAMG (the iterative preset of solve_elasticity) at scale.

A 20 um cube of LLZO with a spherical LiCoO2 inclusion (radius 6 um, centred) cooled by 725 K
from sintering (eigenstrains alpha dT of each; materials as in shared/reference/materials.md:
LLZO E = 150 GPa, nu = 0.26, alpha = 1.55e-5/K; LiCoO2 E = 375 GPa, nu = 0.2, alpha = 1.25e-5/K),
clamped on the face x = 0. P1 hexahedra, n and 2n cells per edge; CG with GAMG and the rigid-body
near-null space, rtol 1e-8. Each size runs in its own process so that its peak memory is its own.
Target: the iterations grow by at most 30 % from the coarse to the refined mesh (>= 1M dofs).

Run: ``python benchmarks/elasticity_gamg.py [n]`` (default n = 35: 140k and 1.07M dofs).
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time

import numpy as np
from mpi4py import MPI

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.geometry import tags
from ssbfem.geometry.io import CellMesh
from ssbfem.mechanics import Region, solve_elasticity

EDGE_UM, INCLUSION_UM, COOLING_K = 20.0, 6.0, -725.0
REGIONS = {
    tags.ELECTROLYTE: Region(150e9, 0.26, 1.55e-5 * COOLING_K),
    tags.POSITIVE: Region(375e9, 0.2, 1.25e-5 * COOLING_K),
}


def box(n: int) -> CellMesh:
    """The cube with the two regions and the clamped face (negative terminal, x = 0)."""
    mesh = dolfinx.mesh
    msh = mesh.create_box(MPI.COMM_WORLD, [[0.0] * 3, [EDGE_UM] * 3], [n] * 3, cell_type=mesh.CellType.hexahedron)
    tdim = msh.topology.dim
    cells = np.arange(msh.topology.index_map(tdim).size_local, dtype=np.int32)
    centres = mesh.compute_midpoints(msh, tdim, cells)
    inside = np.linalg.norm(centres - EDGE_UM / 2, axis=1) < INCLUSION_UM
    values = np.where(inside, 2, 1).astype(np.int32)
    facets = mesh.locate_entities_boundary(msh, tdim - 1, lambda x: np.isclose(x[0], 0.0))
    msh.topology.create_connectivity(tdim - 1, tdim)
    return CellMesh(
        mesh=msh,
        cell_tags=mesh.meshtags(msh, tdim, cells, values),
        facet_tags=mesh.meshtags(msh, tdim - 1, facets, np.full(len(facets), 1, dtype=np.int32)),
        cell_names={tags.ELECTROLYTE: 1, tags.POSITIVE: 2},
        facet_names={tags.NEGATIVE_TERMINAL: 1},
    )


def measure(n: int) -> dict:
    """Solve once on n^3 cells; dofs, iterations, times (s) and peak memory (bytes per dof)."""
    PETSc.Log.begin()
    start = time.perf_counter()
    cm = box(n)
    meshed, cpu = time.perf_counter(), time.process_time()
    state = solve_elasticity(
        cm, REGIONS, clamped=(tags.NEGATIVE_TERMINAL,), petsc_options={"pc_type": "gamg", "ksp_rtol": 1e-8}
    )
    total, cpu = time.perf_counter() - meshed, time.process_time() - cpu
    setup = PETSc.Log.Event("PCSetUp").getPerfInfo()["time"]
    V = state.displacement.function_space
    dofs = V.dofmap.index_map.size_global * V.dofmap.index_map_bs
    comm = cm.mesh.comm
    peak = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # Linux: KiB
    sigma = state.stress[tags.POSITIVE]
    return {
        "n": n,
        "dofs": dofs,
        "iterations": state.iterations,
        "mesh_s": meshed - start,
        "solve_elasticity_s": total,
        "solve_elasticity_cpu_s": cpu,
        "pc_setup_s": setup,
        "iterations_s": PETSc.Log.Event("KSPSolve").getPerfInfo()["time"],
        "peak_memory_bytes": peak,
        "bytes_per_dof": peak / dofs,
        "inclusion_mean_hydrostatic_Pa": state.mean(tags.POSITIVE, (sigma[0, 0] + sigma[1, 1] + sigma[2, 2]) / 3),
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 35
    print(f"machine: {platform.node()} {platform.machine()}, python {platform.python_version()}")
    rows = []
    for size in (n, 2 * n):
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(
            f"n={r['n']:3d} dofs={r['dofs']:9d} iterations={r['iterations']:3d} mesh={r['mesh_s']:.1f}s "
            f"solve_elasticity={r['solve_elasticity_s']:.1f}s wall, {r['solve_elasticity_cpu_s']:.1f}s CPU "
            f"(PC setup {r['pc_setup_s']:.1f}s, "
            f"CG iterations {r['iterations_s']:.1f}s) peak={r['peak_memory_bytes'] / 2**30:.2f} GiB "
            f"({r['bytes_per_dof']:.0f} B/dof) inclusion hydrostatic={r['inclusion_mean_hydrostatic_Pa'] / 1e6:.2f} MPa"
        )
    growth = rows[1]["iterations"] / rows[0]["iterations"] - 1
    print(f"iteration growth on refinement: {100 * growth:+.0f} % (target <= +30 %)")


if __name__ == "__main__":
    main()
