"""Nonlinear solver set-up: PETSc SNES (Newton) on the monolithic block system.

Two presets, chosen by ``[solver] linear_solver``: "direct" (LU with MUMPS; every thin film),
"iterative" (GMRES with a block Gauss-Seidel field split: each potential, the lithium and the
temperature by algebraic multigrid (GAMG), the cell voltage by its diagonal) for large 3D meshes,
and "auto" (the default): iterative above ``ITERATIVE_ABOVE_DOFS`` (20k) unknowns. Any
PETSc option can be passed through ``[solver.petsc_options]`` or
``--set solver.petsc_options.<name>=...`` and overrides the preset; the field-split blocks are
named ``fieldsplit_<name>_``: phi_e, psi_pos, psi_neg, phi_leak, lithium, voltage, temperature.
"""

from __future__ import annotations

import itertools

import numpy as np
import ufl

from mpi4py import MPI

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.block_preconditioner import BlockGaussSeidel
from ssbfem.fem.pointwise import split_pointwise
from ssbfem.heap import map_large_blocks_apart
from ssbfem.model_interface import Model
from ssbfem.petsc_c import matrix_of_pattern
from ssbfem.sparsity import jacobian_matrix, local_positions

_counter = itertools.count()

#: DOLFINx's compiled layer: the assembly callbacks call it directly (see :class:`JacobianCallback`).
_cpp = dolfinx.cpp


def default_options(model: Model) -> dict:
    """Newton with a full step and LU.

    Converged when the residual (a current scaled to the mesh unit) is below 1e-9 A/m2 per
    unit terminal area, or when the Newton update falls below 1e-12 of the solution: with very
    short steps the lithium balance's round-off floor (c_max F L0/dt eps) exceeds the former.
    """
    return {
        "snes_type": "newtonls",
        "snes_linesearch_type": "basic",
        "snes_atol": 1e-9 * model.terminal_area,
        "snes_rtol": 1e-14,
        "snes_stol": 1e-12,
        "snes_max_it": 25,
        "ksp_type": "preonly",
        "pc_type": "lu",
        "pc_factor_mat_solver_type": "mumps",
        # Scaling computed at each factorisation from the matrix at hand. MUMPS's default takes
        # it from the matrix of its analysis (the first factorisation), so a run resumed from a
        # checkpoint, analysed at a later matrix, departed from the uninterrupted run by an ulp
        # (then 1e-10 of the time through the step control); with this it is the same to the bit.
        "mat_mumps_icntl_8": 8,
    }


#: Above this many unknowns "auto" picks the iterative preset for the coupled cell problem:
#: MUMPS's fill-in grows superlinearly in 3D while GAMG's cost stays proportional to the unknowns.
#: A whole 1C discharge of the 3D composite cathode (benchmarks/discharge_cost.py, one rank) cost
#: 612 Poisson solves with LU against 487 iterative at 6k unknowns, 1304 against 883 at 20k;
#: below 20k the difference is seconds and LU is the robust choice for every coupling (and for
#: the small 1D and 2D cells).
ITERATIVE_ABOVE_DOFS = 20_000

#: Above this many displacement unknowns :mod:`ssbfem.mechanics` solves elasticity with CG and
#: GAMG instead of LU. Lower than the coupled problem's threshold on purpose: elasticity is one
#: symmetric positive definite block whose multigrid has the rigid-body modes as near-null space,
#: so its iterative solve is cheap (12 CG iterations at 140k unknowns, 14 at 1.07M:
#: benchmarks/RESULTS.md, benchmarks/elasticity_gamg.py), while the coupled nonlinear system needs
#: FGMRES over a field split (hundreds of iterations per Newton step at 236k unknowns) and LU pays
#: off up to larger sizes; a vector-valued 3D factorisation also fills in faster per unknown.
ELASTICITY_ITERATIVE_ABOVE_DOFS = 100_000


def iterative_options(model: Model) -> dict:
    """Newton-Krylov: GMRES, right-preconditioned by one block Gauss-Seidel sweep over the
    fields (:class:`ssbfem.block_preconditioner.BlockGaussSeidel`, set by :func:`create_solver`;
    PETSc's multiplicative PCFIELDSPLIT is the same operator with a copy of the matrix more:
    ``solver.petsc_options.pc_type = "fieldsplit"`` selects it, with the same block options).

    The preconditioner is a fixed linear operator (one pass of block Gauss-Seidel, each block one
    GAMG V-cycle with Chebyshev smoothing), so GMRES with right preconditioning takes the same
    iterations as flexible GMRES with half its vectors (FGMRES also keeps the preconditioned
    ones): on a 55k-unknown composite 63 iterations either way and 11 MiB less.

    Each linear solve is inexact (rtol 3e-3, an inexact Newton method): the time integrator stops
    Newton once its error is a third of the step's tolerance (:class:`NewtonConvergence`), which
    an inexact Newton update reaches in as many iterations as an exact one. rtol 3e-3 against
    1e-4 over a 1C discharge (benchmarks/RESULTS.md, "The linear solves' tolerance"): on a
    58k-unknown composite the same steps and Newton iterations (85 / 277 against 84 / 275), 1953
    GMRES iterations instead of 2994, 0.125 mV from a fine reference either way; on the
    1.09M-unknown composite (two ranks) 3038 instead of 4749 and 27 min instead of 35; 1e-2
    took longer (more chord solves failed, 159 Jacobians against 128). A solve's later updates,
    small against the tolerances, are solved only as far as the error test reads them
    (:meth:`NewtonConvergence.follow_tolerances`): over a 1C discharge 1389 GMRES iterations
    instead of 1486 on a 55k-unknown composite, 1813 instead of 1953 on a 58k one, 2886 instead
    of 3038 on the 1.09M one (two ranks), as many or fewer Jacobians, as close to the fine
    references (benchmarks/RESULTS.md). GAMG keeps its coarse
    spaces (aggregates and interpolation) from the first set-up and only forms the coarse
    operators again when the matrix changes: the Jacobian's pattern never changes and its values
    change smoothly. On a 20k-unknown composite's 1C discharge (benchmarks/RESULTS.md) rtol 1e-4
    and the kept interpolation took 1542 Krylov iterations instead of 3854 (rtol 1e-10), the wall
    time 0.58 of it, the voltages within 1.3e-7 V. GAMG needs no near-null space for the scalar
    blocks (constants are its default).
    """
    options = default_options(model)
    options.update(
        {
            "ksp_type": "gmres",
            "ksp_pc_side": "right",  # the true residual's norm, as the stopping test has always seen it
            "ksp_rtol": 3e-3,
            "ksp_atol": 1e-14 * model.terminal_area,
            "ksp_max_it": 1000,
            # A restart of 30 bounds the orthogonalisation (whose cost grows with the square of
            # the iterations kept) and the memory of the Krylov vectors; the inexact solves take
            # 4-15 iterations.
            "ksp_gmres_restart": 30,
            # PCFIELDSPLIT's multiplicative sweep without its copy of the matrix's rows
            # (ssbfem.block_preconditioner): `pc_type = "fieldsplit"` still selects PETSc's.
            "pc_type": "python",  # its context: _set_field_splits
        }
    )
    for name in _field_groups(model):
        options[f"fieldsplit_{name}_ksp_type"] = "preonly"
        options[f"fieldsplit_{name}_pc_type"] = "jacobi" if name == "voltage" else "gamg"
        if name == "voltage":
            continue
        # Three smoothing steps per level: 238 FGMRES iterations instead of 352 (36.4 s against
        # 41.3 s) on the P2 composite; the same time at P1.
        options[f"fieldsplit_{name}_mg_levels_ksp_max_it"] = 3
        options[f"fieldsplit_{name}_pc_gamg_reuse_interpolation"] = True
        if name not in ("lithium", "temperature"):
            # Dropping weak couplings from the aggregation graph: on a 39k-unknown composite
            # cathode (P1, benchmarks/scale.py) 0.02 gives the fastest Newton step (4.6 s, 26
            # FGMRES iterations per Newton iteration; 0.1: 5.9 s and 21; none: 4.9 s and 33):
            # larger thresholds coarsen more slowly and their coarse levels fill in.
            options[f"fieldsplit_{name}_pc_gamg_threshold"] = 0.02
    for name in ("pc_factor_mat_solver_type", "mat_mumps_icntl_8"):
        options.pop(name)
    return options


