"""Time integration of a model's dynamic fields: variable-step BDF2 with local error control.

The integrator knows the model and its nonlinear solver, not the experiment. Within a segment
of constant control it takes BDF2 steps,

    (a0 u_{n+1} + a1 u_n + a2 u_{n-1}) / h = f(u_{n+1}),   a = ((1+2w)/(1+w), -(1+w), w^2/(1+w)),

w = h / h_prev, and estimates each step's local error by Milne's device: the predictor is the
quadratic through the last three points (the method's order), and for a smooth solution both
its error and BDF2's are proportional to h^3 u''' with constants that depend on the last three
step lengths only (:func:`milne_factor`), so LTE = K (u - u_pred). The next step follows the
error with the exponent 1/3.

A change of control (a new experiment step) makes the algebraic unknowns (the potentials)
jump while the dynamic fields (stoichiometry, temperature) are continuous. The segment then
starts from a consistent point: the dynamic fields as they were, the algebraic unknowns solved
for the new control (:meth:`BDFIntegrator.consistent_start`). Its first step is backward Euler
checked by step doubling (one step h against two of h/2, backward Euler then BDF2; their
difference bounds the error of the half steps, which are kept), sized with the exponent 1/2;
from the second step on the
segment has the three points BDF2's estimate needs. Every step is checked.

Errors are measured on the cell voltage and on every dynamic field, each against its own
tolerance (the maximum over the mesh), and reduced over MPI ranks.

Each implicit step starts Newton from the predictor. With a factorising linear solver (LU, every
thin film) it is a modified Newton method: the Jacobian assembled and factorised once, at the
predictor, and kept for the step's later iterations; they converge to the same tolerance as
Newton's, each at the cost of a residual and a back-substitution (:meth:`BDFIntegrator._newton`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.model_interface import Model
from ssbfem.solvers import converged

#: The consistent start of a segment: a backward-Euler step of this fraction of the segment's
#: first step settles the algebraic unknowns on the new control (the dynamic fields are then put
#: back where they were). Much shorter steps (1e-9 s) leave the iterative preset's linear solves
#: inaccurate on the lithium and heat blocks, whose mass terms then dominate by 1e9.
CONSISTENT_FRACTION = 1.0e-2

#: When Newton cannot take a segment's jump of current (or power) at once (a large current on a
#: resistive cell, from rest: exponential kinetics far from the initial guess), the consistent
#: start reaches it through these fractions of the set-point, each solve starting from the last.
CONTINUATION = (0.125, 0.25, 0.5, 1.0)


@dataclass
class Point:
    """An accepted solution: time, copies of the unknowns' local arrays, voltage and current."""

    t: float
    arrays: list[np.ndarray]
    voltage: float
    current: float


def bdf2_coefficients(h: float, h_prev: float | None) -> tuple[float, float, float]:
    """(a0, a1, a2) of variable-step BDF2 (backward Euler when there is no previous step)."""
    if h_prev is None:
        return 1.0, -1.0, 0.0
    w = h / h_prev
    return (1 + 2 * w) / (1 + w), -(1 + w), w**2 / (1 + w)


def milne_factor(h: float, h1: float, h2: float) -> float:
    """K such that the local error of a BDF2 step is K (u - u_pred), u_pred the quadratic
    through the three previous points.

    h is the step, h1 and h2 the two before it. For u = u''' (t - t_{n+1})^3 / 6 the BDF2
    residual of the exact solution is tau = u'''/6 (a1 (-h)^3 + a2 (-(h + h1))^3), so
    u - u_exact = -tau / a0; the predictor misses by u'''/6 h (h + h1)(h + h1 + h2). K is the
    first over their sum (2/11 for constant steps)."""
    a0, a1, a2 = bdf2_coefficients(h, h1)
    bdf = -(a1 * (-h) ** 3 + a2 * (-(h + h1)) ** 3) / a0
    predictor = h * (h + h1) * (h + h1 + h2)
    return bdf / (bdf + predictor)


def extrapolate(points: list[Point], t: float) -> list[np.ndarray]:
    """Lagrange extrapolation of every unknown through the points to t."""
    ts = [p.t for p in points]
    weights = [math.prod((t - tj) / (ti - tj) for j, tj in enumerate(ts) if j != i) for i, ti in enumerate(ts)]
    return [sum(w * p.arrays[k] for w, p in zip(weights, points, strict=True)) for k in range(len(points[0].arrays))]


