"""Radial Galerkin discretisation of spherical diffusion in a particle.

On s = r/R in [0, 1], N linear elements with nodes s_k = k/N; the weak form of
dc/dt = (1/r^2) d/dr (r^2 D dc/dr) with the r^2 weight gives, per particle and R^2,

    R M dc/dt + (D/R) K c = -N_out e_N,

M_ij = int phi_i phi_j s^2 ds, K = sum_e K_e with (K_e)_ij = int_e phi_i' phi_j' s^2 ds, N_out
the outward molar flux at the surface (mol/(m2 s)) and e_N the surface node. The matrices are
integrated exactly (Gauss-Legendre, 3 points: the integrands are quartic at most). The radial
error is O(1/N^2) (linear elements).
"""

from __future__ import annotations

import numpy as np


def _gauss(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(3)
    return 0.5 * (b - a) * x + 0.5 * (a + b), 0.5 * (b - a) * w


def radial_matrices(elements: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """(M, [K_e]) for `elements` linear elements: M (N+1)x(N+1), each K_e (N+1)x(N+1) nonzero in
    the 2x2 block of element e (so that a diffusivity may change from element to element)."""
    n = elements
    nodes = np.linspace(0.0, 1.0, n + 1)
    mass = np.zeros((n + 1, n + 1))
    stiffness = []
    for e in range(n):
        a, b = nodes[e], nodes[e + 1]
        s, w = _gauss(a, b)
        phi = np.array([(b - s) / (b - a), (s - a) / (b - a)])
        dphi = np.array([-1.0, 1.0]) / (b - a)
        block = slice(e, e + 2)
        mass[block, block] += (phi[:, None, :] * phi[None, :, :] * (w * s**2)).sum(axis=2)
        k_e = np.zeros((n + 1, n + 1))
        k_e[block, block] = np.outer(dphi, dphi) * (w * s**2).sum()
        stiffness.append(k_e)
    return mass, stiffness


def volume_weights(elements: int) -> np.ndarray:
    """w with w . c = the particle's volume-averaged c: 3 M 1 (so that sum(w) = 1)."""
    mass, _ = radial_matrices(elements)
    return 3.0 * mass.sum(axis=1)
