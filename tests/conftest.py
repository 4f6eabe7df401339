"""Shared helpers: configs built in code, and runs kept in memory."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "demos" / "configs" / "thin_film.toml"

# The Raijmakers 2020 thin-film cell with the reference values (demos/configs/thin_film.toml).
THIN_FILM = {
    "cell": {
        "dimension": 1,
        "area_cm2": 3.36,
        "temperature_K": 298.15,
        "nominal_capacity_mAh_cm2": 0.208333,
        "negative": {"material": "Li", "exchange_current_A_m2": 5.7503, "transfer_coefficient": 0.5},
        "electrolyte": {"material": "LiPON", "thickness_um": 3.62, "conductivity_S_m": 1.10896e-4},
        "positive": {
            "material": "LiCoO2",
            "thickness_um": 8.08,
            "max_concentration_mol_m3": 3.22e4,
            "initial_stoichiometry": 0.51,
            "diffusivity_m2_s": 5.387e-15,
            "ocp": "Dualfoil1998",
            "exchange_current_A_m2": 4.70148,
            "transfer_coefficient": 0.5,
            "electronic_conductivity_S_m": 1.0e4,
        },
    },
    "experiment": {"steps": ["Discharge at 2.08333 A/m2 until 3.0 V"]},
    "output": {"fields": False, "plot": False},
}


def thin_film(**sections) -> dict:
    """The reference thin-film config with nested overrides, e.g. thin_film(cell={"dimension": 2})."""
    raw = copy.deepcopy(THIN_FILM)
    merge(raw, sections)
    return raw


def merge(base: dict, extra: dict) -> None:
    """Merge `extra` into `base`, nested tables key by key."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


def simulate(raw: dict, comm=None):
    """Resolve and run a config in memory; returns the run result."""
    from mpi4py import MPI

    from ssbfem.config import resolve
    from ssbfem.runner import run

    return run(resolve(raw), None, comm or MPI.COMM_WORLD)


def interpolate_voltage(result, times: np.ndarray) -> np.ndarray:
    s = result.series
    return np.interp(times, s.column("time_s"), s.column("voltage_V"))


@pytest.fixture(scope="session")
def reference_discharge():
    """The default 1C discharge in 1D, shared by the tests that compare against it."""
    return simulate(thin_film())


def random_unknowns(model, rng: np.random.Generator) -> None:
    """The model's unknowns at random values (stoichiometry in 0.5-0.9, potentials in -0.2-0.2 V):
    a generic state, where every coupling the forms hold is a nonzero number."""
    for u in model.unknowns:
        u.x.array[:] = rng.uniform(0.5, 0.9, u.x.array.size) + (0.0 if u is model.theta else -0.7)


def random_constants(model, rng: np.random.Generator) -> None:
    """The control mode, BDF weight and 1/dt Constants at random values in 0.5-1."""
    for const in (*model.mode, *model.bdf, model.inv_dt):
        const.value = rng.uniform(0.5, 1.0)


def forget_options(problem) -> None:
    """Remove a solver problem's options from PETSc's database: options a test set but never
    used (no solve) would be reported as left over, and the next problem's prefix differs."""
    from ssbfem._dolfinx import PETSc  # here: the other helpers need no DOLFINx

    db, prefix = PETSc.Options(), problem.solver.getOptionsPrefix()
    for name in [name for name in db.getAll() if name.startswith(prefix)]:
        db.delValue(name)


def whole_forms(model) -> tuple[list, list]:
    """The model's residual and Jacobian as DOLFINx compiles the whole forms (the reference for a
    solver that assembles some integrals its own way, ssbfem.fem.pointwise)."""
    from ssbfem._dolfinx import dolfinx

    residual = dolfinx.fem.form(model.residuals, entity_maps=model.entity_maps)
    jacobian = dolfinx.fem.forms.derivative_block(model.residuals, model.unknowns)
    return residual, dolfinx.fem.form(jacobian, entity_maps=model.entity_maps)
