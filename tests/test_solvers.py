"""The SNES set-up (ssbfem.solvers): user PETSc options reach PETSc as written, and the residual
callback of a cell without Dirichlet conditions assembles DOLFINx's residual."""

from __future__ import annotations

import numpy as np
import pytest
import ufl
from conftest import forget_options, random_constants, random_unknowns, thin_film, whole_forms
from mpi4py import MPI

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.config import resolve
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh
from ssbfem.solvers import block_offsets, create_solver

# A 2D cell with meshed Li, both collectors and double layers: seven unknowns, no Dirichlet condition.
STACK = {
    "dimension": 2,
    "negative_current_collector": {"material": "Cu", "thickness_um": 1.0},
    "negative": {"thickness_um": 2.0, "double_layer_F_m2": 0.1},
    "positive": {"double_layer_F_m2": 0.1},
    "positive_current_collector": {"material": "Pt", "thickness_um": 0.5},
}


def stack_model(comm=MPI.COMM_WORLD) -> CellModel:
    cfg = resolve(thin_film(cell=STACK, mesh={"degree": 1, "in_plane_elements": 2}))
    return CellModel(build_mesh(cfg, comm), cfg["cell"], degree=1, thermal=cfg["thermal"])


@pytest.fixture(scope="module")
def model() -> CellModel:
    return stack_model()


def test_an_option_of_value_one_is_a_number_not_a_flag(model):
    """1 == True in Python: snes_max_it = 1 must still reach PETSc as "1" (not as a bare flag)."""
    problem = create_solver(model, {"snes_max_it": 1}, linear_solver="direct")
    assert problem.solver.getTolerances()[3] == 1
    forget_options(problem)  # never used: no solve here
    # The field-split options stay in the options database (the sub-solvers read them at set-up).
    split = "fieldsplit_lithium_mg_levels_ksp_max_it"
    problem = create_solver(model, {split: 1}, linear_solver="iterative")
    assert PETSc.Options(problem.solver.getOptionsPrefix()).getString(split) == "1"
    forget_options(problem)  # never used: no solve here


@pytest.mark.mpi
def test_residual_callback_assembles_dolfinx_residual(model):
    """The lifting-free residual callback gives DOLFINx's assemble_residual (owned and ghost
    entries; under mpiexec -n 2 too) at a generic state."""
    problem = create_solver(model, linear_solver="direct")
    assert not model.bcs
    rng = np.random.default_rng(3)
    random_unknowns(model, rng)
    random_constants(model, rng)
    x = problem.x.duplicate()
    dolfinx.fem.petsc.assign(model.unknowns, x)
    ours = problem.b.duplicate()
    problem.solver.computeFunction(x, ours)
    reference = dolfinx.fem.petsc.create_vector([u.function_space for u in model.unknowns], kind="mpi")
    dolfinx.fem.petsc.assemble_residual(
        None, x, reference, model.unknowns, *whole_forms(model), [], _blocks=reference.getAttr("_blocks")
    )
    with ours.localForm() as a, reference.localForm() as b:
        scale = np.abs(b.array_r).max()
        assert scale > 0.0
        assert np.abs(a.array_r - b.array_r).max() <= 1e-13 * scale
    # The matrix the SNES assembles into is the problem's A (the one with the integrals' sparsity).
    assert problem.solver.getJacobian()[0].handle == problem.A.handle
    for vec in (x, ours, reference):
        vec.destroy()
    forget_options(problem)  # never used: no solve here


