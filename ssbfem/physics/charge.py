"""Charge conservation in an ohmic conductor (electrolyte ions or electrode electrons)."""

from __future__ import annotations

import ufl

from ssbfem.geometry.tags import MESH_UNIT_M


def ohmic_conduction(phi, v, conductivity, dx: ufl.Measure) -> ufl.Form:
    """Weak form of -div(sigma grad phi) = 0.

    Equation: the current density i = -sigma grad(phi) (A/m2) is divergence free.
    Units: sigma in S/m, phi in V; sigma a scalar or a (diagonal, anisotropic) tensor in the
    mesh's axes, i = -sigma . grad(phi). Returned residual: int (sigma/L0) grad(phi).grad(v) dx
    over the mesh-unit domain; fluxes through its boundary are added by the interface and terminal
    blocks as +int j_out v ds, j_out the current density leaving the conductor.
    """
    if len(getattr(conductivity, "ufl_shape", ())) == 2:
        return ufl.inner(ufl.dot(conductivity, ufl.grad(phi)), ufl.grad(v)) / MESH_UNIT_M * dx
    return (conductivity / MESH_UNIT_M) * ufl.inner(ufl.grad(phi), ufl.grad(v)) * dx