def _field_groups(model: Model) -> dict[str, list]:
    """The unknowns of each field-split block, by name."""
    groups = {"lithium": [model.theta], "voltage": [model.voltage], "temperature": []}
    for u in model.unknowns:
        if u is model.temperature_rise:
            groups["temperature"].append(u)
        elif all(u is not v for v in (model.theta, model.voltage)):
            groups[u.name] = [u]
    return {name: us for name, us in groups.items() if us}


def number_of_dofs(model: Model) -> int:
    return sum(
        u.function_space.dofmap.index_map.size_global * u.function_space.dofmap.index_map_bs for u in model.unknowns
    )


def _option_value(value: object) -> object:
    """A user's PETSc option as the options database takes it: None for a flag. Only ``True``
    itself (and "") is a flag: ``1 == True`` in Python, and ``snes_max_it = 1`` is a number."""
    return None if value is True or (isinstance(value, str) and value == "") else value


class CellProblem:
    """Newton's method (PETSc SNES) on a cell model's monolithic block system.

    It holds what DOLFINx's ``NonlinearProblem`` holds (the compiled residual ``F`` and Jacobian
    ``J`` blocks, the vectors ``b`` and ``x``, the matrix ``A``, the ``solver``) but allocates the
    matrix once, with the sparsity of its integrals (:func:`ssbfem.sparsity.jacobian_matrix`):
    ``NonlinearProblem`` builds DOLFINx's own pattern first, whose construction took 157 MiB at
    55k unknowns (a third of the run's memory, growing faster than the unknowns), to be replaced.
    Its solve copies between the unknowns and the solution vector through arrays and offsets
    taken once (``layout``).

    Without Dirichlet conditions the interface integrals of the kinetics are assembled point by
    point (``pointwise``, :class:`ssbfem.fem.pointwise.PointwiseInterface`); ``F`` and ``J`` are
    then the forms of what DOLFINx still assembles (``F`` without the affine integrals,
    :class:`ResidualCallback`; ``J``, once :class:`JacobianCallback` has split it, without the
    constant integrals of the blocks that also hold others). :meth:`assemble_residual` and
    :meth:`assemble_jacobian` give the whole residual and Jacobian.
    """

    def __init__(self, model: Model, options: dict, prefix: str):
        map_large_blocks_apart()  # the assembly's and the multigrids' temporaries (ssbfem.heap)
        self.u = model.unknowns
        spaces = [u.function_space for u in self.u]
        self.b = dolfinx.fem.petsc.create_vector(spaces, kind="mpi")
        self.x = dolfinx.fem.petsc.create_vector(spaces, kind="mpi")
        self.layout = ([u.x.array for u in self.u], block_offsets(model))
        residuals, self.pointwise = model.residuals, None
        self.residual_callback: ResidualCallback | None = None  # without Dirichlet conditions
        if not model.bcs:
            residuals, self.pointwise = split_pointwise(
                model.cellmesh.mesh, model.residuals, self.u, model.cells_in, local_positions(spaces)
            )
        #: The Jacobian's UFL blocks DOLFINx assembles: all of them, or those the interface
        #: assembled point by point (``pointwise``) leaves.
        self.jacobian_forms = _block_jacobian(residuals, self.u)
        self.J = dolfinx.fem.form(self.jacobian_forms, entity_maps=model.entity_maps)
        extra = self.pointwise.pattern() if self.pointwise is not None else ()
        self.A = jacobian_matrix(self.b, self.layout[1], self.J, spaces, model.cells_in, extra)
        self.jacobian_callback: JacobianCallback | None = None
        self.convergence = NewtonConvergence()
        self.solver = PETSc.SNES().create(self.b.comm)
        self.solver.setOptionsPrefix(prefix)
        self.A.setOptionsPrefix(f"{prefix}A_")
        self.b.setOptionsPrefix(f"{prefix}b_")
        self.x.setOptionsPrefix(f"{prefix}x_")
        if model.bcs:  # DOLFINx's residual, with the lifting of the Dirichlet conditions
            self.F = dolfinx.fem.form(residuals, entity_maps=model.entity_maps)
            context = {"u": self.u, "residual": self.F, "jacobian": self.J, "bcs": model.bcs}
            context["_blocks"] = self.b.getAttr("_blocks")
            assemble = dolfinx.fem.petsc.assemble_residual
        else:
            # Without Dirichlet conditions (terminals are Robin, the voltage a global unknown; only
            # a fixed temperature adds one) the residual needs no lifting: assembling it alone
            # halves its cost.
            rest, affine = split_affine(residuals, self.jacobian_forms)
            compile_ = lambda form: dolfinx.fem.form(form, entity_maps=model.entity_maps) if form else None
            self.F = [compile_(r) for r in rest]  # the affine integrals apart: no form holds them twice
            ours = "snes_convergence_test" not in options  # the product needs the error test (below)
            assemble = self.residual_callback = ResidualCallback(
                self.layout,
                self.F,
                [compile_(a) for a in affine],
                self.pointwise,
                self.b,
                self.convergence if ours else None,
            )
            context = {}
        self._assemble_residual = (assemble, context)
        context = {"assemble": assemble, "needed": self.convergence.residual_needed, "context": context}
        self.solver.setFunction(_residual_unless_converged, self.b, kargs=context)
        db = PETSc.Options()
        db.prefixPush(prefix)
        for key, value in options.items():
            db[key] = value
        self.solver.setFromOptions()
        for key in options:
            del db[key]
        db.prefixPop()
        if "snes_convergence_test" not in options:  # a user's choice stands
            self.solver.setConvergenceTest(self.convergence)
            if self.solver.getKSP().getType() != PETSc.KSP.Type.PREONLY:
                self.convergence.follow_tolerances(self.solver.getKSP())

    def solve(self) -> list:
        """Newton from the unknowns' values; they hold the result."""
        gather(*self.layout, self.x)
        self.convergence.start()
        self._new_state()
        self.solver.solve(None, self.x)
        self.x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        scatter(self.x, *self.layout)
        return self.u

    def _new_state(self) -> None:
        """The Constants and the fields other than the unknowns may have changed (a new solve)."""
        if self.residual_callback is not None:
            self.residual_callback.new_state()

    def assemble_residual(self) -> PETSc.Vec:
        """F at the unknowns' present values, in a new vector (as the Newton iterations assemble it)."""
        b = self.b.duplicate()
        gather(*self.layout, self.x)
        self._new_state()
        assemble, context = self._assemble_residual
        assemble(self.solver, self.x, b, **context)
        return b

    def assemble_jacobian(self, J: PETSc.Mat) -> None:
        """The Jacobian at the unknowns' present values into J (a matrix of A's pattern), as a
        Newton iteration assembles it."""
        gather(*self.layout, self.x)
        callback = self.jacobian_callback
        mode, callback.mode = callback.mode, "newton"
        try:
            callback(self.solver, self.x, J, None)
        finally:
            callback.mode = mode

    def destroy(self) -> None:
        """Free the PETSc objects (collective: call it on every rank at once)."""
        if getattr(self, "convergence", None) is not None:  # its KSP is the solver's: freed with it
            self.convergence.ksp = None
        # The callback's constant integrals read A's pattern: freed before it.
        for name in ("solver", "jacobian_callback", "A", "b", "x"):
            if getattr(self, name, None) is not None:  # not all made if the set-up failed
                getattr(self, name).destroy()
        if getattr(self, "residual_callback", None) is not None:
            self.residual_callback.destroy()

    def __del__(self):
        self.destroy()


