"""Linear elasticity with eigenstrains: thermal (cooling after sintering) and chemical (lithiation).

Equation: div(sigma) = 0, sigma = C : (eps - eps*), eps = sym(grad u), isotropic
C : e = lambda tr(e) I + 2 mu e, with eps* = alpha (T - T_ref) I + Omega (c - c_ref)/3 I.
Units: u in m (the unknown is stored in micrometres, like the mesh), E in Pa, stress in Pa.
Residual: int sigma : eps(v) dx over mesh-unit volume, divided by L0**(d-2) like the other blocks'
scaling, so that it is a force per mesh-unit area.

Superposition: the problem is linear, so the residual stress of cooling from the stress-free
(sintering) temperature and the stress of lithiation add; a cycling run starts from the cooled state.
"""

from __future__ import annotations

import ufl


def lame(youngs_modulus: float, poissons_ratio: float, plane_stress: bool = False) -> tuple[float, float]:
    """Lame parameters (lambda, mu) in Pa; in plane stress lambda becomes 2 lambda mu/(lambda + 2 mu)."""
    E, nu = youngs_modulus, poissons_ratio
    lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
    if plane_stress:
        lam = 2 * lam * mu / (lam + 2 * mu)
    return lam, mu


def strain(u_um):
    """Small strain of a displacement given in micrometres on a micrometre mesh (dimensionless)."""
    return ufl.sym(ufl.grad(u_um))


def stress(u_um, lam, mu, eigenstrain, plane_stress: bool = False):
    """Cauchy stress, Pa: C : (eps(u) - eps*), eps* a scalar (isotropic) eigenstrain.

    The isotropic eigenstrain acts in all three directions: its trace is 3 eps* in 3D, in plane
    strain (2D) and in 1D (laterally confined), and 2 eps* in plane stress (with the plane-stress
    lambda of :func:`lame`).
    """
    dim = u_um.ufl_shape[0]
    identity = ufl.Identity(dim)
    eigen_trace = (2 if plane_stress else 3) * eigenstrain
    return lam * (ufl.tr(strain(u_um)) - eigen_trace) * identity + 2 * mu * (strain(u_um) - eigenstrain * identity)


def elasticity(u_um, v, lam, mu, eigenstrain, dx: ufl.Measure, plane_stress: bool = False) -> ufl.Form:
    """Weak form int sigma : eps(v) dx (Pa times mesh-unit volume)."""
    return ufl.inner(stress(u_um, lam, mu, eigenstrain, plane_stress), strain(v)) * dx


def von_mises(sigma):
    """Von Mises equivalent stress of a 3x3 (or 2x2 plane) stress tensor, Pa."""
    dim = sigma.ufl_shape[0]
    dev = sigma - ufl.tr(sigma) / 3 * ufl.Identity(dim)
    return ufl.sqrt(1.5 * ufl.inner(dev, dev))


def hydrostatic(sigma):
    """Mean normal stress tr(sigma)/3, Pa (positive in tension)."""
    return ufl.tr(sigma) / 3


def rigid_body_modes(x, dim: int) -> list:
    """Translations and rotations of a body (3 in 2D, 6 in 3D) as UFL vectors of the coordinates."""
    if dim == 2:
        return [ufl.as_vector((1, 0)), ufl.as_vector((0, 1)), ufl.as_vector((-x[1], x[0]))]
    e = [ufl.as_vector([1.0 if i == j else 0.0 for i in range(3)]) for j in range(3)]
    return [*e, ufl.as_vector((-x[1], x[0], 0)), ufl.as_vector((0, -x[2], x[1])), ufl.as_vector((x[2], 0, -x[0]))]


def full_stress(u_um, lam, mu, eigenstrain):
    """The 3x3 stress of a displacement in 1D, 2D or 3D: the missing directions are confined
    (zero strain: plane strain in 2D, a laterally confined stack in 1D), Pa."""
    dim = u_um.ufl_shape[0]
    eps = strain(u_um)
    eps3 = ufl.as_matrix([[eps[i, j] if i < dim and j < dim else 0 for j in range(3)] for i in range(3)])
    identity = ufl.Identity(3)
    return lam * (ufl.tr(eps3) - 3 * eigenstrain) * identity + 2 * mu * (eps3 - eigenstrain * identity)
