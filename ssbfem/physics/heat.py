"""Heat: the energy balance, its sources and its boundary conditions.

Equation: rho c_p dT/dt = div(k grad T) + Q, T in K, rho in kg/m3, c_p in J/(kg K), k in W/(m K)
(a tensor: cross-plane along x, in-plane along y and z), Q in W/m3; interfaces add surface
sources q (W/m2). Residual units follow the other blocks: W divided by L0**(d-1).
Heat leaving through a boundary, q_out (W/m2, positive outwards), adds +int q_out w ds.
"""

from __future__ import annotations

import ufl

from ssbfem.geometry.tags import MESH_UNIT_M

STEFAN_BOLTZMANN = 5.670374419e-8  # W/(m2 K4)


def heat_balance(
    temperature_rate, temperature, w, rho_cp, conductivity, dx: ufl.Measure, conduct: bool = True
) -> ufl.Form:
    """int rho c_p L0 dT/dt w dx + int (k/L0) grad T . grad w dx.

    With ``conduct=False`` (a lumped, uniform temperature) only the storage term remains.
    """
    form = rho_cp * MESH_UNIT_M * temperature_rate * w * dx
    if conduct:
        form += ufl.inner(conductivity * ufl.grad(temperature), ufl.grad(w)) / MESH_UNIT_M * dx
    return form


def conductivity_tensor(cross_plane: float, in_plane: float, dimension: int):
    """diag(k_cross, k_in, k_in): x is the stacking direction."""
    return ufl.as_matrix(
        [
            [cross_plane if i == j == 0 else (in_plane if i == j else 0.0) for j in range(dimension)]
            for i in range(dimension)
        ]
    )


def joule_heat(conductivity, potential):
    """Joule heat sigma |grad phi|^2 in W/m3 times L0 (per mesh-unit volume of the residual); for a
    (diagonal, anisotropic) conductivity tensor, grad(phi) . sigma grad(phi)."""
    grad = ufl.grad(potential)
    if len(getattr(conductivity, "ufl_shape", ())) == 2:
        return ufl.inner(ufl.dot(conductivity, grad), grad) / MESH_UNIT_M
    return conductivity / MESH_UNIT_M * ufl.inner(grad, grad)


def reaction_heat(current, overpotential):
    """Irreversible heat of an interface reaction j eta, W/m2 (j and eta share their sign)."""
    return current * overpotential


def reversible_heat(current, temperature, entropic_coefficient):
    """Reversible (entropic) heat j T dU/dT, W/m2, j anodic positive."""
    return current * temperature * entropic_coefficient


def convection(h, temperature, ambient):
    """Heat leaving by convection h (T - T_amb), W/m2."""
    return h * (temperature - ambient)


def radiation(emissivity, temperature, ambient):
    """Heat leaving by radiation eps sigma (T^4 - T_amb^4), W/m2."""
    return emissivity * STEFAN_BOLTZMANN * (temperature**4 - ambient**4)


def boundary_heat(bc, temperature, ambient):
    """Heat leaving through a boundary (W/m2) for a ``[thermal.boundaries]`` entry
    (:mod:`ssbfem.settings.run`: convection, radiation, flux or insulated)."""
    if bc.type == "convection":
        return convection(bc.h_W_m2K, temperature, ambient)
    if bc.type == "radiation":
        return radiation(bc.emissivity, temperature, ambient)
    if bc.type == "flux":  # given inwards
        return -bc.flux_W_m2 + 0.0 * temperature
    return 0.0 * temperature  # insulated, symmetry


def effective_conductivities(
    thicknesses: list[float], cross_plane: list[float], in_plane: list[float]
) -> tuple[float, float]:
    """Effective conductivities of a layered stack (Pang et al. 2021, Table A.1), W/(m K).

    Across the layers they add in series, k = sum(L_i) / sum(L_i / k_i); along them in parallel,
    k = sum(L_i k_i) / sum(L_i). A check on the resolved model and a reduced model of a stack.
    """
    total = sum(thicknesses)
    across = total / sum(L / k for L, k in zip(thicknesses, cross_plane, strict=True))
    along = sum(L * k for L, k in zip(thicknesses, in_plane, strict=True)) / total
    return across, along
