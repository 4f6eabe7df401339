"""PyBaMM/IDAKLU reference solver for the planar thin-film Li | SE | LiCoO2 cell.

This module builds a custom :class:`pybamm.BaseModel` (no PyBaMM battery model is used) of the
same 1D problem that ssbfem solves with finite elements, so that the benchmark can time PyBaMM's
IDAKLU solver on identical equations. SI units throughout; discharge current is positive.

Positive electrode (dense LiCoO2 slab, ``0 < x < L``), stoichiometry ``theta = c / c_max``::

    d theta / dt = D d2 theta / dx2
    -D d theta / dx = I / (F c_max)      at x = 0  (electrolyte interface; discharge inserts Li)
     D d theta / dx = 0                  at x = L  (current collector)
    theta(x, 0) = 0.51

Cell voltage, with ``theta_s = theta(0, t)`` the surface stoichiometry::

    V = U(theta_s) + eta_p - eta_n - I L_e / sigma
    eta_p = -(2 R T / F) asinh(I / (2 i0_p)),   i0_p = 4.70148 * sqrt((1 - theta_s) / 0.5) * sqrt(theta_s / 0.5)
    eta_n = +(2 R T / F) asinh(I / (2 i0_n)),   i0_n = 5.7503       (Li metal, U_n = 0)

i.e. symmetric (alpha = 0.5) Butler-Volmer kinetics at both interfaces and an ohmic single-ion
electrolyte; the electronic resistance of the electrode is neglected. ``U`` is the Dualfoil (1998)
LiCoO2 open-circuit potential, written in terms of ``s = 1.062 theta``::

    U = 2.16216 + 0.07645 tanh(30.834 - 54.4806 s) + 2.1581 tanh(52.294 - 50.294 s)
        - 0.14169 tanh(11.0923 - 19.8543 s) + 0.2051 tanh(1.4684 - 5.4888 s)
        + 0.2531 tanh((-s + 0.56478) / 0.1316) - 0.02167 tanh((s - 0.525) / 0.006)

The cell is discharged at ``I = C_rate * 2.08333 A/m2`` until ``V = 3.0 V`` (a termination event,
expressed through the equivalent surface stoichiometry; see :func:`build`).
Space is discretised with PyBaMM's cell-centred finite volumes on a uniform mesh; the surface value
``theta(0)`` is extrapolated quadratically using the Neumann boundary condition.

Run ``python benchmarks/pybamm_thin_film.py`` to print the end time, final capacity and best-of-3
solve wall time for 0.1C, 1C and 4C.
"""

import time
from typing import NamedTuple

import numpy as np
import pybamm
from scipy.optimize import brentq

F = 96485.33212  # Faraday constant [C/mol]
R_GAS = 8.314462618  # gas constant [J/(mol K)]
T = 298.15  # temperature [K]

L_POS = 8.08e-6  # positive electrode thickness [m]
C_MAX = 3.22e4  # maximum Li concentration in LiCoO2 [mol/m3]
D_POS = 5.387e-15  # Li diffusivity in LiCoO2 [m2/s]
THETA_0 = 0.51  # initial stoichiometry
I0_POS_REF = 4.70148  # positive exchange current density at theta = 0.5 [A/m2]
I0_NEG = 5.7503  # Li-metal exchange current density [A/m2]
L_ELY = 3.62e-6  # electrolyte thickness [m]
SIGMA_ELY = 1.10896e-4  # electrolyte ionic conductivity [S/m]

ONE_C = 2.08333  # current density of a 1C discharge [A/m2]
V_CUTOFF = 3.0  # lower cut-off voltage [V]

# IDAKLU tolerances. The state is the stoichiometry (order 1); with these values the voltage at
# 400 cells agrees with a solve at rtol = 1e-11, atol = 1e-13 to within 0.03 mV over the whole
# discharge (worst case 4C; 0.015 mV at 1C, 0.001 mV at 0.1C).
RTOL = 1e-6
ATOL = 1e-8