@pytest.mark.mpi
def test_affine_integrals_by_product_within_a_solve(model):
    """Within a solve only the unknowns change: the residual's affine integrals (the conductors'
    Ohm's law, the lithium's diffusion and time derivative) come from the Jacobian's constant
    integrals times the change of the unknowns since the solve's first residual, where Newton stops
    on its error estimate. At a new state the residual is DOLFINx's assembly of the whole forms to
    round-off (1 and 2 ranks); after a Constant changes (the time step) the first residual is
    integrated again."""
    problem = create_solver(model, linear_solver="direct")
    callback = problem.residual_callback
    assert any(form is not None for form in callback._affine)
    integrated = []  # per assembly into a local array: whether it integrated the affine forms
    add_local = callback._add_local
    callback._add_local = lambda vec, forms, *args, **kw: (
        integrated.append(forms is callback._affine),
        add_local(vec, forms, *args, **kw),
    )
    rng = np.random.default_rng(11)
    random_constants(model, rng)
    x, b = problem.x.duplicate(), problem.b.duplicate()
    reference = dolfinx.fem.petsc.create_vector([u.function_space for u in model.unknowns], kind="mpi")

    def difference_from_dolfinx() -> float:
        random_unknowns(model, rng)
        dolfinx.fem.petsc.assign(model.unknowns, x)
        integrated.clear()
        problem.convergence.start()  # the first residual of a solve: always assembled
        problem.solver.computeFunction(x, b)
        with reference.localForm() as local:
            local.set(0.0)
        dolfinx.fem.petsc.assemble_residual(
            None, x, reference, model.unknowns, *whole_forms(model), [], _blocks=reference.getAttr("_blocks")
        )
        worst = 0.0  # each unknown's rows against their own scale
        for start, stop, _, _ in block_offsets(model):
            ours, theirs = b.getArray(readonly=True)[start:stop], reference.getArray(readonly=True)[start:stop]
            scale = MPI.COMM_WORLD.allreduce(np.abs(theirs).max(initial=0.0), op=MPI.MAX)
            error = MPI.COMM_WORLD.allreduce(np.abs(ours - theirs).max(initial=0.0), op=MPI.MAX)
            worst = max(worst, error / scale if scale else error)
        return worst

    random_unknowns(model, rng)
    dolfinx.fem.petsc.assign(model.unknowns, x)
    problem.solver.computeJacobian(x, problem.A)  # the constant integrals C = K + s M
    callback.new_state()
    tolerance = 1e-12
    # Newton to the residual test: integrated each time
    assert difference_from_dolfinx() <= tolerance and integrated == [False, True]
    assert difference_from_dolfinx() <= tolerance and integrated == [False, True]
    problem.convergence.fraction = 0.1  # Newton stopped on its error estimate, as the integrator sets it
    assert difference_from_dolfinx() <= tolerance and integrated == [False, True]  # c taken
    assert difference_from_dolfinx() <= tolerance and integrated == [False]  # C u + c
    model.inv_dt.value = 10.0 * model.inv_dt.value
    assert difference_from_dolfinx() <= tolerance and integrated == [False, True]  # s changed: c again
    assert difference_from_dolfinx() <= tolerance and integrated == [False]
    for vec in (x, b, reference):
        vec.destroy()
    forget_options(problem)  # never used: no solve here


def test_jacobian_callback_assembles_when_told(model):
    """The Jacobian callback keeps its matrix (and with it the factorisation) in "keep" mode,
    assembles once more in "once" mode, and what it assembles is DOLFINx's Jacobian."""
    problem = create_solver(model, linear_solver="direct")
    callback = problem.jacobian_callback
    assert callback.factorised and callback.mode == "newton"
    rng = np.random.default_rng(5)

    def random_state():
        random_unknowns(model, rng)
        x = problem.x.duplicate()
        dolfinx.fem.petsc.assign(model.unknowns, x)
        return x

    random_constants(model, rng)
    problem.solver.computeJacobian(random_state(), problem.A)
    first = problem.A.copy()
    callback.mode = "keep"
    problem.solver.computeJacobian(random_state(), problem.A)
    assert callback.assemblies == 1
    difference = problem.A.copy()
    difference.axpy(-1.0, first)
    assert difference.norm() == 0.0
    callback.mode = "once"
    x = random_state()
    problem.solver.computeJacobian(x, problem.A)
    assert callback.assemblies == 2 and callback.mode == "keep"
    reference = dolfinx.fem.petsc.assemble_matrix(whole_forms(model)[1], kind="mpi")
    reference.assemble()
    reference.axpy(-1.0, problem.A)
    assert reference.norm() <= 1e-13 * problem.A.norm()
    for mat in (first, difference, reference, x):
        mat.destroy()
    forget_options(problem)  # never used: no solve here
    iterative = create_solver(model, linear_solver="iterative")
    assert not iterative.jacobian_callback.factorised  # its Newton iterations stay Newton's
    forget_options(iterative)  # never used: no solve here