class NewtonConvergence:
    """The SNES convergence test: PETSc's default (``SNESConvergedDefault``: the residual's norm
    below atol or rtol times its first, the update's below stol times the solution's; diverged
    above the divergence tolerance times the first), and, when :meth:`scale_update` has given each
    unknown a tolerance, the test of the BDF codes (DASSL, IDA; Brenan, Campbell & Petzold 1996,
    sec. 5.2.2): converged once the error left in the iterate, estimated from the contraction rate
    of the iterations as rate / (1 - rate) times the last update (scaled by the tolerances, largest
    over the unknowns), is below ``fraction``.

    A time step's Newton iterations only need to bring the solution well inside its local error
    tolerance, far looser than a residual of 1e-9 A/m2. The rate is measured over a solve's
    iterations and kept for the next solve, whose first iteration from the integrator's
    predictor then usually suffices; until a rate is known (:meth:`reset`) it is taken as 0.95
    (factor 20, IDA's start). Iterations with a Jacobian assembled at an earlier state
    (``chord``: a chord method, which contracts linearly, the slower the older the Jacobian) take
    at least two, their rate measured in the solve itself, and fail after
    ``iteration_limit`` iterations or at a rate above :attr:`MAX_CHORD_RATE`. Conservation laws that
    are linear in the unknowns (charge, lithium) hold after every Newton update whose linear
    system is solved exactly, converged or not.
    """

    def __init__(self):
        self.blocks: list[tuple[int, int, float]] = []  # (owned start, stop, tolerance) per unknown
        self.fraction = 0.0
        self.comm = None
        self.rate_factor = self.UNKNOWN_RATE_FACTOR  # rate / (1 - rate) of the last Newton iterations
        self.chord = False  # the Jacobian is an earlier iterate's (a chord method): see `iteration_limit`
        self._first_norm = 0.0
        self._first_update = 0.0
        self._residuals = 0  # residuals asked for in this solve
        self._converged_at = -1  # the iteration whose update met the error test
        self.iteration_limit = 0  # chord iterations: diverged after this many, or at a rate above MAX_CHORD_RATE
        self._rate = 0.0  # the contraction rate measured in this solve (0 until two updates)
        self._update = 0.0  # the last update, scaled by the tolerances
        self.ksp: PETSc.KSP | None = None  # an iterative linear solver whose tolerance follows the error test
        self._base_rtol = 0.0

    #: rate / (1 - rate) before any rate has been measured (IDA's).
    UNKNOWN_RATE_FACTOR = 20.0
    #: A chord solve contracting slower than this has failed (IDA's RATEMAX). Failing earlier
    #: (0.2) cost more Jacobians than it saved iterations on a 20k-unknown composite's discharge
    #: (67 Jacobians and 243 iterations against 44 and 250).
    MAX_CHORD_RATE = 0.9

    #: Share of the Newton error test's budget (``fraction``) that the inexact solve of a later
    #: update may leave in the iterate: that update's Krylov solve stops at a relative residual
    #: of this share of the budget over the update's predicted size (at least the preset's rtol,
    #: at most :attr:`MAX_LINEAR_RTOL`).
    LINEAR_ERROR_SHARE = 0.1
    MAX_LINEAR_RTOL = 0.1

    def follow_tolerances(self, ksp: PETSc.KSP) -> None:
        """Let an iterative linear solver's relative tolerance follow the error test: a solve's
        first two updates to the solver's own rtol, each later one only as far as its size asks
        (:meth:`_loosen`)."""
        self.ksp, self._base_rtol = ksp, ksp.getTolerances()[0]

    def reset(self) -> None:
        """Forget the measured rate (after a failed solve or a change of control)."""
        self.rate_factor = self.UNKNOWN_RATE_FACTOR

    def start(self) -> None:
        """A solve begins: the next residual asked for is the initial guess's."""
        self._residuals = 0
        self._converged_at = -1
        self._rate = 0.0
        if self.ksp is not None:
            self.ksp.setTolerances(rtol=self._base_rtol)

    def residual_needed(self, snes: PETSc.SNES) -> bool:
        """Asked by the residual callback before it assembles: whether the residual at the new
        iterate is needed. Each call after a solve's first follows a Newton update; when that
        update already meets the error test, the residual there would only be read by this test
        and is not assembled (a third of a step's assembly when one iteration suffices)."""
        self._residuals += 1
        it = self._residuals - 1
        if it == 0 or self.fraction <= 0.0:
            return True
        # A chord method's rate is its Jacobian's age's: trusted only as measured in this solve
        if self._error_estimate(snes, it) <= self.fraction and not (self.chord and it == 1):
            self._converged_at = it
            return False
        self._loosen()
        return True

    def _loosen(self) -> None:
        """The next update's linear tolerance. Its inexact solve leaves an error of about rtol
        times its size in the iterate; the size is predicted as the rate measured in this solve
        times the last update. Newton's later updates are small against the tolerances, and
        solving each to the first update's relative accuracy spends Krylov iterations on digits
        the error test never reads. The second update is solved as the first: it measures the
        rate that the chord test and the next solves' first-iteration test read (loosened too,
        with the rate taken as 1, the 1.09M-unknown composite's discharge took 142 Jacobians
        instead of 128, benchmarks/RESULTS.md)."""
        if self.ksp is None:
            return
        if not 0.0 < self._rate < 1.0:  # the second update measures the rate: solved as the first
            return
        predicted = self._rate * self._update
        rtol = self.LINEAR_ERROR_SHARE * self.fraction / predicted if predicted > 0.0 else self.MAX_LINEAR_RTOL
        self.ksp.setTolerances(rtol=max(min(rtol, self.MAX_LINEAR_RTOL), self._base_rtol))

    def scale_update(self, blocks: list[tuple[int, int, float]], fraction: float, comm) -> None:
        """Give each block (owned rows of the monolithic vector) its tolerance and turn the error
        test on: converged once the estimated error is below `fraction` of them (0: off)."""
        self.blocks, self.fraction, self.comm = blocks, fraction, comm

    def scaled_update(self, snes: PETSc.SNES) -> float:
        """max over the blocks and ranks of |update| / tolerance."""
        update = snes.getSolutionUpdate().getArray(readonly=True)
        local = max((np.abs(update[a:b]).max(initial=0.0) / tol for a, b, tol in self.blocks), default=0.0)
        return self.comm.allreduce(local, op=MPI.MAX)

    def __call__(self, snes: PETSc.SNES, it: int, norms: tuple[float, float, float]) -> int:
        xnorm, snorm, fnorm = norms
        reason = PETSc.SNES.ConvergedReason
        if it > 0 and it == self._converged_at:  # fnorm is the last iterate's: not assembled again
            return reason.CONVERGED_SNORM_RELATIVE  # the error left, small against the tolerances
        rtol, atol, stol, _ = snes.getTolerances()
        if not np.isfinite(fnorm):
            return reason.DIVERGED_FNORM_NAN
        if fnorm < atol:
            return reason.CONVERGED_FNORM_ABS
        if it == 0:
            self._first_norm = fnorm
            return reason.ITERATING
        if fnorm <= rtol * self._first_norm:
            return reason.CONVERGED_FNORM_RELATIVE
        if snorm < stol * xnorm:
            return reason.CONVERGED_SNORM_RELATIVE
        divergence = snes.getDivergenceTolerance()
        if divergence > 0.0 and fnorm > divergence * self._first_norm:
            return reason.DIVERGED_DTOL
        if self.chord and self.iteration_limit and (it >= self.iteration_limit or self._rate > self.MAX_CHORD_RATE):
            return reason.DIVERGED_MAX_IT
        return reason.ITERATING

    def _error_estimate(self, snes: PETSc.SNES, it: int) -> float:
        """rate / (1 - rate) |update| (scaled), the rate measured from the solve's first update on
        (or the last solve's for the first update)."""
        update = self._update = self.scaled_update(snes)
        if it == 1:
            self._first_update = update
            return self.rate_factor * update
        if self._first_update <= 0.0:
            return 0.0
        self._rate = (update / self._first_update) ** (1.0 / (it - 1))
        factor = self._rate / (1.0 - self._rate) if self._rate < 0.95 else self.UNKNOWN_RATE_FACTOR
        if not self.chord:  # a chord method's rate is its Jacobian's, not Newton's
            self.rate_factor = factor
        return factor * update


