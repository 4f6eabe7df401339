"""The block Gauss-Seidel preconditioner against PETSc's multiplicative field split."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import forget_options, random_constants, random_unknowns

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.block_preconditioner import BlockGaussSeidel
from ssbfem.solvers import create_solver
from test_solvers import stack_model


def _preconditioner(model, pc_type: str, lean: bool | None = None) -> tuple:
    """A cell problem's Jacobian at a generic state and its iterative preset's preconditioner
    (each block by LU: the sweep is then a fixed, exactly reproducible operator; with `lean`
    given, by the preset's own solvers, GAMG but for the voltage, with every GAMG block lean or
    none)."""
    names = ("lithium", "voltage", "phi_e", "psi_pos", "psi_neg")
    options = {f"fieldsplit_{name}_pc_type": "lu" for name in names} if lean is None else {}
    if pc_type == "fieldsplit":
        options["pc_type"] = "fieldsplit"
    problem = create_solver(model, options, linear_solver="iterative")
    rng = np.random.default_rng(5)
    random_unknowns(model, rng)
    random_constants(model, rng)
    dolfinx.fem.petsc.assign(model.unknowns, problem.x)
    problem.solver.computeJacobian(problem.x, problem.A)
    ksp = problem.solver.getKSP()
    ksp.setOperators(problem.A, problem.A)
    pc = ksp.getPC()
    if lean is not None:
        context = pc.getPythonContext()
        context.keep_lean(set(context.names) - {"voltage"} if lean else set())
    pc.setUp()
    return problem, pc


@pytest.mark.mpi
def test_block_gauss_seidel_is_the_multiplicative_field_split():
    """Applied to the same vector, the preset's preconditioner and PCFIELDSPLIT's multiplicative
    type (the same blocks, each solved by LU) agree to round-off; the preset keeps, beside the
    diagonal blocks, only the couplings to earlier blocks: fewer entries than the matrix."""
    model = stack_model()  # a 2D cell with meshed Li, both collectors and double layers
    ours, pc_ours = _preconditioner(model, "python")
    theirs, pc_theirs = _preconditioner(model, "fieldsplit")
    context = pc_ours.getPythonContext()
    assert isinstance(context, BlockGaussSeidel) and pc_theirs.getType() == "fieldsplit"
    assert context.names[0] == "lithium" and len(context.names) >= 4
    x = ours.x.duplicate()
    x.setRandom(PETSc.Random().create(x.comm))
    y_ours, y_theirs = x.duplicate(), x.duplicate()
    pc_ours.apply(x, y_ours)
    pc_theirs.apply(x, y_theirs)
    y_theirs.axpy(-1.0, y_ours)
    assert y_theirs.norm() <= 1e-10 * y_ours.norm()
    kept = sum(m.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)["nz_used"] for m in context._lower if m is not None)
    assert 0 < kept < 0.5 * ours.A.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)["nz_used"]
    for obj in (x, y_ours, y_theirs):
        obj.destroy()
    for problem in (ours, theirs):
        forget_options(problem)


@pytest.mark.mpi
def test_set_up_only_keeps_the_other_blocks_as_they_were():
    """After the matrix is doubled: set up whole, the sweep halves its output; keeping every
    block, it is unchanged to the bit; setting up the lithium block only, the lithium's part
    (the sweep's first block) halves and the others do not."""
    model = stack_model()
    problem, pc = _preconditioner(model, "python")
    context = pc.getPythonContext()
    lithium = context.index_sets[context.names.index("lithium")]
    x = problem.x.duplicate()
    x.setRandom(PETSc.Random().create(x.comm))
    before = x.duplicate()
    pc.apply(x, before)

    def applied_to_doubled_matrix(refresh: set[str] | None) -> PETSc.Vec:
        problem.A.scale(2.0)  # a new matrix state: PETSc calls the set-up
        context.set_up_only(refresh)
        pc.setUp()
        y = x.duplicate()
        pc.apply(x, y)
        problem.A.scale(0.5)
        context.set_up_only(None)
        pc.setUp()
        return y

    kept_all, lithium_only, whole = (applied_to_doubled_matrix(r) for r in (set(), {"lithium"}, None))
    kept_all.axpy(-1.0, before)
    assert kept_all.norm() == 0.0
    whole.axpy(-0.5, before)
    assert whole.norm() <= 1e-12 * before.norm()
    li_new, li_before = lithium_only.getSubVector(lithium), before.getSubVector(lithium)
    assert np.allclose(li_new.array, 0.5 * li_before.array, rtol=1e-12, atol=0.0)
    lithium_only.restoreSubVector(lithium, li_new)
    before.restoreSubVector(lithium, li_before)
    lithium_only.axpy(-0.5, before)
    assert lithium_only.norm() > 1e-3 * before.norm()  # the kept blocks saw the old matrix
    forget_options(problem)


@pytest.mark.mpi
def test_set_up_only_with_couplings_takes_the_kept_blocks_couplings_again():
    """After the matrix is doubled and the lithium block (the sweep's first) alone set up again,
    the lithium's part of the sweep halves; the kept blocks' couplings to the blocks before them
    are the doubled matrix's with `couplings`, the old matrix's without."""
    model = stack_model()
    problem, pc = _preconditioner(model, "python")
    context = pc.getPythonContext()
    lithium = context.index_sets[0]
    x = problem.x.duplicate()
    x.setRandom(PETSc.Random().create(x.comm))
    before = x.duplicate()
    pc.apply(x, before)
    norms = [m.norm() if m is not None else 0.0 for m in context._lower]
    assert max(norms) > 0.0

    for couplings, factor in ((True, 2.0), (False, 1.0)):
        problem.A.scale(2.0)
        context.set_up_only({"lithium"}, couplings)
        pc.setUp()
        y = x.duplicate()
        pc.apply(x, y)
        part, part_before = y.getSubVector(lithium), before.getSubVector(lithium)
        assert np.allclose(part.array, 0.5 * part_before.array, rtol=1e-12, atol=0.0)
        y.restoreSubVector(lithium, part)
        before.restoreSubVector(lithium, part_before)
        for m, norm in zip(context._lower, norms, strict=True):
            if m is not None:
                assert m.norm() == pytest.approx(factor * norm, rel=1e-12)
        problem.A.scale(0.5)
        context.set_up_only(None)
        pc.setUp()
        y.destroy()
    forget_options(problem)


@pytest.mark.mpi
def test_lean_blocks_are_the_same_operator_after_a_new_set_up():
    """Blocks whose multigrid frees its Galerkin product data after each set-up (GAMG, its
    interpolation reused) give the sweep of blocks that keep it, to round-off: at the first
    set-up and after the matrix has changed and every block is set up again (the products then
    formed from the start)."""
    applied = []
    for lean in (False, True):
        problem, pc = _preconditioner(stack_model(), "python", lean)
        context = pc.getPythonContext()
        multigrid = [s.getPC() for s in context._solvers if s.getPC().getType() == "gamg"]
        assert max(m.getMGLevels() for m in multigrid) >= 2  # a coarse operator to release
        x = problem.x.duplicate()
        x.set(1.0)
        outputs = [x.duplicate(), x.duplicate()]
        pc.apply(x, outputs[0])
        problem.A.scale(3.0)  # a new matrix state: PETSc calls the set-up
        context.set_up_only(None)
        pc.setUp()
        pc.apply(x, outputs[1])
        applied.append(outputs)
        forget_options(problem)
    for kept, lean in zip(*applied, strict=True):
        lean.axpy(-1.0, kept)
        assert lean.norm() <= 1e-12 * kept.norm()