@pytest.mark.mpi
def test_constant_integrals_are_reused_until_a_constant_changes(model):
    """The integrals that hold no function (Laplacians, the mass matrices) are assembled once and
    copied into the Jacobian; at a new state, after the time step changed (no integration: K + s
    M) and after another Constant changed (assembled again), the Jacobian is DOLFINx's assembly of
    the whole forms to round-off."""
    problem = create_solver(model, linear_solver="direct")
    constant = problem.jacobian_callback.constant
    assert constant is not None and constant.assemblies == 0
    rng = np.random.default_rng(7)
    random_constants(model, rng)

    def difference_from_dolfinx() -> float:
        random_unknowns(model, rng)
        x = problem.x.duplicate()
        dolfinx.fem.petsc.assign(model.unknowns, x)
        problem.solver.computeJacobian(x, problem.A)
        reference = dolfinx.fem.petsc.assemble_matrix(whole_forms(model)[1], kind="mpi")
        reference.assemble()
        reference.axpy(-1.0, problem.A)
        relative = reference.norm() / problem.A.norm()
        for obj in (x, reference):
            obj.destroy()
        return relative

    tolerance = 1e-14
    assert difference_from_dolfinx() <= tolerance
    assert difference_from_dolfinx() <= tolerance  # a new state: the constant part is reused
    assert constant.assemblies == 1 and constant.affine
    model.inv_dt.value = 10.0 * model.inv_dt.value  # the mass matrices' weight changes
    model.bdf[0].value = 1.5
    assert difference_from_dolfinx() <= tolerance
    assert constant.assemblies == 1
    model.temperature.value = model.temperature.value + 10.0  # a Constant of the kinetics' forms
    assert difference_from_dolfinx() <= tolerance
    assert constant.assemblies == 2
    forget_options(problem)  # never used: no solve here


@pytest.mark.mpi
def test_lagged_jacobian_keeps_the_kinetics_and_takes_the_present_mass_terms(model):
    """In "lagged" mode the Jacobian keeps the integrals that hold unknowns as assembled at an
    earlier state and takes the constant integrals (the mass terms' 1/dt) of the present
    Constants: it equals DOLFINx's assembly of the whole forms at the earlier state with the new
    Constants."""
    problem = create_solver(model, linear_solver="iterative")
    callback = problem.jacobian_callback
    assert callback.can_lag
    rng = np.random.default_rng(11)
    random_constants(model, rng)

    def state() -> PETSc.Vec:
        random_unknowns(model, rng)
        x = problem.x.duplicate()
        dolfinx.fem.petsc.assign(model.unknowns, x)
        return x

    x = state()
    problem.solver.computeJacobian(x, problem.A)
    earlier = [u.x.array.copy() for u in model.unknowns]  # with the ghosts the callback scattered
    assert callback.assemblies == 1
    callback.mode = "lagged"
    model.inv_dt.value = 7.0 * model.inv_dt.value
    later = state()
    problem.solver.computeJacobian(later, problem.A)
    assert callback.assemblies == 1
    for u, a in zip(model.unknowns, earlier, strict=True):
        u.x.array[:] = a
    reference = dolfinx.fem.petsc.assemble_matrix(whole_forms(model)[1], kind="mpi")
    reference.assemble()
    mass_change = reference.norm()
    reference.axpy(-1.0, problem.A)
    assert reference.norm() <= 1e-13 * mass_change
    callback.mode = "newton"
    problem.solver.computeJacobian(later, problem.A)
    assert callback.assemblies == 2
    for obj in (x, later, reference):
        obj.destroy()
    forget_options(problem)  # never used: no solve here


