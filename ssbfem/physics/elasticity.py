"""Linear elasticity with eigenstrains: thermal (cooling after sintering) and chemical (lithiation).

Equation: div(sigma) = 0, sigma = C : (eps - eps*), eps = sym(grad u), isotropic
C : e = lambda tr(e) I + 2 mu e, with eps* = alpha (T - T_ref) I + Omega (c - c_ref)/3 I.
Units: u in micrometres (like the mesh), E in Pa, stress in Pa. Weak form: int sigma : eps(v) dx
= int t . v ds over mesh-unit volume and area (both sides carry the same L0^2, which cancels), t
the traction on the boundary (t = -p n under a pressure p, n the outward normal).

Formulations in 2D: plane strain (the out-of-plane strain is zero), plane stress (the
out-of-plane stress is zero) and axisymmetric, with coordinates (r, z) = (x, y), a hoop strain
u_r/r, strains and stresses as 3x3 tensors ordered (r, z, theta), and every integral weighted by
2 pi r (:func:`weight`) so that it is over the body of revolution.

Superposition: the problem is linear, so the residual stress of cooling from the stress-free
(sintering) temperature and the stress of lithiation add; a cycling run starts from the cooled state.
"""

from __future__ import annotations

import math

import ufl

#: 2D formulations (a 1D or 3D mesh has one: confined missing directions, or none missing).
FORMULATIONS = ("plane_strain", "plane_stress", "axisymmetric")


def lame(youngs_modulus: float, poissons_ratio: float, formulation: str = "plane_strain") -> tuple[float, float]:
    """Lame parameters (lambda, mu) in Pa; in plane stress lambda becomes 2 lambda mu/(lambda + 2 mu)."""
    E, nu = youngs_modulus, poissons_ratio
    lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
    if formulation == "plane_stress":
        lam = 2 * lam * mu / (lam + 2 * mu)
    return lam, mu


def weight(domain, formulation: str = "plane_strain"):
    """Weight of every integral: 2 pi r on an axisymmetric mesh (r = x), else 1."""
    if formulation == "axisymmetric":
        return 2 * math.pi * ufl.SpatialCoordinate(domain)[0]
    return 1.0


def strain(u_um, formulation: str = "plane_strain"):
    """Small strain of a displacement given in micrometres on a micrometre mesh (dimensionless).

    Axisymmetric: the 3x3 strain ordered (r, z, theta), with the hoop strain u_r/r (its limit
    du_r/dr on the axis, where u_r = 0, so that the stress can be evaluated there).
    """
    eps = ufl.sym(ufl.grad(u_um))
    if formulation != "axisymmetric":
        return eps
    r = ufl.SpatialCoordinate(ufl.domain.extract_unique_domain(u_um))[0]
    hoop = ufl.conditional(ufl.gt(r, 0), u_um[0] / r, u_um[0].dx(0))
    return ufl.as_matrix([[eps[0, 0], eps[0, 1], 0], [eps[1, 0], eps[1, 1], 0], [0, 0, hoop]])


def stress(u_um, lam, mu, eigenstrain, formulation: str = "plane_strain"):
    """Cauchy stress, Pa: C : (eps(u) - eps*), eps* a scalar (isotropic) eigenstrain."""
    eps = strain(u_um, formulation)
    identity = ufl.Identity(eps.ufl_shape[0])
    return (
        lam * ufl.tr(eps) * identity + 2 * mu * eps - eigenstress(lam, mu, eigenstrain, eps.ufl_shape[0], formulation)
    )


def eigenstress(lam, mu, eigenstrain, size: int, formulation: str = "plane_strain"):
    """C : eps* I as a size x size tensor, Pa.

    The isotropic eigenstrain acts in all three directions: its trace is 3 eps* in 3D, in plane
    strain, axisymmetric (both 2D) and in 1D (laterally confined), and 2 eps* in plane stress
    (with the plane-stress lambda of :func:`lame`).
    """
    trace = 2 if formulation == "plane_stress" else 3
    return (trace * lam + 2 * mu) * eigenstrain * ufl.Identity(size)


def von_mises(sigma):
    """Von Mises equivalent stress of a 3x3 (or 2x2 plane) stress tensor, Pa."""
    dim = sigma.ufl_shape[0]
    dev = sigma - ufl.tr(sigma) / 3 * ufl.Identity(dim)
    return ufl.sqrt(1.5 * ufl.inner(dev, dev))


def hydrostatic(sigma):
    """Mean normal stress tr(sigma)/3, Pa (positive in tension)."""
    return ufl.tr(sigma) / 3


def rigid_body_modes(x, dim: int, formulation: str = "plane_strain") -> list[tuple]:
    """Translations and rotations of a body (1 in 1D, 3 in 2D, 6 in 3D, the axial translation of
    a body of revolution) as component tuples of the coordinates x (UFL or numpy, x[i] the i-th)."""
    if dim == 1 or (dim == 2 and formulation == "axisymmetric"):
        return [(0.0,) * (dim - 1) + (1.0,)]
    if dim == 2:
        return [(1.0, 0.0), (0.0, 1.0), (-x[1], x[0])]
    e = [tuple(1.0 if i == j else 0.0 for i in range(3)) for j in range(3)]
    return [*e, (-x[1], x[0], 0.0), (0.0, -x[2], x[1]), (x[2], 0.0, -x[0])]


def full_stress(u_um, lam, mu, eigenstrain):
    """The 3x3 stress of a displacement in 1D, 2D or 3D: the missing directions are confined
    (zero strain: plane strain in 2D, a laterally confined stack in 1D), Pa."""
    dim = u_um.ufl_shape[0]
    eps = strain(u_um)
    eps3 = ufl.as_matrix([[eps[i, j] if i < dim and j < dim else 0 for j in range(3)] for i in range(3)])
    identity = ufl.Identity(3)
    return lam * (ufl.tr(eps3) - 3 * eigenstrain) * identity + 2 * mu * (eps3 - eigenstrain * identity)