def create_solver(model: Model, petsc_options: dict | None = None, linear_solver: str = "auto") -> CellProblem:
    """The SNES problem for a cell model; user options override the preset's.

    An option given as ``True`` or ``""`` is a flag (``-name`` without a value); any other value,
    ``1`` included, is passed as its text.
    """
    if linear_solver == "auto":
        linear_solver = "iterative" if number_of_dofs(model) > ITERATIVE_ABOVE_DOFS else "direct"
    options = iterative_options(model) if linear_solver == "iterative" else default_options(model)
    options.update({k: _option_value(v) for k, v in (petsc_options or {}).items()})
    prefix = f"ssbfem{next(_counter)}_"
    problem = CellProblem(model, options, prefix)
    factorised = options.get("ksp_type") == "preonly" and options.get("pc_type") in ("lu", "cholesky")
    problem.jacobian_callback = JacobianCallback(problem, model, factorised, problem.jacobian_forms)
    if problem.residual_callback is not None:
        problem.residual_callback.constant = problem.jacobian_callback.constant
    problem.solver.setJacobian(problem.jacobian_callback, problem.A, None)
    ours = options.get("pc_type") == "python" and "pc_python_type" not in options  # the preset's
    if options.get("pc_type") == "fieldsplit" or ours:
        _set_field_splits(problem, model, prefix, options)
    sweep = _block_sweep(problem.solver)
    if sweep is not None:
        sweep.keep_lean(problem.jacobian_callback.rarely_set_up(model))
    return problem


#: With the preset's block sweep, a fresh Jacobian sets up again the blocks whose diagonal holds
#: the time derivative (the lithium's, the temperature's) and the couplings between blocks; the
#: potentials' GAMG only at every this-many Jacobians (the first included). On a 58k-unknown
#: composite's 1C discharge the same steps and Newton iterations, 1839 GMRES iterations
#: against 1813, 7 % less time; the 1.09M-unknown one's on two ranks in 243 Poisson solves
#: against 256-263 (14 min 39 s; benchmarks/RESULTS.md).
POTENTIALS_SET_UP_EVERY = 20


class JacobianCallback:
    """The SNES Jacobian callback of a :class:`CellProblem`: assembles J(x), or keeps the matrix
    it last assembled, and with it the linear solver's factorisation or preconditioner (PETSc
    sets a preconditioner up again only when its matrix has changed).

    ``mode``: "newton" assembles at every Newton iteration (Newton's method, the default);
    "once" at the next iteration only, then keeps that matrix ("keep") until told otherwise: a
    modified Newton method, which converges to the same tolerance in more iterations. They are
    much cheaper when the linear solver is a factorisation (``factorised``): each is then a
    residual and a back-substitution. "lagged" keeps the integrals that hold unknowns (the
    interface kinetics) as last assembled, perhaps steps ago, and the preconditioner built then
    (the preset's block sweep; the blocks whose time derivative changes are set up again), but
    brings the constant integrals (the mass matrices' 1/dt and BDF weights) to the present
    step (:meth:`ConstantBlocks.update`): Newton's iterations then see the present step's time
    derivative exactly and a linearisation of the kinetics from an earlier state (``can_lag``:
    only where the constant integrals are assembled apart). The time integrator chooses
    (:class:`ssbfem.integrator.BDFIntegrator`).

    Without Dirichlet conditions the blocks are assembled straight into the monolithic matrix
    from a list of the blocks and their index sets made once: DOLFINx's generic block assembly
    finds the function spaces and builds the index sets again at every call, which took more time
    than the integrals on a thin film's 200 unknowns. The integrals that hold no unknown (nor any
    other function), such as each conductor's Laplacian and the lithium's mass matrix, are
    assembled into a matrix of their own (:class:`ConstantBlocks`) only when a constant they
    hold (the time step, the BDF weights) has changed, and copied into the Jacobian in place of
    zeroing it: on the 3D composite cathode of benchmarks/assembly.py only the interface integrals
    are then assembled at each Newton iteration (``ufl_jacobian``: the Jacobian's UFL blocks,
    split as :func:`split_constant`; without them every integral is assembled at every call),
    point by point where the problem has a ``pointwise`` interface.
    """

    def __init__(self, problem: CellProblem, model: Model, factorised: bool, ufl_jacobian: list | None = None):
        self.factorised = factorised
        self.mode = "newton"
        self.assemblies = 0
        # What it assembles, not the problem itself: the SNES holds the callback, and a reference
        # cycle through the problem would leave its PETSc objects to the garbage collector.
        self._unknowns, self._forms, self._bcs = problem.u, problem.J, model.bcs
        self._pointwise = problem.pointwise
        self._arrays, self._offsets = problem.layout
        self._blocks: list = []
        self.constant: ConstantBlocks | None = None
        self._time_derivative_blocks: set[str] = set()  # field-split blocks whose diagonal holds inv_dt
        if model.bcs:
            return
        if ufl_jacobian is None:
            self._blocks = _jacobian_blocks(problem.J)
            return
        self._time_derivative_blocks = _blocks_holding(model, ufl_jacobian, model.inv_dt)
        varying, constant = _split_jacobian(problem.J, ufl_jacobian, model.entity_maps)
        self._blocks = _jacobian_blocks(varying, problem.J)
        # A block split in two is assembled as its parts: its whole form is let go (the compiled
        # forms hold their integration entities: 69 MiB at 1.09M unknowns).
        problem.J = [
            [part if part is not None else whole for part, whole in zip(parts, row, strict=True)]
            for parts, row in zip(varying, problem.J, strict=True)
        ]
        self._forms = problem.J
        if any(form is not None for row in constant for form in row):
            self.constant = ConstantBlocks(_jacobian_blocks(constant, problem.J), (model.inv_dt, model.bdf[0]))

    @property
    def _set_up_each_time(self) -> set[str]:
        """The field-split blocks a fresh Jacobian always sets up again."""
        return self._time_derivative_blocks | {"voltage"}

    def rarely_set_up(self, model: Model) -> set[str]:
        """The field-split blocks set up again only at every POTENTIALS_SET_UP_EVERY-th Jacobian
        (their multigrid then keeps no Galerkin product data in between)."""
        if not self._time_derivative_blocks or POTENTIALS_SET_UP_EVERY == 1:
            return set()
        return set(_field_groups(model)) - self._set_up_each_time

    @property
    def can_lag(self) -> bool:
        """Whether the "lagged" mode applies: an iterative linear solver and the constant
        integrals assembled apart (no Dirichlet conditions)."""
        return self.constant is not None and not self.factorised

    def __call__(self, snes, x: PETSc.Vec, J: PETSc.Mat, _P: PETSc.Mat | None) -> None:
        if self.mode == "keep":
            return
        if self.mode == "lagged":
            # The preconditioner of the matrix last assembled, but for the blocks whose time
            # derivative's weight (the step, the BDF weights) the AXPY below changes: kept
            # whole, a lithium block with the mass of an earlier step took 2.3 times the Krylov
            # iterations over a composite's discharge; set up again, the same as before.
            _set_up_only(snes, self._time_derivative_blocks)
            self.constant.update(J)
            return
        # The potentials' diagonal blocks are their conductors' Laplacians (constant) plus the
        # kinetics' interface terms, small beside them: their multigrid is set up again only at
        # every POTENTIALS_SET_UP_EVERY-th Jacobian, every block's couplings at each.
        refreshed = None  # every block
        if self._time_derivative_blocks and self.assemblies % POTENTIALS_SET_UP_EVERY:
            refreshed = self._set_up_each_time
        _set_up_only(snes, refreshed, couplings=True)
        if self.mode == "once":
            self.mode = "keep"
        self.assemblies += 1
        if self._bcs:
            dolfinx.fem.petsc.assemble_jacobian(snes, x, J, None, self._unknowns, self._forms, None, self._bcs)
            return
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        scatter(x, self._arrays, self._offsets)
        if self.constant is not None:
            self.constant.copy_into(J)
        else:
            J.zeroEntries()
        _assemble_blocks(J, self._blocks)
        if self._pointwise is not None:
            self._pointwise.add_jacobian(J)
        J.assemble()

    def destroy(self) -> None:
        """Free the matrix of the constant integrals."""
        if self.constant is not None:
            self.constant.destroy()