@pytest.mark.mpi
@pytest.mark.parametrize("affine", [True, False])
def test_constant_blocks_follow_the_time_step_exactly(affine):
    """C(s) = K + s M for forms affine in s = inv_dt a0, checked and used without integration; a
    form holding inv_dt without a0 is found not affine and assembled afresh at every new s. In
    both, :meth:`copy_into` and :meth:`update` leave DOLFINx's assembly of the form to round-off."""
    from ssbfem.solvers import ConstantBlocks, _jacobian_blocks

    mesh = dolfinx.mesh.create_unit_square(MPI.COMM_WORLD, 6, 6)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    inv_dt, a0, kappa = (dolfinx.fem.Constant(mesh, value) for value in (10.0, 1.5, 0.3))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    mass = inv_dt * (a0 * u) if affine else inv_dt * u
    form = dolfinx.fem.form((mass * v + kappa * ufl.inner(ufl.grad(u), ufl.grad(v))) * ufl.dx)
    J = dolfinx.fem.petsc.assemble_matrix(form)  # allocated with the form's pattern, as the Jacobian
    J.assemble()
    blocks = ConstantBlocks(_jacobian_blocks([[form]]), (inv_dt, a0))

    def error() -> float:
        reference = dolfinx.fem.petsc.assemble_matrix(form)
        reference.assemble()
        reference.axpy(-1.0, J)
        relative = reference.norm() / J.norm()
        reference.destroy()
        return relative

    J.zeroEntries()
    blocks.copy_into(J)
    assert blocks.affine is affine and error() <= 1e-14
    inv_dt.value, a0.value = 3.0, 1.2
    blocks.copy_into(J)
    assert error() <= 1e-14
    inv_dt.value, a0.value = 0.5, 1.8
    assert blocks.update(J) and error() <= 1e-14
    assert not blocks.update(J)
    assert blocks.assemblies == (1 if affine else 3)
    kappa.value = 2.0
    assert blocks.update(J) and error() <= 1e-14
    assert blocks.assemblies == (2 if affine else 4)
    blocks.destroy()
    J.destroy()


def test_later_newton_updates_are_solved_only_as_far_as_the_error_test_reads():
    """A solve's first two updates keep the linear solver's own rtol (the second measures the
    contraction rate); a later one stops at a relative residual of LINEAR_ERROR_SHARE of the
    Newton budget over its predicted size (the measured rate times the last update), within
    [own rtol, MAX_LINEAR_RTOL]; the next solve starts at the own rtol again."""
    from ssbfem.solvers import NewtonConvergence

    ksp = PETSc.KSP().create(MPI.COMM_SELF)
    ksp.setTolerances(rtol=3e-3)
    test = NewtonConvergence()
    test.fraction = 0.33
    test.follow_tolerances(ksp)
    share, largest = NewtonConvergence.LINEAR_ERROR_SHARE, NewtonConvergence.MAX_LINEAR_RTOL

    test.start()
    test._update = 2.0  # the first update, 2 tolerances; no rate measured yet
    test._loosen()
    assert ksp.getTolerances()[0] == pytest.approx(3e-3, rel=1e-12)
    test._update, test._rate = 1.0, 0.5  # the third update predicted at 0.5 tolerances
    test._loosen()
    assert ksp.getTolerances()[0] == pytest.approx(share * 0.33 / 0.5, rel=1e-12)
    test._update, test._rate = 0.5, 0.01  # predicted at 0.005 tolerances
    test._loosen()
    assert ksp.getTolerances()[0] == pytest.approx(largest, rel=1e-12)
    test._update, test._rate = 100.0, 0.5  # far from converged: the own rtol
    test._loosen()
    assert ksp.getTolerances()[0] == pytest.approx(3e-3, rel=1e-12)
    test._update, test._rate = 0.5, 0.01
    test._loosen()
    test.start()
    assert ksp.getTolerances()[0] == pytest.approx(3e-3, rel=1e-12)
    ksp.destroy()


@pytest.mark.mpi
def test_constant_integrals_share_the_jacobians_pattern(model):
    """The matrix of the constant integrals (K) reads the Jacobian's row pointers and column
    indices on each rank's diagonal block, and copies into the Jacobian and back exactly."""
    from ssbfem.petsc_c import matrix_of_pattern, shares_pattern

    problem = create_solver(model, linear_solver="iterative")
    rng = np.random.default_rng(3)
    random_constants(model, rng)
    random_unknowns(model, rng)
    x = problem.x.duplicate()
    dolfinx.fem.petsc.assign(model.unknowns, x)
    problem.solver.computeJacobian(x, problem.A)
    J = problem.A
    K = matrix_of_pattern(J)
    copy = J.duplicate()
    assert shares_pattern(K, J) and not shares_pattern(copy, J)
    same = PETSc.Mat.Structure.SAME_NONZERO_PATTERN
    K.axpy(1.0, J, structure=same)  # K := J, entry by entry (the patterns must agree)
    J.scale(2.0)
    K.copy(J, structure=same)  # J := K: J's values again
    J.axpy(-1.0, K, structure=same)
    assert J.norm() == 0.0 and K.norm() > 0.0
    for obj in (K, copy, x):
        obj.destroy()
    forget_options(problem)
