"""Electrochemical impedance from the linearised cell model, in the frequency domain.

About a steady state u0 at zero current the residual of the model reads
F(u, du/dt; I) = F0(u) + M du/dt - b I + ..., where the time derivatives enter linearly (the
lithium balance, the heat balance, double layers, the electrolyte's displacement current). A
small sinusoidal current I = Re(I_hat exp(j w t)) then gives u = u0 + Re(u_hat exp(j w t)) with

    (J + j w M) u_hat = b I_hat,    J = dF0/du at u0,   b = -dF/dI,

and the impedance Z(w) = -V_hat/I_hat (ohm m2; V_hat the cell-voltage component of u_hat; the
minus sign because a discharge current is positive and lowers the voltage). The complex system
is solved in its real block form

    [ J  -w M ] [Re u_hat]   [b]
    [ w M   J ] [Im u_hat] = [0]

with the model's direct solver, so the real PETSc build serves. J and M come from the model's
own Jacobian: its time derivatives are inv_dt (u - u0) (a0 = 1, u_hist = -u0), so J is the Jacobian at
inv_dt = 0 and M its increment per unit inv_dt (taken over a large increment, see impedance()).
"""

from __future__ import annotations

import math

import numpy as np
from mpi4py import MPI

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.model_interface import Model
from ssbfem.solvers import owned_blocks

fem = dolfinx.fem


def frequencies(start_Hz: float, end_Hz: float, per_decade: int = 10) -> np.ndarray:
    """Logarithmically spaced frequencies from start to end (either order), both included."""
    decades = abs(math.log10(end_Hz / start_Hz))
    n = max(round(decades * per_decade), 1) + 1
    return np.logspace(math.log10(start_Hz), math.log10(end_Hz), n)


def _assemble_residual(problem) -> PETSc.Vec:
    return problem.assemble_residual()


def _assemble_jacobian(problem) -> PETSc.Mat:
    """The Jacobian at the model's state, in a matrix of the solver's pattern (ssbfem.sparsity)."""
    mat = problem.A.duplicate()
    mat.setOption(PETSc.Mat.Option.NEW_NONZERO_LOCATIONS, False)
    problem.assemble_jacobian(mat)
    return mat


def impedance(
    model: Model,
    problem: dolfinx.fem.petsc.NonlinearProblem,
    frequencies_Hz: np.ndarray,
) -> np.ndarray:
    """Impedance Z (complex, ohm per m2 of footprint) at each frequency, about the model's state.

    The state must be a steady state at zero current (for instance after
    :meth:`Model.set_equilibrium`). The model's controls and time-stepping constants are
    restored afterwards.
    """
    saved = [float(c.value) for c in (*model.mode, *model.setpoint, model.inv_dt, *model.bdf)]
    for u, u_hist, _ in model.dynamic:  # time derivatives inv_dt (u - u0) vanish at the steady state
        u_hist.x.array[:] = -u.x.array
    model.bdf[0].value = 1.0
    try:
        model.set_control("current", 0.0)
        model.inv_dt.value = 0.0
        f0 = _assemble_residual(problem)
        jacobian = _assemble_jacobian(problem)
        model.set_control("current", 1.0)
        b = _assemble_residual(problem)
        b.axpy(-1.0, f0)
        b.scale(-1.0)  # b = -dF/dI for I = 1 A/m2
        # M = (J(inv_dt = s) - J)/s, exact since the residual is linear in inv_dt. s is large so
        # that the difference is not lost to round-off beside the stiff conduction entries of J
        # (up to ~1e12 in metals): its error is eps max(|J|/s, |M|).
        s = 1e10
        model.inv_dt.value = s
        mass = _assemble_jacobian(problem)
        mass.axpy(-1.0, jacobian, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        mass.scale(1.0 / s)
        z = np.array([_solve_frequency(model, jacobian, mass, b, 2 * math.pi * f) for f in frequencies_Hz])
    finally:
        for const, value in zip((*model.mode, *model.setpoint, model.inv_dt, *model.bdf), saved, strict=True):
            const.value = value
    for obj in (f0, b, jacobian, mass):
        obj.destroy()
    return z


def _solve_frequency(model, jacobian, mass, b, omega) -> complex:
    """Solve the real block system at one angular frequency; return -V_hat (ohm m2)."""
    comm = jacobian.comm
    omega_mass = mass.copy()
    omega_mass.scale(omega)
    minus_omega_mass = mass.copy()
    minus_omega_mass.scale(-omega)
    nest = PETSc.Mat().createNest([[jacobian, minus_omega_mass], [omega_mass, jacobian]], comm=comm)
    system = nest.convert("aij")
    # A nest's rows on each process are its blocks' local rows one after the other, and the
    # converted matrix keeps that numbering.
    rhs, solution = system.createVecs()
    n_local = b.getLocalSize()
    rhs.array[:n_local] = b.array_r
    rhs.array[n_local:] = 0.0
    ksp = PETSc.KSP().create(comm)
    ksp.setOperators(system)
    ksp.setType("preonly")
    pc = ksp.getPC()
    pc.setType("lu")
    pc.setFactorSolverType("mumps")
    ksp.solve(rhs, solution)
    values = solution.array_r
    real, imag = _voltage_component(model, values[:n_local]), _voltage_component(model, values[n_local:])
    for obj in (ksp, system, nest, omega_mass, minus_omega_mass, rhs, solution):
        obj.destroy()
    return -complex(real, imag)


def _voltage_component(model: Model, owned: np.ndarray) -> float:
    """The cell-voltage entry of a block vector's owned part (every rank gets it)."""
    start, stop = owned_blocks(model)[id(model.voltage)]
    value = owned[start] if stop > start else 0.0
    return model.cellmesh.mesh.comm.allreduce(float(value), op=MPI.SUM)