def _block_jacobian(residuals: list, unknowns: list) -> list[list]:
    """The block Jacobian of residual rows (None rows: rows of None blocks)."""
    present = [r for r in residuals if r is not None]
    derived = iter(dolfinx.fem.forms.derivative_block(present, unknowns) if present else [])
    return [next(derived) if r is not None else [None] * len(unknowns) for r in residuals]


def _set_up_only(snes: PETSc.SNES, names: set[str] | None, couplings: bool = False) -> None:
    """The preset's block sweep: at its next set-up, set up only the blocks `names` again (None:
    all; :meth:`BlockGaussSeidel.set_up_only`). PETSc's fieldsplit is set up whole."""
    sweep = _block_sweep(snes)
    if sweep is not None:
        sweep.set_up_only(names, couplings)


def _block_sweep(snes: PETSc.SNES) -> BlockGaussSeidel | None:
    """The preset's block sweep, if it is the linear solver's preconditioner."""
    pc = snes.getKSP().getPC()
    if pc.getType() == PETSc.PC.Type.PYTHON and isinstance(pc.getPythonContext(), BlockGaussSeidel):
        return pc.getPythonContext()
    return None


def _blocks_holding(model: Model, jacobian: list[list], constant: dolfinx.fem.Constant) -> set[str]:
    """The field-split blocks whose diagonal block of the Jacobian (UFL) holds `constant`."""
    group_of = {id(u): name for name, us in _field_groups(model).items() for u in us}
    return {
        group_of[id(u)]
        for i, u in enumerate(model.unknowns)
        if jacobian[i][i] is not None and constant in jacobian[i][i].constants()
    }


class ConstantBlocks:
    """The integrals of a Jacobian that depend on no function, only on Constants and the mesh
    (each conductor's Laplacian, the mass matrices of the time derivatives): kept assembled apart
    and copied into the Jacobian at every assembly (a copy of the values array, no integration).

    The time derivatives enter them as s M, s = inv_dt a0 (the model interface's d(u)/dt =
    inv_dt (a0 u + u_hist)), and s changes at nearly every step of an adaptive integration (the
    step and the BDF weights). The integrals are affine in s, C(s) = K + s M: K (at inv_dt = 0)
    and M (C at s = 1, minus K) are assembled when first asked for and C(s) is then formed by an
    AXPY, so that a new s costs no integration; they are assembled again only when another
    Constant in them changes (compared by value). Re-assembling C at every new s took 20 of the
    solver's 113 s in the 55k-unknown composite's 1C discharge (benchmarks/RESULTS.md). That
    the forms are affine in s is checked once (C at inv_dt = 2, a0 = 1/2 against K + M); forms
    that hold inv_dt or a0 otherwise are assembled afresh at every new s. Memory: K, with the
    Jacobian's pattern (its own values, the Jacobian's row pointers and column indices), and M,
    with the mass matrices' only (a seventh of the Jacobian's nonzeros on the composite
    cathode).

    ``blocks``: (row index set, column index set, compiled form) as :func:`_jacobian_blocks`;
    ``rate``: the Constants inv_dt and a0.
    """

    def __init__(self, blocks: list[tuple[PETSc.IS, PETSc.IS, object]], rate: tuple):
        self.blocks = blocks
        self.K: PETSc.Mat | None = None  # C(0), or C itself where C is not affine in s
        self.M: PETSc.Mat | None = None  # dC/ds
        self.affine: bool | None = None  # known after the first assembly
        self.assemblies = 0
        self._rate = rate
        self._slots = [_slots(form, rate) for _, _, form in blocks]
        self._key: list[np.ndarray] = []  # the packed Constants K and M were assembled with, s left out
        self._s_in_J = 0.0  # the s of the constant part the Jacobian holds
        self._pattern_of: int | None = None  # the handle of the Jacobian whose pattern K and M have

    def copy_into(self, J: PETSc.Mat) -> None:
        """J's values := C(s) (J keeps its pattern), K and M assembled again first if this is
        the first call, J is another matrix, or one of their Constants other than s has changed."""
        packed = self._packed()
        if self.K is None or self._pattern_of != J.handle or not _equal(self._key_of(packed), self._key):
            self._assemble(J, packed, scratch=J)
        same, subset = PETSc.Mat.Structure.SAME_NONZERO_PATTERN, PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN
        self.K.copy(J, structure=same)
        self._s_in_J = self._s()
        if self.M is not None:
            J.axpy(self._s_in_J, self.M, structure=subset)

    def update(self, J: PETSc.Mat) -> bool:
        """J := J - C_old + C_new when a Constant of the constant integrals C has changed since
        J took them (as :meth:`copy_into` or this left it): the rest of J, the integrals that
        hold unknowns, is kept. One AXPY when only s changed; otherwise K and M are assembled
        again. Returns whether J changed."""
        packed, s = self._packed(), self._s()
        same, subset = PETSc.Mat.Structure.SAME_NONZERO_PATTERN, PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN
        if _equal(self._key_of(packed), self._key):
            if self.M is None or s == self._s_in_J:
                return False
            J.axpy(s - self._s_in_J, self.M, structure=subset)
            self._s_in_J = s
            return True
        J.axpy(-1.0, self.K, structure=same)
        if self.M is not None:
            J.axpy(-self._s_in_J, self.M, structure=subset)
        self._assemble(J, packed)
        J.axpy(1.0, self.K, structure=same)
        self._s_in_J = s
        if self.M is not None:
            J.axpy(s, self.M, structure=subset)
        return True

    def current(self) -> bool:
        """Whether K and M hold the integrals at the present Constants."""
        return self.K is not None and _equal(self._key_of(self._packed()), self._key)

    def mult(self, x: PETSc.Vec, y: PETSc.Vec, work: PETSc.Vec) -> None:
        """y := C(s) x at the present s (K and M :meth:`current`); `work` a vector like y."""
        self.K.mult(x, y)
        if self.M is not None:
            self.M.mult(x, work)
            y.axpy(self._s(), work)

    def _packed(self) -> list[np.ndarray]:
        return [_cpp.fem.pack_constants(form) for _, _, form in self.blocks]

    def _s(self) -> float:
        return float(self._rate[0].value) * float(self._rate[1].value)

    def _key_of(self, packed: list[np.ndarray]) -> list[np.ndarray]:
        """The packed Constants that decide K and M: all but s's where C is affine in s."""
        if not self.affine:
            return packed
        key = [p.copy() for p in packed]
        for p, (inv_dt, a0) in zip(key, self._slots, strict=True):
            p[inv_dt + a0] = 0.0
        return key

    def _with_rate(self, packed: list[np.ndarray], inv_dt: float, a0: float) -> list[np.ndarray]:
        out = [p.copy() for p in packed]
        for p, (inv_dt_slots, a0_slots) in zip(out, self._slots, strict=True):
            p[inv_dt_slots] = inv_dt
            p[a0_slots] = a0
        return out

    def _assemble(self, J: PETSc.Mat, packed: list[np.ndarray], scratch: PETSc.Mat | None = None) -> None:
        """K and M from the packed Constants (M where C depends on s and is affine in it).
        `scratch`: a matrix of J's pattern whose values may be overwritten (J itself when it
        is about to be assembled: no third matrix of its size, even for a moment)."""
        if self.K is None or self._pattern_of != J.handle:
            self.destroy()
            self.K = _matrix_like(J, share_pattern=True)
            self._pattern_of = J.handle
        if self.affine is None:
            self.affine = any(inv_dt for inv_dt, _ in self._slots)
        if self.M is not None:
            self.M.destroy()
            self.M = None
        if self.affine:
            work = scratch or _matrix_like(J)
            same, subset = PETSc.Mat.Structure.SAME_NONZERO_PATTERN, PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN
            _assemble_into(self.K, self.blocks, self._with_rate(packed, 0.0, 1.0))
            _assemble_into(work, self.blocks, self._with_rate(packed, 1.0, 1.0))
            work.axpy(-1.0, self.K, structure=same)
            # M keeps its nonzeros only, the mass matrices' (elsewhere C(1) - K is exactly
            # zero): AXPYs onto a subset of J's pattern, a seventh of its memory.
            self.M = _nonzeros_of(work)
            if self.assemblies == 0:  # whether C(inv_dt = 2, a0 = 1/2) is K + M to round-off
                _assemble_into(work, self.blocks, self._with_rate(packed, 2.0, 0.5))
                size = self.K.norm() + self.M.norm()
                work.axpy(-1.0, self.K, structure=same)
                work.axpy(-1.0, self.M, structure=subset)
                self.affine = work.norm() <= 1e-12 * size
                if not self.affine:
                    self.M.destroy()
                    self.M = None
            if work is not scratch:
                work.destroy()
        if not self.affine:  # K is C itself
            _assemble_into(self.K, self.blocks, packed)
        self._key = self._key_of(packed)
        self.assemblies += 1

    def destroy(self) -> None:
        for mat in (self.K, self.M):
            if mat is not None:
                mat.destroy()
        self.K = self.M = None