N_TIMED_SOLVES = 3


class Built(NamedTuple):
    """A discretised model, ready to solve, together with its solver and C-rate."""

    model: pybamm.BaseModel
    discretisation: pybamm.Discretisation
    solver: pybamm.IDAKLUSolver
    c_rate: float


def ocp_licoo2(theta: pybamm.Symbol) -> pybamm.Symbol:
    """Dualfoil (1998) open-circuit potential [V] of LiCoO2 at stoichiometry ``theta``."""
    s = 1.062 * theta
    return (
        2.16216
        + 0.07645 * pybamm.tanh(30.834 - 54.4806 * s)
        + 2.1581 * pybamm.tanh(52.294 - 50.294 * s)
        - 0.14169 * pybamm.tanh(11.0923 - 19.8543 * s)
        + 0.2051 * pybamm.tanh(1.4684 - 5.4888 * s)
        + 0.2531 * pybamm.tanh((-s + 0.56478) / 0.1316)
        - 0.02167 * pybamm.tanh((s - 0.525) / 0.006)
    )


def current_density(c_rate: float) -> float:
    """Applied discharge current density [A/m2] at ``c_rate``."""
    return c_rate * ONE_C


def end_time_bound(c_rate: float) -> float:
    """Upper bound [s] on the discharge time: the time to fill the electrode to theta = 1, plus 20 %."""
    return 1.2 * (1.0 - THETA_0) * C_MAX * L_POS * F / current_density(c_rate)


def cell_voltage(theta_s: pybamm.Symbol, i_app: float) -> pybamm.Symbol:
    """Cell voltage [V] at surface stoichiometry ``theta_s`` and discharge current density ``i_app``."""
    thermal_voltage = 2.0 * R_GAS * T / F
    i0_pos = I0_POS_REF * pybamm.sqrt((1.0 - theta_s) / 0.5) * pybamm.sqrt(theta_s / 0.5)
    eta_pos = -thermal_voltage * pybamm.arcsinh(i_app / (2.0 * i0_pos))
    eta_neg = thermal_voltage * np.arcsinh(i_app / (2.0 * I0_NEG))
    return ocp_licoo2(theta_s) + eta_pos - eta_neg - i_app * L_ELY / SIGMA_ELY


def cutoff_stoichiometry(i_app: float) -> float:
    """Surface stoichiometry at which the cell voltage reaches ``V_CUTOFF`` at current ``i_app``.

    At fixed current the voltage decreases strictly with the surface stoichiometry on
    ``[THETA_0, 1)`` (``U`` decreases there and ``i0_p`` falls to zero as ``theta_s -> 1``), so the
    root is unique.
    """

    def residual(theta_s: float) -> float:
        return float(cell_voltage(pybamm.Scalar(theta_s), i_app).evaluate()) - V_CUTOFF

    if residual(THETA_0) <= 0.0:
        raise ValueError(f"the cell is below {V_CUTOFF} V at t = 0 for I = {i_app} A/m2")
    return brentq(residual, THETA_0, 1.0 - 1e-9, xtol=1e-14, rtol=1e-14)


