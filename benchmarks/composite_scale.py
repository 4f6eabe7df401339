"""Benchmark: how the composite-cathode pipeline scales with the number of particles.

Cubic composite boxes of growing edge filled with 5 um particles (10 % overlaps) at 60 vol%: the
time to pack, to mesh (Gmsh OpenCASCADE, 0.6 um at the particle surfaces, 1.2 um away), to
measure percolation and the effective ionic and electronic conductivities, to set up the cell
model (P1) and to assemble one Jacobian of its Newton system.

Run: ``python benchmarks/composite_scale.py [edge_um ...]`` (default 15 20 25).
"""

from __future__ import annotations

import platform
import sys
import time

from mpi4py import MPI

from ssbfem.config import resolve
from ssbfem.geometry import tags
from ssbfem.geometry.io import mesh_from_model
from ssbfem.microstructure import effective_conductivity, utilisations
from ssbfem.model import CellModel
from ssbfem.runner import mesh_builder
from ssbfem.solvers import create_solver

CELL = {
    "architecture": "composite",
    "dimension": 3,
    "negative": {"material": "Li", "exchange_current_A_m2": 5.7503, "transfer_coefficient": 0.5},
    "electrolyte": {"material": "LLZO", "thickness_um": 5.0},
    "positive": {
        "material": "LiCoO2",
        "thickness_um": 20.0,
        "initial_stoichiometry": 0.51,
        "ocp": "Dualfoil1998",
        "exchange_current_A_m2": 4.70148,
        "transfer_coefficient": 0.5,
        "electronic_conductivity_S_m": 1.0e2,
        "max_concentration_mol_m3": 3.22e4,
        "diffusivity_m2_s": 5.387e-15,
    },
    "positive_current_collector": {"material": "Al", "thickness_um": 2.0},
}


def composite_cell(edge: float, size: float) -> dict:
    """CELL with a cube of `edge` um of 5 um particles (60 vol%), meshed at `size` um."""
    cell = {**CELL, "positive": {**CELL["positive"], "thickness_um": edge}}
    cell["composite"] = {
        "length_um": edge,
        "width_um": edge,
        "volume_fraction": 0.6,
        "particle_diameter_um": 5.0,
        "seed": 0,
        "mesh_size_um": size,
        "mesh_size_max_um": 2 * size,
    }
    return cell


def case(edge: float) -> dict:
    row: dict = {"edge_um": edge}
    cell = composite_cell(edge, 0.6)
    cfg = resolve({"cell": cell, "experiment": {"steps": ["Rest for 1 s"]}})
    t = time.perf_counter()
    build = mesh_builder(cfg)  # packs the particles
    row["pack_s"] = time.perf_counter() - t
    stats: dict = {}
    t = time.perf_counter()
    cm = mesh_from_model(MPI.COMM_WORLD, lambda: stats.update(build()))
    row["mesh_s"] = time.perf_counter() - t
    row["particles"] = stats["particles"]
    row["cells"] = cm.mesh.topology.index_map(3).size_global
    row["fraction_mesh"] = stats["volume_fraction"]
    row["fraction_exact"] = stats["geometry_volume_fraction"]
    t = time.perf_counter()
    row.update(utilisations(cm))
    slab = (5.0, 5.0 + edge)
    ionic = effective_conductivity(cm, (tags.ELECTROLYTE,), bounds=slab)
    electronic = effective_conductivity(cm, (tags.POSITIVE,), bounds=slab)
    row["microstructure_s"] = time.perf_counter() - t
    row["ionic_sigma_rel"], row["ionic_bruggeman"] = ionic["relative_conductivity"], ionic["bruggeman"]
    row["electronic_sigma_rel"] = electronic["relative_conductivity"]
    row["electronic_bruggeman"] = electronic["bruggeman"]
    t = time.perf_counter()
    model = CellModel(cm, cfg["cell"], degree=1)
    model.set_initial_state()
    problem = create_solver(model)
    row["model_setup_s"] = time.perf_counter() - t
    t = time.perf_counter()
    snes = problem.solver
    x = problem.x
    J, P = snes.getJacobian()[0], snes.getJacobian()[1]
    snes.computeJacobian(x, J, P)
    row["jacobian_s"] = time.perf_counter() - t
    row["dofs"] = x.getSize()
    return row


def main() -> None:
    edges = [float(a) for a in sys.argv[1:]] or [15.0, 20.0, 25.0]
    print(f"machine: {platform.node()} {platform.machine()}, python {platform.python_version()}")
    for edge in edges:
        row = case(edge)
        print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
