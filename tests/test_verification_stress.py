"""Case C of shared/reference/verification.md: diffusion-induced stress in a sphere.

A spherical particle (case B) takes up lithium at a constant flux J through its surface; its
eigenstrain Omega (c - c0)/3 stresses it (Cheng and Verbrugge 2009). Solved with the package's
diffusion block and its elasticity on an axisymmetric P2 mesh of the quarter disc (symmetry:
u_r = 0 on the axis, u_z = 0 on the equator), BDF2 in time. With S0 = Omega E J R/((1 - nu) D)
and tau = D t/R^2, the centre's radial stress and the surface's hoop stress are tabulated; after
tau = 1 the transient has decayed by exp(-20) and the steady values are +-1/15.

The particle's numbers below are illustrative, not a material's: the normalised stresses do not
depend on them (the problem is linear).
"""

from __future__ import annotations

import numpy as np
import pytest
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.constants import FARADAY
from ssbfem.geometry import sphere
from ssbfem.geometry.io import mesh_from_model
from ssbfem.mechanics import Region, solve_elasticity
from ssbfem.physics.diffusion import fickian_diffusion
from ssbfem.physics.elasticity import weight

fem = dolfinx.fem

R_UM, D, C_MAX, FLUX, THETA0 = 5.0, 1.0e-14, 2.29e4, 1.0e-3, 0.2
E, NU, OMEGA = 10e9, 0.3, 3.497e-6
S0 = OMEGA * E * FLUX * R_UM * 1e-6 / ((1 - NU) * D)
SIGMA_R_CENTRE = {0.01: 0.006667, 0.05: 0.032572, 0.1: 0.053360, 0.2: 0.064881, 0.5: 0.066662, 1.0: 1 / 15}
SIGMA_T_SURFACE = {0.01: -0.031214, 0.05: -0.054055, 0.1: -0.062254, 0.2: -0.066084, 0.5: -0.066665, 1.0: -1 / 15}


def point_value(expression, msh, point) -> float:
    """A scalar expression at a point (a mesh vertex), through its DG2 interpolant (exact at the
    vertices)."""
    space = fem.functionspace(msh, ("DG", 2))
    f = fem.Function(space)
    f.interpolate(fem.Expression(expression, space.element.interpolation_points))
    p = np.array([point], dtype=np.float64)
    tree = dolfinx.geometry.bb_tree(msh, msh.topology.dim)
    cells = dolfinx.geometry.compute_colliding_cells(msh, dolfinx.geometry.compute_collisions_points(tree, p), p)
    return float(f.eval(p, cells.links(0)[:1])[0])


def sphere_stress_history() -> dict[float, tuple[float, float]]:
    """Case C's set-up solved: tau -> (sigma_r(0)/S0, sigma_t(R)/S0) at the tabulated tau."""
    cm = mesh_from_model(
        MPI.COMM_WORLD,
        lambda: sphere.build_axisymmetric_sphere(R_UM, R_UM / 80, R_UM / 32, order=2),
    )
    msh = cm.mesh
    r_weight = weight(msh, "axisymmetric")
    Q = fem.functionspace(msh, ("Lagrange", 2))
    theta, q = ufl.TrialFunction(Q), ufl.TestFunction(Q)
    theta_n, theta_nm1, theta_h = fem.Function(Q), fem.Function(Q), fem.Function(Q)
    for f in (theta_n, theta_nm1, theta_h):
        f.x.array[:] = THETA0
    dt, a0, a1, a2 = (fem.Constant(msh, 0.0) for _ in range(4))
    dx = ufl.Measure("dx", domain=msh)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=cm.facet_tags)
    rate = (a0 * theta + a1 * theta_n + a2 * theta_nm1) / dt
    # constant inward flux J: an anodic current density -F J on the surface
    residual = fickian_diffusion(rate, theta, q, D, C_MAX, dx, r_weight)
    residual -= FARADAY * FLUX * q * r_weight * ds(cm.facet_names[sphere.SURFACE])
    problem = dolfinx.fem.petsc.LinearProblem(
        *ufl.system(residual),
        u=theta_h,
        petsc_options_prefix="case_c_",
        petsc_options={"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"},
    )
    t_scale = (R_UM * 1e-6) ** 2 / D
    # steps of tau: fine through the transient, then coarser; variable-step BDF2 (BDF1 first)
    steps = [5e-4] * 200 + [5e-3] * 180
    tau, previous, results = 0.0, None, {}
    for k in steps:
        w = k / previous if previous else 0.0
        coefficients = (1.0, -1.0, 0.0) if previous is None else ((1 + 2 * w) / (1 + w), -(1 + w), w**2 / (1 + w))
        for const, value in zip((a0, a1, a2), coefficients, strict=True):
            const.value = value
        dt.value = k * t_scale
        problem.solve()
        theta_nm1.x.array[:] = theta_n.x.array
        theta_n.x.array[:] = theta_h.x.array
        tau, previous = tau + k, k
        match = [t for t in SIGMA_R_CENTRE if abs(t - tau) < 1e-9]
        if match:
            eigenstrain = OMEGA * C_MAX * (theta_n - THETA0) / 3
            state = solve_elasticity(
                cm,
                {"particle": Region(E, NU, eigenstrain)},
                rollers=((sphere.AXIS, 0), (sphere.EQUATOR, 1)),
                formulation="axisymmetric",
                degree=2,
            )
            sigma = state.stress["particle"]  # ordered (r, z, theta)
            results[match[0]] = (
                point_value(sigma[0, 0], msh, (0.0, 0.0, 0.0)) / S0,
                point_value(sigma[2, 2], msh, (R_UM, 0.0, 0.0)) / S0,
            )
    return results


def test_diffusion_induced_stress_in_a_sphere_case_C():
    results = sphere_stress_history()
    for t, (sigma_r, sigma_t) in sorted(results.items()):
        print(f"tau {t}: sigma_r(0)/S0 {sigma_r:.6f} ({SIGMA_R_CENTRE[t]}), sigma_t(R)/S0 {sigma_t:.6f}")
    assert sorted(results) == sorted(SIGMA_R_CENTRE)
    for t, (sigma_r, sigma_t) in results.items():  # measured: within 0.1 % at every tau
        assert sigma_r == pytest.approx(SIGMA_R_CENTRE[t], rel=5e-3), t
        assert sigma_t == pytest.approx(SIGMA_T_SURFACE[t], rel=5e-3), t