def build(c_rate: float, cells: int = 400) -> Built:
    """Build and discretise the thin-film model on ``cells`` uniform finite volumes.

    Returns the discretised model, its discretisation, an :class:`pybamm.IDAKLUSolver`
    (``rtol = 1e-6``, ``atol = 1e-8``) and the C-rate the model was built for.

    The cut-off event is written as ``theta_cut - theta(0)``, with ``theta_cut`` the surface
    stoichiometry at which ``V = V_CUTOFF`` (:func:`cutoff_stoichiometry`). It has the same root as
    ``V - V_CUTOFF`` but, unlike the voltage, stays finite when an integrator step overshoots to
    ``theta(0) > 1`` (where ``i0_p`` is undefined); IDA then locates the root by interpolation within
    the step. At 0.1C the profile is quasi-steady and IDA takes steps of several hours, so this
    overshoot does happen and a ``V - V_CUTOFF`` event would be missed.
    """
    i_app = current_density(c_rate)

    model = pybamm.BaseModel(name=f"thin-film Li|SE|LiCoO2 at {c_rate:g}C")
    x = pybamm.SpatialVariable("x", domain="positive electrode", coord_sys="cartesian")
    theta = pybamm.Variable("Stoichiometry", domain="positive electrode")

    model.rhs = {theta: pybamm.div(D_POS * pybamm.grad(theta))}
    model.boundary_conditions = {
        theta: {
            "left": (pybamm.Scalar(-i_app / (F * C_MAX * D_POS)), "Neumann"),
            "right": (pybamm.Scalar(0.0), "Neumann"),
        }
    }
    model.initial_conditions = {theta: pybamm.Scalar(THETA_0)}

    theta_s = pybamm.BoundaryValue(theta, "left")
    model.variables = {
        "Stoichiometry": theta,
        "Surface stoichiometry": theta_s,
        "Voltage [V]": cell_voltage(theta_s, i_app),
    }
    model.events = [pybamm.Event("Minimum voltage", cutoff_stoichiometry(i_app) - theta_s)]

    geometry = pybamm.Geometry({"positive electrode": {x: {"min": pybamm.Scalar(0.0), "max": pybamm.Scalar(L_POS)}}})
    mesh = pybamm.Mesh(geometry, {"positive electrode": pybamm.Uniform1DSubMesh}, {x: cells})
    spatial_method = pybamm.FiniteVolume(
        {"extrapolation": {"order": {"gradient": "quadratic", "value": "quadratic"}, "use bcs": True}}
    )
    discretisation = pybamm.Discretisation(mesh, {"positive electrode": spatial_method})
    discretisation.process_model(model)

    solver = pybamm.IDAKLUSolver(rtol=RTOL, atol=ATOL, output_variables=["Voltage [V]"])
    return Built(model, discretisation, solver, c_rate)


def solve(built: Built, c_rate: float) -> dict[str, np.ndarray | float]:
    """Discharge to the cut-off voltage and time the IDAKLU solve.

    One untimed warm-up solve (model set-up and compilation) is followed by three timed solves;
    ``solve_time_s`` is the best of these, measured with :func:`time.perf_counter` around
    ``solver.solve`` only. Returns the time [s], voltage [V] and capacity [mAh/cm2] at the solver's
    internal time steps, ending at the cut-off event.
    """
    if c_rate != built.c_rate:
        raise ValueError(f"model was built for {built.c_rate}C, not {c_rate}C")
    t_eval = np.array([0.0, end_time_bound(c_rate)])

    built.solver.solve(built.model, t_eval)
    solve_times = []
    for _ in range(N_TIMED_SOLVES):
        start = time.perf_counter()
        solution = built.solver.solve(built.model, t_eval)
        solve_times.append(time.perf_counter() - start)

    if solution.termination != "event: Minimum voltage":
        raise RuntimeError(f"discharge at {c_rate}C did not reach {V_CUTOFF} V: {solution.termination}")
    time_s = solution.t
    return {
        "time_s": time_s,
        "voltage_V": solution["Voltage [V]"].data,
        "capacity_mAh_cm2": current_density(c_rate) * time_s / 36000.0,
        "solve_time_s": min(solve_times),
    }


if __name__ == "__main__":
    for rate in (0.1, 1.0, 4.0):
        result = solve(build(rate), rate)
        print(
            f"{rate:4g}C: end time {result['time_s'][-1]:10.2f} s, "
            f"capacity {result['capacity_mAh_cm2'][-1]:.5f} mAh/cm2, "
            f"final voltage {result['voltage_V'][-1]:.5f} V, "
            f"solve time {result['solve_time_s'] * 1e3:.2f} ms"
        )
