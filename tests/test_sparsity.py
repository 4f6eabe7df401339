"""The Jacobian's matrix stores exactly the couplings its integrals make (ssbfem.sparsity)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from conftest import random_constants, random_unknowns, thin_film, whole_forms
from mpi4py import MPI
from test_composite import COMPOSITE

from ssbfem._dolfinx import dolfinx
from ssbfem.config import resolve
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh
from ssbfem.solvers import create_solver

# A 2D stack with every optional block: meshed Li, both collectors, double layers with the
# displacement current, electronic leakage and the full energy balance.
EVERYTHING = {
    "dimension": 2,
    "negative_current_collector": {"material": "Cu", "thickness_um": 1.0},
    "negative": {"thickness_um": 2.0, "double_layer_F_m2": 0.1},
    "electrolyte": {"electronic_conductivity_S_m": 1e-8, "relative_permittivity": 50.0},
    "positive": {"double_layer_F_m2": 0.1},
    "positive_current_collector": {"material": "Pt", "thickness_um": 0.5},
}


def csr(matrix) -> scipy.sparse.csr_matrix:
    indptr, indices, values = matrix.getValuesCSR()
    return scipy.sparse.csr_matrix((values, indices, indptr), shape=matrix.getSize())


@pytest.mark.parametrize("cell", [EVERYTHING, COMPOSITE], ids=["thin-film-stack", "composite"])
def test_jacobian_pattern_is_that_of_its_integrals(cell):
    raw = thin_film(
        cell=cell,
        mesh={"degree": 1, "in_plane_elements": 2},
        thermal={"model": "full", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}},
    )
    raw["cell"].pop("nominal_capacity_mAh_cm2")
    raw["cell"]["positive"].update(density_kg_m3=5050.0, heat_capacity_J_kg_K=750.0)
    cfg = resolve(raw)
    model = CellModel(build_mesh(cfg, MPI.COMM_SELF), cfg["cell"], degree=1, thermal=cfg["thermal"])
    problem = create_solver(model, linear_solver="direct")
    # A generic state: every coupling the forms hold is then a nonzero number.
    rng = np.random.default_rng(1)
    random_unknowns(model, rng)
    random_constants(model, rng)
    dolfinx.fem.petsc.assign(model.unknowns, problem.x)
    problem.solver.computeJacobian(problem.x, problem.A)
    ours = csr(problem.A)
    reference = dolfinx.fem.petsc.assemble_matrix(whole_forms(model)[1], kind="mpi")
    reference.assemble()
    reference = csr(reference)
    # The same operator as DOLFINx's own allocation (to round-off: the mass matrices' weight is
    # applied to them by an AXPY, ssbfem.solvers.ConstantBlocks; the composite's interface is
    # summed point by point, ssbfem.fem.pointwise): no coupling is lost ...
    assert abs(ours - reference).max() <= 1e-13 * abs(reference).max()
    # ... in a pattern within DOLFINx's ...
    stored = lambda m: scipy.sparse.csr_matrix((np.ones(m.nnz), m.indices, m.indptr), shape=m.shape)
    assert (stored(ours) - stored(ours).multiply(stored(reference))).nnz == 0
    assert ours.nnz <= reference.nnz

    # ... and with no row of zeros: a row stores a few zeros per nonzero (dofs off a facet coupled
    # across it), where DOLFINx's allocation adds every interface dof to the row and column of each
    # space's first dof.
    def zeros_per_nonzero(m):
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        zeros = np.bincount(rows[m.data == 0.0], minlength=m.shape[0])
        return (zeros / (np.diff(m.indptr) - zeros)).max()

    assert zeros_per_nonzero(ours) < 10.0  # 3.2 and 4.0 here; DOLFINx's 6.8 and 302