def _slots(form, rate: tuple) -> tuple[list[int], list[int]]:
    """Where each of the Constants `rate` sits in a compiled form's packed constants."""
    addresses = [c._cpp_object.value.ctypes.data for c in rate]
    slots: tuple[list[int], list[int]] = ([], [])
    start = 0
    for constant in form.constants:
        size = constant.value.size
        for k, address in enumerate(addresses):
            if constant.value.ctypes.data == address:
                slots[k].extend(range(start, start + size))
        start += size
    return slots


def _equal(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _matrix_like(J: PETSc.Mat, share_pattern: bool = False) -> PETSc.Mat:
    """A matrix with J's pattern and local-to-global maps, its values unset; with
    `share_pattern`, one that reads J's own row pointers and column indices where PETSc allows
    (:func:`ssbfem.petsc_c.matrix_of_pattern`: a third less memory, not to outlive J)."""
    matrix = matrix_of_pattern(J) if share_pattern else None
    if matrix is None:
        matrix = J.duplicate(copy=False)
    matrix.setLGMap(*J.getLGMap())
    # The pattern is the Jacobian's; DOLFINx's only writes outside it are zeros.
    matrix.setOption(PETSc.Mat.Option.NEW_NONZERO_LOCATIONS, False)
    matrix.setOption(PETSc.Mat.Option.IGNORE_ZERO_ENTRIES, True)
    return matrix


def _nonzeros_of(matrix: PETSc.Mat) -> PETSc.Mat:
    """A matrix of the same layout holding only the nonzero entries of `matrix` (assembled AIJ)."""
    indptr, indices, values = matrix.getValuesCSR()
    kept = values != 0.0
    before = np.concatenate(([0], np.cumsum(kept)))
    csr = (before[indptr].astype(PETSc.IntType), indices[kept], values[kept])
    return PETSc.Mat().createAIJ(matrix.getSizes(), csr=csr, comm=matrix.comm)


def _assemble_into(matrix: PETSc.Mat, blocks: list, packed: list[np.ndarray]) -> None:
    matrix.zeroEntries()
    _assemble_blocks(matrix, blocks, packed)
    matrix.assemble()


def _assemble_blocks(J: PETSc.Mat, blocks: list, constants: list[np.ndarray] | None = None) -> None:
    """Add each block's form into its local submatrix of J (`constants`: each form's, packed)."""
    for k, (rows, columns, form) in enumerate(blocks):
        block = J.getLocalSubMatrix(rows, columns)
        packed = _cpp.fem.pack_constants(form) if constants is None else constants[k]
        _cpp.fem.petsc.assemble_matrix(block, form, packed, _cpp.fem.pack_coefficients(form), [], True)
        J.restoreLocalSubMatrix(rows, columns, block)


#: The order in which DOLFINx 0.11 assembles a form's integrals into a matrix (each type by
#: subdomain id, "otherwise" first).
_ASSEMBLY_ORDER = ("cell", "interior_facet", "exterior_facet", "vertex")


def _assembly_position(integral_type: str, subdomain: object) -> tuple[int, int] | None:
    """Where DOLFINx assembles the integrals of a type and subdomain; None where unknown."""
    if integral_type not in _ASSEMBLY_ORDER or not isinstance(subdomain, int | str):
        return None
    if isinstance(subdomain, str) and subdomain != "otherwise":
        return None
    return _ASSEMBLY_ORDER.index(integral_type), -1 if subdomain == "otherwise" else subdomain


def _integral_groups(form: ufl.Form) -> dict[tuple, list]:
    """A form's integrals by (type, subdomain), as the form compiler groups them into kernels."""
    groups: dict[tuple, list] = {}
    for integral in ufl.algorithms.expand_derivatives(form).integrals():
        groups.setdefault((integral.integral_type(), integral.subdomain_id()), []).append(integral)
    return groups


def split_constant(form: ufl.Form | None) -> tuple[ufl.Form | None, ufl.Form | None]:
    """(the rest, integrals that depend on no function) of a form, either None when empty.

    The integrals are grouped as the form compiler groups them into kernels (by integral type
    and subdomain); a group is constant when none of its integrands holds a coefficient. The
    constant part is the constant groups DOLFINx assembles before any other: added first, their
    values and then the others' sum in each entry in the same order as the whole form's, so that
    the matrix is the same to the last bit.
    """
    if form is None:
        return None, None
    groups = _integral_groups(form)
    positions = {key: _assembly_position(*key) for key in groups}
    varying, constant = [], []
    ordered = sorted(groups, key=lambda key: positions[key] or (len(_ASSEMBLY_ORDER), 0))
    for count, key in enumerate(ordered):
        fixed = positions[key] is not None and not any(
            ufl.algorithms.extract_coefficients(i.integrand()) for i in groups[key]
        )
        if not fixed:
            varying = [i for later in ordered[count:] for i in groups[later]]
            break
        constant.extend(groups[key])
    return (ufl.Form(varying) if varying else None), (ufl.Form(constant) if constant else None)


def _split_jacobian(compiled: list[list], jacobian: list[list], entity_maps: list) -> tuple[list, list]:
    """The compiled block Jacobian split into (varying, constant) block Jacobians of compiled
    forms (None where a block has no such integrals; the compiled block itself where it has only
    one kind, new forms where it has both)."""
    n, m = len(jacobian), len(jacobian[0])
    varying = [[None] * m for _ in range(n)]
    constant = [[None] * m for _ in range(n)]
    for i, j in itertools.product(range(n), range(m)):
        if compiled[i][j] is None:
            continue
        parts = split_constant(jacobian[i][j])
        if parts[0] is None or parts[1] is None:
            kept = varying if parts[1] is None else constant
            kept[i][j] = compiled[i][j]
            continue
        varying[i][j], constant[i][j] = (dolfinx.fem.form(part, entity_maps=entity_maps) for part in parts)
    return varying, constant


def _jacobian_blocks(jacobian: list[list], like: list[list] | None = None) -> list[tuple[PETSc.IS, PETSc.IS, object]]:
    """(row index set, column index set, compiled form) of every block of a block Jacobian that
    has a form: the local index sets of DOLFINx's monolithic layout, that of the block Jacobian
    `like` (by default `jacobian` itself: every row and column must then hold a form)."""
    index_sets = []
    for index in (0, 1):
        spaces = dolfinx.fem.extract_function_spaces(like or jacobian, index)
        maps = [(V.dofmaps[0].index_map, V.dofmaps[0].index_map_bs) for V in spaces]
        index_sets.append(_cpp.la.petsc.create_index_sets(maps))
    rows, columns = index_sets
    return [
        (rows[i], columns[j], form._cpp_object)
        for i, row in enumerate(jacobian)
        for j, form in enumerate(row)
        if form is not None
    ]


def gather(arrays: list[np.ndarray], offsets: list[tuple[int, int, int, int]], x: PETSc.Vec) -> None:
    """Copy the unknowns' arrays (owned and ghost entries) into a monolithic ("mpi") vector: the
    inverse of :func:`scatter`."""
    with x.localForm() as local:
        values = local.array_w
        for array, (start, stop, ghost_start, ghost_stop) in zip(arrays, offsets, strict=True):
            owned = stop - start
            values[start:stop] = array[:owned]
            values[ghost_start:ghost_stop] = array[owned:]


def scatter(x: PETSc.Vec, arrays: list[np.ndarray], offsets: list[tuple[int, int, int, int]]) -> None:
    """Copy a monolithic ("mpi") vector, its ghosts updated, into the unknowns' arrays (``u.x.array``
    of each, taken once: ``dolfinx.fem.petsc.assign(x, unknowns)`` without its per-call set-up)."""
    with x.localForm() as local:
        values = local.array_r
        for array, (start, stop, ghost_start, ghost_stop) in zip(arrays, offsets, strict=True):
            owned = stop - start
            array[:owned] = values[start:stop]
            array[owned:] = values[ghost_start:ghost_stop]


def owned_blocks(model: Model) -> dict[int, tuple[int, int]]:
    """(start, stop) of each unknown's owned dofs in a rank's part of the monolithic ("mpi")
    vector, keyed by id(unknown): the blocks' owned dofs one after the other."""
    blocks, offset = {}, 0
    for u in model.unknowns:
        size = u.function_space.dofmap.index_map.size_local * u.function_space.dofmap.index_map_bs
        blocks[id(u)] = (offset, offset + size)
        offset += size
    return blocks


def block_offsets(model: Model) -> list[tuple[int, int, int, int]]:
    """(owned start, owned stop, ghost start, ghost stop) of each unknown in a rank's local form
    of the monolithic ("mpi") vector: the owned dofs of every unknown one after the other, then
    their ghosts in the same order (the layout of ``dolfinx.fem.petsc.create_vector``)."""
    maps = [(u.function_space.dofmap.index_map, u.function_space.dofmap.index_map_bs) for u in model.unknowns]
    owned = np.cumsum([0] + [im.size_local * bs for im, bs in maps])
    ghosts = owned[-1] + np.cumsum([0] + [im.num_ghosts * bs for im, bs in maps])
    return [(int(owned[k]), int(owned[k + 1]), int(ghosts[k]), int(ghosts[k + 1])) for k in range(len(maps))]


def field_split_rows(model: Model, start: int) -> dict[str, np.ndarray]:
    """The global rows owned by this rank of each field-split block, by name; `start` is the
    rank's first row of the monolithic matrix."""
    offsets = owned_blocks(model)
    return {
        name: np.concatenate([start + np.arange(*offsets[id(u)], dtype=PETSc.IntType) for u in group])
        for name, group in _field_groups(model).items()
    }


def _set_field_splits(problem, model: Model, prefix: str, options: dict) -> None:
    """Name the blocks of the monolithic matrix for the block Gauss-Seidel preconditioner (or
    PCFIELDSPLIT) and configure their solvers.

    The monolithic ("mpi") layout holds on each rank the owned dofs of every unknown one after
    the other, from the rank's first row on.
    """
    comm = problem.A.comm
    rows = field_split_rows(model, problem.A.getOwnershipRange()[0])
    splits = [(name, PETSc.IS().createGeneral(indices, comm=comm)) for name, indices in rows.items()]
    pc = problem.solver.getKSP().getPC()
    if pc.getType() != PETSc.PC.Type.PYTHON:
        pc.setFieldSplitIS(*splits)
    # The sub-solvers read their options when the preconditioner is set up, after the
    # NonlinearProblem has removed its options from the database: put the split ones back.
    db = PETSc.Options()
    for key, value in options.items():
        if key.startswith("fieldsplit_") and value is not None:
            db[prefix + key] = value
    problem.solver.getKSP().setFromOptions()
    if pc.getType() == PETSc.PC.Type.PYTHON:
        sweep = BlockGaussSeidel()
        sweep.set_blocks(splits, prefix)
        pc.setPythonContext(sweep)


def _residual_unless_converged(snes, x, b, assemble, needed, context) -> None:
    """SNES residual callback: `assemble` F(x) into b unless the Newton update that led to x
    already met the error test (``needed``: :meth:`NewtonConvergence.residual_needed`)."""
    if needed(snes):
        assemble(snes, x, b, **context)


class ResidualCallback:
    """The SNES residual callback of a :class:`CellProblem` without Dirichlet conditions: F(x)
    into b, each row's forms assembled by DOLFINx's compiled layer directly (``rest``), the
    interface's integrals point by point (``pointwise``), and the affine integrals (``affine``,
    :func:`split_affine`) by a product with the Jacobian's constant integrals.

    A row's affine integrals F_a are those whose derivative with respect to every unknown holds
    no function: F_a(u) = F_a(u0) + C (u - u0), C their Jacobian, which the Jacobian keeps
    assembled (:class:`ConstantBlocks`, C = K + s M; a conductor's Ohm's law, the lithium's
    diffusion and time derivative). Only the unknowns change in a Newton solve (the Constants and
    the history are set before it): the first residual with C at hand integrates F_a at its
    state u0 and keeps it; the later ones take two matrix-vector products in place of an
    integration over every cell. The same residual to round-off, but not the same round-off: a
    conductor's Ohm's law integrated is invariant to a shift of its potential to the last bit (the
    gradient is taken first), C (u - u0) only to C's round-off times the shift (C u + (F_a(u0) -
    C u0) would be worse: times the potential, 3.7 V). On a composite's Al collector that left
    the residual at 3e-8, above the tolerance of Newton's residual test; the products are used
    only where Newton stops on its error estimate (:class:`NewtonConvergence` with a positive
    fraction, the iterative preset), which they do not change. :meth:`new_state` (each solve,
    each residual outside a solve) drops F_a(u0).
    """

    def __init__(self, layout: tuple, rest: list, affine: list, pointwise, like: PETSc.Vec, convergence=None):
        self._arrays, self._offsets = layout
        self._rest = [f._cpp_object if f is not None else None for f in rest]
        self._affine = [f._cpp_object if f is not None else None for f in affine]
        self._pointwise = pointwise
        self.constant: ConstantBlocks | None = None  # the Jacobian's (create_solver)
        self._f0: PETSc.Vec | None = None  # F_a(u0), owned entries, at the state u0 = x0
        self._x0: PETSc.Vec | None = None
        # C's rows outside the affine integrals' rows (the owned ranges of rows without any)
        self._other_rows = [slice(a, b) for f, (a, b, _, _) in zip(affine, self._offsets, strict=True) if f is None]
        self._has_affine = any(f is not None for f in affine)
        self._convergence = convergence
        self._f0_valid = False
        self._taken_with: tuple[int, list[np.ndarray]] = (-1, [])
        self._like = like
        self._work: list[PETSc.Vec] = []
        self._blocks: list[np.ndarray] = []  # each row's local array, owned and ghost entries

    def new_state(self) -> None:
        self._f0_valid = False

    def __call__(self, _snes, x: PETSc.Vec, b: PETSc.Vec) -> None:
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        scatter(x, self._arrays, self._offsets)
        self._add_local(b, self._rest, self._pointwise)
        if self._f0_holds():  # F_a(u) = F_a(u0) + C (u - u0)
            b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            step, product = self._work[0], self._work[1]
            step.waxpy(-1.0, self._x0, x)
            self._times_c(step, product)
            b.axpy(1.0, product)
            b.axpy(1.0, self._f0)
        elif self._product_applies():
            if not self._work:
                self._f0, self._x0, *self._work = (self._like.duplicate() for _ in range(5))
            self._add_local(self._f0, self._affine, None)
            self._f0.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            b.axpy(1.0, self._f0)
            x.copy(self._x0)
            self._f0_valid, self._taken_with = True, self._state()
        else:  # every integral assembled
            self._add_local(b, self._affine, None, zero=False)
            b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        b.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)

    def _state(self) -> tuple[int, list[np.ndarray]]:
        """What F_a(u0) and C depend on besides the fields: the constant blocks' assembly and
        the affine integrals' Constants (s among them)."""
        return self.constant.assemblies, [_cpp.fem.pack_constants(f) for f in self._affine if f is not None]

    def _product_applies(self) -> bool:
        """Affine integrals, C current, and Newton stopped by its error estimate."""
        stops_on_error = self._convergence is not None and self._convergence.fraction > 0.0
        return stops_on_error and self._has_affine and self.constant is not None and self.constant.current()

    def _f0_holds(self) -> bool:
        if not self._f0_valid or not self._product_applies():
            return False
        assemblies, constants = self._state()
        return assemblies == self._taken_with[0] and _equal(constants, self._taken_with[1])

    def _times_c(self, x: PETSc.Vec, y: PETSc.Vec) -> None:
        """y := C x on the rows of affine integrals, 0 on the others (owned entries)."""
        self.constant.mult(x, y, self._work[2])
        owned = y.getArray()
        for rows in self._other_rows:
            owned[rows] = 0.0

    def _add_local(self, b: PETSc.Vec, forms: list, pointwise, zero: bool = True) -> None:
        """Assemble `forms` (and `pointwise`) into b's local entries, owned and ghost (before
        the ghosts are summed); b zeroed first unless not `zero`."""
        with b.localForm() as local:
            if zero:
                local.set(0.0)
            array = local.array_w
            if not self._blocks:  # kept: arrays of 1 MiB and more are mapped afresh at each call
                sizes = [stop - start + gstop - gstart for start, stop, gstart, gstop in self._offsets]
                self._blocks = [np.empty(size, dtype=array.dtype) for size in sizes]
            blocks = self._blocks
            for form, block in zip(forms, blocks, strict=True):
                block.fill(0.0)
                if form is not None:
                    constants, coefficients = _cpp.fem.pack_constants(form), _cpp.fem.pack_coefficients(form)
                    _cpp.fem.assemble_vector(block, form, constants, coefficients)
            if pointwise is not None:
                pointwise.add_residual(blocks)
            for block, (start, stop, ghost_start, ghost_stop) in zip(blocks, self._offsets, strict=True):
                array[start:stop] += block[: stop - start]
                array[ghost_start:ghost_stop] += block[stop - start :]

    def destroy(self) -> None:
        for vec in [self._f0, self._x0, *self._work]:
            if vec is not None:
                vec.destroy()
        self._f0, self._x0, self._work = None, None, []