class BDFIntegrator:
    """Steps of a model's fields with a nonlinear solver (``ssbfem.solvers.create_solver``).

    Args:
        model: The model.
        problem: Its nonlinear problem.
        tolerances: Local error tolerance by kind: "voltage" (V) and each dynamic field's kind
            ("stoichiometry", "temperature" K, "potential" V).
        before_solve: Called with the time a step ends at, before it is solved (a time-dependent
            control sets itself there).
    """

    def __init__(
        self,
        model: Model,
        problem,
        tolerances: dict[str, float],
        before_solve: Callable[[float], None] | None = None,
    ):
        self.model = model
        self.problem = problem
        self.tolerances = tolerances
        self.before_solve = before_solve or (lambda t: None)
        self.comm = model.cellmesh.mesh.comm
        self.newton_iterations = 0
        self._index = {id(u): k for k, u in enumerate(model.unknowns)}
        self.predicted: list[np.ndarray] = []  # the Newton guess of the last solve

    # -- state
    def capture(self, t: float) -> Point:
        m = self.model
        return Point(t, [u.x.array.copy() for u in m.unknowns], m.cell_voltage(), m.current_density())

    def restore(self, arrays: list[np.ndarray]) -> None:
        for u, a in zip(self.model.unknowns, arrays, strict=True):
            u.x.array[:] = a

    # -- one implicit step
    def prepare(self, history: list[Point], h: float, h_prev: float | None) -> None:
        """Set the BDF coefficients and the dynamic fields' previous values of a step of h from
        the last point (BDF2 with h_prev, else backward Euler): what the residual's rates, and
        every form that holds them, see."""
        m = self.model
        for const, a in zip(m.bdf, bdf2_coefficients(h, h_prev), strict=True):
            const.value = a
        m.inv_dt.value = 1.0 / h
        for u, u_n, u_nm1, _ in m.dynamic:
            u_n.x.array[:] = history[-1].arrays[self._index[id(u)]]
            if h_prev is not None:
                u_nm1.x.array[:] = history[-2].arrays[self._index[id(u)]]

    def solve(self, history: list[Point], h: float, h_prev: float | None) -> tuple[bool, str]:
        """Solve from the last point over h (BDF2 with h_prev, else backward Euler), starting
        Newton from the extrapolation of the last points. Returns (ok, why not)."""
        m = self.model
        self.prepare(history, h, h_prev)
        last = history[-1]
        self.before_solve(last.t + h)
        guess = history[-3:] if h_prev is not None else history[-1:]
        predicted = extrapolate(guess, last.t + h) if len(guess) > 1 else last.arrays
        self.restore(predicted)
        if m.T_lagged is not None:  # lagged coupling: the electrochemistry takes the predicted T
            m.T_lagged.x.array[:] = predicted[self._index[id(m.temperature_rise)]]
        self.predicted = predicted
        ok, reason = self._newton(predicted)
        if not ok:
            return False, f"Newton did not converge (SNES reason {reason}); {self._worst_block()}"
        return self._usable()

    def _usable(self) -> tuple[bool, str]:
        """Whether the solution just found can be used: no NaN, the stoichiometry inside (0, 1)
        (one reduction over the ranks). Returns (ok, why not)."""
        m = self.model
        theta = m.theta.x.array
        flags = [float(not np.all(np.isfinite(u.x.array))) for u in m.unknowns]
        reduced = self._max([*flags, -theta.min(initial=np.inf), theta.max(initial=-np.inf)])
        bad = [u.name for u, flag in zip(m.unknowns, reduced, strict=False) if flag > 0.0]
        if bad:
            return False, f"NaN in {', '.join(bad)}"
        t_min, t_max = -reduced[-2], reduced[-1]
        if t_min <= 0.0 or t_max >= 1.0:
            return False, f"stoichiometry left (0, 1): [{t_min:.6g}, {t_max:.6g}]"
        return True, ""

    def _newton(self, guess: list[np.ndarray]) -> tuple[bool, int]:
        """Solve from `guess` (the unknowns hold it). With a factorising linear solver, by a
        modified Newton method first: the Jacobian assembled and factorised at the guess and kept
        for the later iterations, which converge to the same tolerance, each far cheaper than a
        Newton iteration (a residual and a back-substitution against an assembly and a
        factorisation: on the thin film 0.09 ms against 0.4 ms); the predictor starts them close
        enough that few more are needed (5 % more over a 50-cycle run, with half the assemblies).
        If that fails, or with an iterative linear solver (whose Krylov iterations, not the
        assembly, dominate a Newton iteration), Newton's method. Returns (converged, SNES reason).
        """
        jacobian = getattr(self.problem, "jacobian_callback", None)
        modified = jacobian is not None and jacobian.factorised
        modes = ("once", "newton") if modified else ("newton",)
        for attempt, mode in enumerate(modes):
            if jacobian is not None:
                jacobian.mode = mode
            if attempt:
                self.restore(guess)
            self.problem.solve()
            ok, reason, its = converged(self.problem)
            self.newton_iterations += its
            if ok:
                break
        if jacobian is not None:
            jacobian.mode = "newton"
        return ok, reason

    def distance(self, a: list[np.ndarray], b: list[np.ndarray]) -> float:
        """max over the voltage and the dynamic fields of |a - b| / tolerance (MPI-reduced)."""
        m, tol = self.model, self.tolerances
        k = self._index[id(m.voltage)]
        local = [abs(float(a[k][0]) - float(b[k][0])) / tol["voltage"] if a[k].size else 0.0]
        for u, _, _, kind in m.dynamic:
            k = self._index[id(u)]
            local.append(np.abs(a[k] - b[k]).max(initial=0.0) / tol[kind])
        return self._max(local).max()

    def step(self, history: list[Point], h: float, h_prev: float) -> tuple[bool, float, str, list[Point]]:
        """A BDF2 step with its error estimate (needs three points of the segment). The model is
        left holding the new point, prepared for this step.

        Returns (ok, estimated error / tolerance, why not, [the new point])."""
        last = history[-1]
        ok, why = self.solve(history, h, h_prev)
        if not ok:
            return False, math.inf, why, []
        new = self.capture(last.t + h)
        h2 = history[-2].t - history[-3].t
        error = abs(milne_factor(h, h_prev, h2)) * self.distance(new.arrays, self.predicted)
        return True, error, "", [new]

    def first_step(self, history: list[Point], h: float) -> tuple[bool, float, str, list[Point]]:
        """Backward Euler over h from a segment's start, checked by two steps of h/2 (backward
        Euler, then BDF2): their difference is the error of the single step, an upper bound of
        that of the two. The model is left holding the second half point, prepared for its step.
        Returns (ok, estimated error of the half steps / tolerance, why not, [both half points])."""
        start = history[-1]
        ok, why = self.solve([start], h, None)
        if not ok:
            return False, math.inf, why, []
        full = [u.x.array.copy() for u in self.model.unknowns]
        ok, why = self.solve([start], 0.5 * h, None)
        if not ok:
            return False, math.inf, why, []
        middle = self.capture(start.t + 0.5 * h)
        ok, why = self.solve([start, middle], 0.5 * h, 0.5 * h)
        if not ok:
            return False, math.inf, why, []
        end = self.capture(start.t + h)
        return True, self.distance(end.arrays, full), "", [middle, end]

    def consistent_start(self, point: Point, first_step: float) -> Point:
        """The start of a new segment: the dynamic fields of `point`, the algebraic unknowns
        solved for the control now set (the point itself if that solve fails)."""
        h = CONSISTENT_FRACTION * first_step
        ok, _ = self.solve([point], h, None)
        if not ok:
            ok = self._continued(point, h)
        if not ok:
            self.restore(point.arrays)
            return point
        arrays = [u.x.array.copy() for u in self.model.unknowns]
        for u, _, _, _ in self.model.dynamic:
            k = self._index[id(u)]
            arrays[k] = point.arrays[k].copy()
        self.restore(arrays)
        return self.capture(point.t)

    def _continued(self, point: Point, h: float) -> bool:
        """The consistent-start solve reached through :data:`CONTINUATION`'s fractions of the
        current and power set-points (a voltage set-point is left as it is)."""
        m = self.model
        self.prepare([point], h, None)
        self.before_solve(point.t + h)
        controls = (m.setpoint[0], m.setpoint[2])
        targets = [float(c.value) for c in controls]
        if not any(targets):
            return False
        guess, ok = point.arrays, False
        try:
            for fraction in CONTINUATION:
                for control, target in zip(controls, targets, strict=True):
                    control.value = fraction * target
                self.restore(guess)
                ok = self._newton(guess)[0] and self._usable()[0]
                if not ok:
                    break
                guess = [u.x.array.copy() for u in m.unknowns]
        finally:
            for control, target in zip(controls, targets, strict=True):
                control.value = target
        return ok

    # -- helpers
    def _max(self, values: list[float]) -> np.ndarray:
        """The maximum over the ranks of each value (one reduction)."""
        local = np.array(values, dtype=float)
        reduced = np.empty_like(local)
        self.comm.Allreduce(local, reduced, op=MPI.MAX)
        return reduced

    def _worst_block(self) -> str:
        """Name the unknown whose residual block is largest at the last Newton iterate."""
        norms = []
        for u, form in zip(self.model.unknowns, self.problem.F, strict=True):
            vec = dolfinx.fem.petsc.assemble_vector(form)
            vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            norms.append((vec.norm(), u.name))
            vec.destroy()
        norm, name = max(norms)
        return f"largest residual in the {name} equation ({norm:.3g})"
