"""Time integration of a model's dynamic fields: variable-order (1 to 5), variable-step BDF with
local error control.

The integrator knows the model and its nonlinear solver, not the experiment. Within a segment
of constant control it takes BDF steps of order k,

    (a0 u_{n+1} + a1 u_n + ... + ak u_{n+1-k}) / h = f(u_{n+1}),   h = t_{n+1} - t_n,

a_j = h l_j'(t_{n+1}), l_j the Lagrange basis polynomials through the k + 1 times t_{n+1}, ...,
t_{n+1-k} (:func:`bdf_coefficients`; for k = 2, a = ((1+2w)/(1+w), -(1+w), w^2/(1+w)), w = h /
h_prev). The forms see d(u)/dt = inv_dt (a0 u + u_hist): the integrator sums u_hist = a1 u_n +
... + ak u_{n+1-k} from the points it keeps before every solve (:meth:`BDFIntegrator.prepare`).

Each step's local error is estimated by the generalised Milne device: the predictor of order k
is the polynomial through the last k + 1 points extrapolated to t_{n+1}, and for a smooth
solution both its error and BDF-k's are proportional to h^{k+1} u^{(k+1)} with constants that
depend on the last k + 1 step lengths only (:func:`error_factor`), so LTE = K (u - u_pred). For
constant steps K = 1 / (1 + (k+1) H_k), H_k = 1 + 1/2 + ... + 1/k (1/3, 2/11, 6/35, 12/61,
60/347 for k = 1..5). The next step follows the error with the exponent 1/(k+1).

The order follows the policy of DASSL and IDA (Brenan, Campbell & Petzold, Numerical Solution
of Initial-Value Problems in DAEs, 1996, ch. 5): after each accepted step the error is
estimated as if the step had been taken at orders k - 1 and k + 1 too, each by the same device
with the predictor of that order (the (k+1)-th and (k+3)-th divided differences of the computed
points); the order allowing the largest next step is taken. The order rises only after k + 1
steps at order k (so that the points behind the k + 1 estimate come from one method) and only
to :attr:`BDFIntegrator.max_order`; it does not fall below 2 after a segment's start (BDF2 is
A-stable; a stiff cell needs no order 1). A step of order k grows by at most
:data:`MAX_GROWTH` [k] over the last, inside the zero-stability bound of variable-step BDF-k
for a constant step ratio (1 + sqrt 2, 1.618, 1.281, 1.128 for k = 2..5: Grigorieff, Numer.
Math. 42, 1983; :func:`ratio_bound` computes them). With ``max_order = 2`` this is the
variable-step BDF2 of earlier versions, step for step.

A change of control (a new experiment step) makes the algebraic unknowns (the potentials)
jump while the dynamic fields (stoichiometry, temperature) are continuous. The segment then
starts from a consistent point: the dynamic fields as they were, the algebraic unknowns solved
for the new control (:meth:`BDFIntegrator.consistent_start`). Its first step is backward Euler
checked by step doubling (one step h against two of h/2, backward Euler then BDF2; their
difference bounds the error of the half steps, which are kept), sized with the exponent 1/2;
from the second step on the segment has the three points BDF2's estimate needs, and the order
rises from there. Every step is checked.

Errors are measured on the cell voltage and on every dynamic field, each against its own
tolerance, and reduced over MPI ranks: a field's error is by default its maximum over the dofs,
optionally its root mean square (the weighted RMS norm of IDA and of PETSc's TS adaptors), which
resolves the thin diffusion layer under a particle's surface at the start of a discharge less
finely: on a 3D composite about as many steps as the maximum at the same voltage error.

Each implicit step starts Newton from the predictor. With a factorising linear solver (LU, every
thin film) it is a modified Newton method: the Jacobian assembled and factorised once, at the
predictor, and kept for the step's later iterations; they converge to the same tolerance as
Newton's, each at the cost of a residual and a back-substitution (:meth:`BDFIntegrator._newton`).
With an iterative linear solver the Jacobian and its preconditioner are kept across steps, as
DASSL and IDA keep their iteration matrix: the kinetics linearised at an earlier step, the mass
terms of the present one (:data:`JACOBIAN_LAG_STEPS`); an iteration then costs a residual and a
Krylov solve, and a slow one falls back to Newton's method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from ssbfem.model_interface import Model
from ssbfem.solvers import converged, owned_blocks

#: The consistent start of a segment: a backward-Euler step of this fraction of the segment's
#: first step settles the algebraic unknowns on the new control (the dynamic fields are then put
#: back where they were). Much shorter steps (1e-9 s) leave the iterative preset's linear solves
#: inaccurate on the lithium and heat blocks, whose mass terms then dominate by 1e9.
CONSISTENT_FRACTION = 1.0e-2

#: With an iterative linear solver a step's Newton iterations stop by default once the error
#: left in the iterate (estimated from the iterations' contraction rate) is below this fraction
#: of the local error tolerances (each unknown's: the potentials the voltage's) everywhere, or
#: when the residual meets the solver's own test (:class:`ssbfem.solvers.NewtonConvergence`).
#: IDA's. Against the residual test, on a 20k-unknown composite's 1C discharge (iterative preset,
#: fraction 0.1) 207 Newton iterations instead of 342, the same capacity; on the thin film
#: (modified Newton, where the residual test is the default) 156 instead of 314 with the same
#: error against a fine reference. 0.33 against 0.1 on the 55k and 58k composites: the same
#: steps and Newton iterations within 3 %, a quarter fewer Jacobians (kept ones fail less often),
#: the same error against fine references (0.125 against 0.127 mV, 0.151 against 0.150 mV;
#: benchmarks/RESULTS.md).
NEWTON_FRACTION = 0.33

#: With an iterative linear solver a step's Newton iterations start from the Jacobian (its
#: kinetics) and preconditioner of an earlier step, the present step's mass terms brought in
#: (``JacobianCallback`` mode "lagged"), for at most this many steps after the last assembly; a
#: lagged solve that needs more than LAGGED_ITERATIONS iterations, or contracts slower than
#: NewtonConvergence.MAX_CHORD_RATE, is solved again from the predictor with Newton's method;
#: the next step assembles afresh, and after k failures in a row the next 2^(k-1) steps do. IDA
#: keeps its iteration matrix for up to 20 steps (MSBP) and allows 4 iterations (MAXIT). 0:
#: every step assembles (Newton's method throughout).
JACOBIAN_LAG_STEPS = 20
LAGGED_ITERATIONS = 4

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


#: The largest growth of a step of order k over the last (index k): below the constant-ratio
#: zero-stability bound of variable-step BDF-k (:func:`ratio_bound`: 1 + sqrt 2, 1.618, 1.281,
#: 1.128 for k = 2..5), with a margin for ratios that vary.
MAX_GROWTH = (0.0, 2.0, 2.0, 1.5, 1.2, 1.1)


def bdf_coefficients(times: list[float]) -> np.ndarray:
    """(a0, ..., ak) of the variable-step BDF formula through times = [t_{n+1}, t_n, ...,
    t_{n+1-k}]: d(u)/dt (t_{n+1}) = sum_j a_j u(t_{n+1-j}) / h, h = t_{n+1} - t_n, exact for
    polynomials of degree k (a_j = h l_j'(t_{n+1}), l_j the Lagrange basis)."""
    t0, h = times[0], times[0] - times[1]
    a = [h * sum(1.0 / (t0 - tm) for tm in times[1:])]
    for j in range(1, len(times)):
        others = [tm for m, tm in enumerate(times) if m not in (0, j)]
        numerator = math.prod(t0 - tm for tm in others)
        denominator = math.prod(times[j] - tm for m, tm in enumerate(times) if m != j)
        a.append(h * numerator / denominator)
    return np.array(a)


def bdf2_coefficients(h: float, h_prev: float | None) -> tuple[float, float, float]:
    """(a0, a1, a2) of variable-step BDF2 (backward Euler when there is no previous step)."""
    if h_prev is None:
        return 1.0, -1.0, 0.0
    w = h / h_prev
    return (1 + 2 * w) / (1 + w), -(1 + w), w**2 / (1 + w)


def error_factor(times: list[float]) -> float:
    """K such that the local error of a BDF-k step is K (u - u_pred), u_pred the polynomial through
    the k + 1 previous points; times = [t_{n+1}, t_n, ..., t_{n-k}] (k + 2 of them).

    For u = (t - t_{n+1})^{k+1} (times u^{(k+1)}/(k+1)!) the BDF residual of the exact solution is
    tau = sum_{j>=1} a_j u(t_{n+1-j}) (u and u' vanish at t_{n+1}), so u - u_exact = -tau / a0;
    the predictor misses by prod_{i=0..k} (t_{n+1} - t_{n-i}). K is the first over their sum: for
    constant steps 1 / (1 + (k+1) H_k), H_k = 1 + 1/2 + ... + 1/k."""
    k = len(times) - 2
    a = bdf_coefficients(times[: k + 1])
    bdf = -sum(a[j] * (times[j] - times[0]) ** (k + 1) for j in range(1, k + 1)) / a[0]
    predictor = math.prod(times[0] - ti for ti in times[1:])
    return bdf / (bdf + predictor)


def milne_factor(h: float, h1: float, h2: float) -> float:
    """:func:`error_factor` of BDF2: h the step, h1 and h2 the two before it (2/11 for constant
    steps)."""
    a0, a1, a2 = bdf2_coefficients(h, h1)
    bdf = -(a1 * (-h) ** 3 + a2 * (-(h + h1)) ** 3) / a0
    predictor = h * (h + h1) * (h + h1 + h2)
    return bdf / (bdf + predictor)


def ratio_bound(order: int) -> float:
    """The largest constant step ratio w = h_{n+1}/h_n for which variable-step BDF of `order` is
    zero-stable: the roots of sum_j a_j z^(k-j) other than 1 inside the unit circle (to 1e-3)."""

    def stable(w: float) -> bool:
        steps = np.cumsum([w ** (-i) for i in range(order)])
        roots = np.roots(bdf_coefficients([0.0, *(-steps)]))
        return np.sort(np.abs(roots))[-2] < 1.0 - 1e-9 if order > 1 else True

    w = 1.0
    while stable(w + 1e-3) and w < 10.0:
        w += 1e-3
    return w


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
        max_order: The highest BDF order (1 to 5).
        error_norm: "max" (a field's error is its largest over the dofs) or "rms" (its root mean
            square).
        newton_fraction: Newton stops once its estimated error is below this fraction of the
            tolerances (0: the solver's residual test only).
        jacobian_lag_steps: With an iterative linear solver, how many steps may start from an
            earlier step's Jacobian and preconditioner (:data:`JACOBIAN_LAG_STEPS`; 0: none).
    """

    def __init__(
        self,
        model: Model,
        problem,
        tolerances: dict[str, float],
        before_solve: Callable[[float], None] | None = None,
        max_order: int = 4,
        newton_fraction: float = 0.0,
        error_norm: str = "max",
        jacobian_lag_steps: int = 0,
    ):
        self.model = model
        self.problem = problem
        self.tolerances = tolerances
        self.before_solve = before_solve or (lambda t: None)
        self.max_order = max_order
        self.error_norm = error_norm
        self.coefficients = np.array([1.0, -1.0])  # (a0, ..., ak) of the step last prepared
        self.comm = model.cellmesh.mesh.comm
        self.newton_iterations = 0
        self.linear_iterations = 0  # Krylov iterations (one per Newton iteration with a factorisation)
        self._index = {id(u): k for k, u in enumerate(model.unknowns)}
        self.predicted: list[np.ndarray] = []  # the Newton guess of the last solve
        self.jacobian_lag_steps = jacobian_lag_steps
        self.jacobian_age: int | None = None  # steps since the Jacobian was assembled at a converged solve
        self._lag_failures = 0  # lagged solves failed in a row
        self._lag_pause = 0  # solves to take with a fresh Jacobian before lagging again
        self.convergence = getattr(problem, "convergence", None)  # the solver's NewtonConvergence, if any
        if self.convergence is not None:
            self.convergence.scale_update(self._update_blocks(), newton_fraction, self.comm)
            self.convergence.iteration_limit = LAGGED_ITERATIONS

    def _update_blocks(self) -> list[tuple[int, int, float]]:
        """(owned start, stop, tolerance) of each unknown in the monolithic vector: a dynamic
        field's own tolerance, the voltage's for the potentials."""
        kinds = {id(u): kind for u, _, kind in self.model.dynamic}
        blocks = owned_blocks(self.model)
        return [(*blocks[id(u)], self.tolerances[kinds.get(id(u), "voltage")]) for u in self.model.unknowns]

    # -- state
    def capture(self, t: float) -> Point:
        m = self.model
        return Point(t, [u.x.array.copy() for u in m.unknowns], m.cell_voltage(), m.current_density())

    def restore(self, arrays: list[np.ndarray]) -> None:
        for u, a in zip(self.model.unknowns, arrays, strict=True):
            u.x.array[:] = a

    # -- one implicit step
    def prepare(self, history: list[Point], h: float, order: int) -> None:
        """Set the BDF coefficients of a step of h and `order` from the last point, and each
        dynamic field's u_hist = a1 u_n + ... + ak u_{n+1-k} from the last `order` points: what
        the residual's rates, and every form that holds them, see."""
        m = self.model
        times = [history[-1].t + h, *(p.t for p in reversed(history[-order:]))]
        a = bdf_coefficients(times)
        self.coefficients = a
        m.bdf[0].value = a[0]
        m.inv_dt.value = 1.0 / h
        for u, u_hist, _ in m.dynamic:
            k = self._index[id(u)]
            u_hist.x.array[:] = a[1] * history[-1].arrays[k]
            for j in range(2, order + 1):
                u_hist.x.array[:] += a[j] * history[-j].arrays[k]

    def solve(self, history: list[Point], h: float, order: int) -> tuple[bool, str]:
        """Solve from the last point over h with BDF of `order` (the last `order` points), starting
        Newton from the predictor of that order (the last order + 1 points extrapolated; the last
        point at a segment's start). Returns (ok, why not)."""
        m = self.model
        self.prepare(history, h, order)
        last = history[-1]
        self.before_solve(last.t + h)
        guess = history[-(order + 1) :]
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
        If that fails, Newton's method. With an iterative linear solver, Newton's method, first
        from the Jacobian and preconditioner of an earlier step where :data:`JACOBIAN_LAG_STEPS`
        allows: its kinetics linearised at an earlier state, its mass terms the present step's
        (at most :data:`LAGGED_ITERATIONS` iterations). Returns (converged, SNES reason).
        """
        jacobian = getattr(self.problem, "jacobian_callback", None)
        modes = self._newton_modes(jacobian)
        for attempt, mode in enumerate(modes):
            if jacobian is not None:
                jacobian.mode = mode
            if self.convergence is not None:
                self.convergence.chord = mode == "lagged"
            if attempt:
                self.restore(guess)
            self.problem.solve()
            ok, reason, its = converged(self.problem)
            self.newton_iterations += its
            self.linear_iterations += self.problem.solver.getLinearSolveIterations()
            if ok:
                break
            self._forget_rate()
        if jacobian is not None:
            jacobian.mode = "newton"
        if self.convergence is not None:
            self.convergence.chord = False
        # A Jacobian assembled at a failed solve's iterates is not worth keeping; one that needed
        # the limit's iterations is too far from the present state.
        if not ok or (mode == "lagged" and its >= LAGGED_ITERATIONS - 1):
            self.jacobian_age = None
        else:
            self.jacobian_age = self.jacobian_age + 1 if mode == "lagged" else 0
        if modes[0] == "lagged":  # back off from lagging while it fails
            self._lag_failures = 0 if mode == "lagged" and ok else self._lag_failures + 1
            self._lag_pause = min(2 ** (self._lag_failures - 1), self.jacobian_lag_steps) if self._lag_failures else 0
        return ok, reason

    def _newton_modes(self, jacobian) -> tuple[str, ...]:
        """The Jacobian modes to try, in order (see :meth:`_newton`)."""
        if jacobian is None:
            return ("newton",)
        if jacobian.factorised:
            return ("once", "newton")
        age = self.jacobian_age
        if self._lag_pause > 0:
            self._lag_pause -= 1
            return ("newton",)
        if jacobian.can_lag and age is not None and age < self.jacobian_lag_steps:
            return ("lagged", "newton")
        return ("newton",)

    def distance(self, a: list[np.ndarray], b: list[np.ndarray]) -> float:
        """The largest of |a - b| / tolerance over the voltage and each dynamic field, a field's
        either its maximum over the dofs (``error_norm`` "max") or its root mean square ("rms", the
        weighted RMS norm of IDA and PETSc's TS); MPI-reduced."""
        m, tol = self.model, self.tolerances
        k = self._index[id(m.voltage)]
        voltage = abs(float(a[k][0]) - float(b[k][0])) / tol["voltage"] if a[k].size else 0.0
        maxima, squares, counts = [voltage], [], []
        for u, _, kind in m.dynamic:
            k = self._index[id(u)]
            owned = u.function_space.dofmap.index_map.size_local * u.function_space.dofmap.index_map_bs
            scaled = (a[k][:owned] - b[k][:owned]) / tol[kind]
            if self.error_norm == "max":
                maxima.append(np.abs(scaled).max(initial=0.0))
            else:
                squares.append(float(scaled @ scaled))
                counts.append(owned)
        if self.error_norm == "max":
            return self._max(maxima).max()
        sums = self.comm.allreduce(np.array([*squares, *counts], dtype=float), op=MPI.SUM)
        n = len(squares)
        rms = [math.sqrt(sums[i] / sums[n + i]) if sums[n + i] else 0.0 for i in range(n)]
        return max(self._max([voltage]).max(), *rms)

    def step(self, history: list[Point], h: float, order: int) -> tuple[bool, dict[int, float], str, list[Point]]:
        """A BDF step of `order` with its error estimate (needs order + 1 points of the segment).
        The model is left holding the new point, prepared for this step.

        Returns (ok, estimated error / tolerance by order, why not, [the new point]): the error of
        this step at `order`, and as if it had been taken at order - 1 (down to 2) and order + 1
        (up to :attr:`max_order`, when history has the order + 2 points its estimate needs).
        """
        last = history[-1]
        ok, why = self.solve(history, h, order)
        if not ok:
            return False, {order: math.inf}, why, []
        new = self.capture(last.t + h)
        errors = {order: self._estimate(history, new, order, self.predicted)}
        if order > 2:
            errors[order - 1] = self._estimate(history, new, order - 1)
        if order < self.max_order and len(history) >= order + 2:
            errors[order + 1] = self._estimate(history, new, order + 1)
        return True, errors, "", [new]

    def _estimate(self, history: list[Point], new: Point, order: int, predicted: list | None = None) -> float:
        """|K| |u - u_pred| / tolerance of a step of `order` to `new` (the predictor of that order,
        through the last order + 1 points of history)."""
        points = history[-(order + 1) :]
        if predicted is None:
            predicted = extrapolate(points, new.t)
        times = [new.t, *(p.t for p in reversed(points))]
        return abs(error_factor(times)) * self.distance(new.arrays, predicted)

    def first_step(self, history: list[Point], h: float) -> tuple[bool, float, str, list[Point]]:
        """Backward Euler over h from a segment's start, checked by two steps of h/2 (backward
        Euler, then BDF2, or backward Euler again with max_order 1): their difference is the error
        of the single step, an upper bound of that of the two. The model is left holding the
        second half point, prepared for its step.
        Returns (ok, estimated error of the half steps / tolerance, why not, [both half points])."""
        start = history[-1]
        ok, why = self.solve([start], h, 1)
        if not ok:
            return False, math.inf, why, []
        full = [u.x.array.copy() for u in self.model.unknowns]
        ok, why = self.solve([start], 0.5 * h, 1)
        if not ok:
            return False, math.inf, why, []
        middle = self.capture(start.t + 0.5 * h)
        ok, why = self.solve([start, middle], 0.5 * h, min(2, self.max_order))
        if not ok:
            return False, math.inf, why, []
        end = self.capture(start.t + h)
        return True, self.distance(end.arrays, full), "", [middle, end]

    def consistent_start(self, point: Point, first_step: float) -> Point:
        """The start of a new segment: the dynamic fields of `point`, the algebraic unknowns
        solved for the control now set (the point itself if that solve fails)."""
        h = CONSISTENT_FRACTION * first_step
        self._forget_rate()
        self.jacobian_age = None  # the potentials jump: a Jacobian of the new control
        ok, _ = self.solve([point], h, 1)
        if not ok:
            ok = self._continued(point, h)
        if not ok:
            self.restore(point.arrays)
            return point
        arrays = [u.x.array.copy() for u in self.model.unknowns]
        for u, _, _ in self.model.dynamic:
            k = self._index[id(u)]
            arrays[k] = point.arrays[k].copy()
        self.restore(arrays)
        return self.capture(point.t)

    def _continued(self, point: Point, h: float) -> bool:
        """The consistent-start solve reached through :data:`CONTINUATION`'s fractions of the
        current and power set-points (a voltage set-point is left as it is)."""
        m = self.model
        self.prepare([point], h, 1)
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
    def _forget_rate(self) -> None:
        if self.convergence is not None:
            self.convergence.reset()

    def _max(self, values: list[float]) -> np.ndarray:
        """The maximum over the ranks of each value (one reduction)."""
        local = np.array(values, dtype=float)
        reduced = np.empty_like(local)
        self.comm.Allreduce(local, reduced, op=MPI.MAX)
        return reduced

    def _worst_block(self) -> str:
        """Name the unknown whose residual block is largest at the last Newton iterate."""
        residual = self.problem.assemble_residual()
        owned, blocks = residual.getArray(readonly=True), owned_blocks(self.model)
        squares = [float(owned[a:b] @ owned[a:b]) for a, b in (blocks[id(u)] for u in self.model.unknowns)]
        residual.destroy()
        totals = self.comm.allreduce(np.array(squares), op=MPI.SUM)
        norm, name = max(zip(np.sqrt(totals), (u.name for u in self.model.unknowns), strict=True))
        return f"largest residual in the {name} equation ({norm:.3g})"