def split_affine(residuals: list, jacobian: list[list]) -> tuple[list, list]:
    """(rest, affine) of each residual row: its integral groups (by type and subdomain, as
    :func:`split_constant` groups them) whose derivative in every Jacobian block went to the
    constant part, and the others. A row keeps everything in rest (its affine part None) when
    its Jacobian's constant part holds the derivative of any other group: C u would then count
    an integral the row also assembles. ``rest[i] is residuals[i]`` where nothing was split."""
    rest, affine = [], []
    for form, blocks in zip(residuals, jacobian, strict=True):
        if form is None:
            rest.append(None)
            affine.append(None)
            continue
        groups = _integral_groups(form)
        varying, constant = set(), set()
        for block in blocks:
            for part, keys in zip(split_constant(block), (varying, constant), strict=True):
                keys.update((i.integral_type(), i.subdomain_id()) for i in (part.integrals() if part else []))
        kept = [key for key in groups if key not in varying]
        if not kept or not constant <= set(kept):
            rest.append(form)
            affine.append(None)
            continue
        others = [i for key in groups if key in varying for i in groups[key]]
        rest.append(ufl.Form(others) if others else None)
        affine.append(ufl.Form([i for key in kept for i in groups[key]]))
    return rest, affine


def converged(problem: CellProblem) -> tuple[bool, int, int]:
    """(converged, SNES reason, Newton iterations) of the last solve."""
    reason = problem.solver.getConvergedReason()
    return reason > 0, reason, problem.solver.getIterationNumber()


__all__ = [
    "ELASTICITY_ITERATIVE_ABOVE_DOFS",
    "ITERATIVE_ABOVE_DOFS",
    "CellProblem",
    "ConstantBlocks",
    "JacobianCallback",
    "NewtonConvergence",
    "PETSc",
    "ResidualCallback",
    "block_offsets",
    "converged",
    "create_solver",
    "default_options",
    "field_split_rows",
    "iterative_options",
    "number_of_dofs",
    "owned_blocks",
    "split_affine",
    "split_constant",
]
