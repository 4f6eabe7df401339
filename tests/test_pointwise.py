"""Interface integrals assembled point by point (ssbfem.fem.pointwise): the residual and Jacobian
are DOLFINx's assembly of the whole forms, block by block, to round-off of the interface's own
entries, on a 3D composite cathode at a generic state: P1 and P2, isothermal and with the full
thermal model, the facets evaluated all at once and in many chunks; under mpiexec -n 2 too."""

from __future__ import annotations

import numpy as np
import pytest
import ufl
from conftest import forget_options, random_constants, random_unknowns, thin_film
from mpi4py import MPI
from test_composite import COMPOSITE

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.config import resolve
from ssbfem.fem import pointwise
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh
from ssbfem.solvers import (
    _assemble_blocks,
    _block_jacobian,
    _jacobian_blocks,
    block_offsets,
    create_solver,
    owned_blocks,
)

THERMAL = {"model": "full", "boundaries": {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}}


def composite_model(degree: int, thermal: dict | None) -> CellModel:
    raw = thin_film(cell=COMPOSITE, mesh={"degree": degree}, **({"thermal": thermal} if thermal else {}))
    del raw["cell"]["nominal_capacity_mAh_cm2"]
    if thermal:
        raw["cell"]["positive"].update(density_kg_m3=5050.0, heat_capacity_J_kg_K=750.0)
    cfg = resolve(raw)
    return CellModel(build_mesh(cfg, MPI.COMM_WORLD), cfg["cell"], degree=degree, thermal=cfg["thermal"])


def interface_only(forms: list) -> list:
    """Each residual row's interior-facet integrals (None where a row has none)."""
    rows = []
    for form in forms:
        kept = [i for i in form.integrals() if i.integral_type() == "interior_facet"]
        rows.append(ufl.Form(kept) if kept else None)
    return rows


def assembled_residual(model, forms: list) -> PETSc.Vec:
    compiled = dolfinx.fem.form(forms, entity_maps=model.entity_maps)
    spaces = [u.function_space for u in model.unknowns]
    vec = dolfinx.fem.petsc.create_vector(spaces, kind="mpi")
    with vec.localForm() as local:
        local.set(0.0)
    for form, (start, stop, ghost_start, ghost_stop) in zip(compiled, block_offsets(model), strict=True):
        if form is None:
            continue
        block = dolfinx.fem.assemble_vector(form).array
        with vec.localForm() as local:
            local.array_w[start:stop] += block[: stop - start]
            local.array_w[ghost_start:ghost_stop] += block[stop - start :]
    vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    return vec


def assembled_jacobian(model, problem, forms: list) -> PETSc.Mat:
    compiled = dolfinx.fem.form(_block_jacobian(forms, model.unknowns), entity_maps=model.entity_maps)
    mat = problem.A.duplicate()
    mat.zeroEntries()
    _assemble_blocks(mat, _jacobian_blocks(compiled, problem.J))
    mat.assemble()
    return mat


@pytest.mark.mpi
@pytest.mark.parametrize(
    ("degree", "thermal", "chunk"), [(1, None, None), (2, None, None), (1, THERMAL, None), (1, None, 37)]
)
def test_interface_point_by_point_is_dolfinx_assembly(degree, thermal, chunk, monkeypatch):
    if chunk is not None:  # facets evaluated 37 at a time: many chunks, the last one short
        monkeypatch.setattr(pointwise, "_CHUNK", chunk)
    model = composite_model(degree, thermal)
    problem = create_solver(model, linear_solver="iterative")
    assert problem.pointwise is not None
    if chunk is not None:  # on every rank (a failed assertion on one alone would hang the other)
        facets = MPI.COMM_WORLD.allreduce(max(group.size for group in problem.pointwise._groups), op=MPI.MIN)
        assert facets > 5 * chunk
    names = [u.name for u in model.unknowns]
    taken = {names[row] for row in problem.pointwise.rows}
    assert {"phi_e", "psi_pos", "theta"} <= taken
    rng = np.random.default_rng(2)
    random_unknowns(model, rng)
    random_constants(model, rng)
    for u in model.unknowns:
        u.x.scatter_forward()

    start = problem.A.getOwnershipRange()[0]
    owned = owned_blocks(model)
    rows = {
        u.name: PETSc.IS().createGeneral(np.arange(start + a, start + b, dtype=PETSc.IntType), comm=problem.A.comm)
        for u in model.unknowns
        for a, b in [owned[id(u)]]
    }
    comm = model.cellmesh.mesh.comm

    # The residual, row by row, against the size of the row's interface integrals.
    ours = problem.assemble_residual()
    whole = assembled_residual(model, model.residuals)
    interface = assembled_residual(model, interface_only(model.residuals))
    for name, index_set in rows.items():
        a, b, c = (v.getSubVector(index_set) for v in (ours, whole, interface))
        difference = comm.allreduce(np.abs(a.array_r - b.array_r).max(initial=0.0), op=MPI.MAX)
        scale = comm.allreduce(np.abs(c.array_r).max(initial=0.0), op=MPI.MAX)
        if scale == 0.0:  # no interface integral in this row
            scale = comm.allreduce(np.abs(b.array_r).max(initial=0.0), op=MPI.MAX)
        assert difference <= 1e-12 * scale, name
        for v, sub in zip((ours, whole, interface), (a, b, c), strict=True):
            v.restoreSubVector(index_set, sub)

    # The Jacobian, block by block, against the size of the block's interface integrals.
    problem.assemble_jacobian(problem.A)
    whole_J = assembled_jacobian(model, problem, model.residuals)
    interface_J = assembled_jacobian(model, problem, interface_only(model.residuals))
    checked = 0
    for r in names:
        for c in names:
            ours_block = problem.A.createSubMatrix(rows[r], rows[c])
            whole_block = whole_J.createSubMatrix(rows[r], rows[c])
            scale = interface_J.createSubMatrix(rows[r], rows[c]).norm() or whole_block.norm()
            ours_block.axpy(-1.0, whole_block)
            assert ours_block.norm() <= 1e-12 * scale, f"{r} x {c}"
            checked += scale > 0.0
    assert checked >= 12
    for obj in (ours, whole, interface, whole_J, interface_J, *rows.values()):
        obj.destroy()
    forget_options(problem)  # never used: no solve here
