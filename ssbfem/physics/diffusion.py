"""Fickian diffusion of lithium in a dense insertion electrode."""

from __future__ import annotations

import ufl

from ssbfem.constants import FARADAY
from ssbfem.geometry.tags import MESH_UNIT_M


def fickian_diffusion(theta_rate, theta, w, diffusivity, max_concentration, dx: ufl.Measure, weight=1.0) -> ufl.Form:
    """Weak form of dc/dt = div(D grad c), written for the stoichiometry theta = c/c_max.

    Units: D in m2/s, c_max in mol/m3, theta_rate = d(theta)/dt in 1/s. Multiplied by F so that
    the residual is a current: int F c_max (L0 theta_rate w + D/L0 grad(theta).grad(w)) dx.
    An interface where the electrode takes up lithium at the current density j (anodic
    positive, A/m2) adds +int j w ds: an anodic current removes lithium (flux -j/F inwards).
    ``weight`` multiplies the integrand: 2 pi r on an axisymmetric mesh (r = x), so that the
    integral is over the body of revolution (the interface term then carries it too).
    """
    scale = FARADAY * max_concentration
    return (
        scale
        * (MESH_UNIT_M * theta_rate * w + (diffusivity / MESH_UNIT_M) * ufl.inner(ufl.grad(theta), ufl.grad(w)))
        * weight
        * dx
    )
