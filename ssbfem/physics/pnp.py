"""Poisson-Nernst-Planck weak form of one mobile cation on a fixed background, in Debye units.

Variables: xi = x/lambda_D (lambda_D the Debye length, see ``space_charge.debye_length``),
psi = F phi/(R T) the potential relative to the bulk electrolyte, u = c/c0 the cation
concentration over that of the background, tau = t D/lambda_D^2. In these units

* Poisson, eps phi'' = -F (c - c0), becomes psi'' = -(u - 1);
* the Nernst-Planck flux N = -D (c' + c F phi'/(R T)) becomes n = N lambda_D/(D c0) = -(u' + u psi'),
  and the cation balance dc/dt = -N' becomes du/dtau = -n'.

The interface is the plane xi = 0 (the reaction plane, the outer edge of the Stern layer), the
bulk is at the other end. Every residual below is dimensionless and of order one.
"""

from __future__ import annotations

import ufl


def poisson(psi, u, v, dx: ufl.Measure) -> ufl.Form:
    """Weak form of -psi'' = u - 1: int psi' v' - (u - 1) v dxi.

    Integrating by parts leaves +psi'(0) v(0) at the interface (the outward normal there is -xi);
    ``stern_layer`` supplies it. The bulk end carries a Dirichlet condition.
    """
    return (ufl.inner(ufl.grad(psi), ufl.grad(v)) - (u - 1.0) * v) * dx


def stern_layer(psi, v, drop, stern_ratio, ds: ufl.Measure) -> ufl.Form:
    """The Stern layer's Robin condition at the interface: +psi'(0) v(0) with psi'(0) = s (psi(0) - drop).

    Gauss's law across the charge-free Stern layer (capacitance C_S per area) between the
    electrode, at the potential ``drop`` (thermal units, relative to the bulk), and the plane
    xi = 0: the electrode's charge is C_S (drop - phi(0)) and the diffuse layer holds the opposite,
    eps phi'(0) = -C_S (drop - phi(0)). In Debye units s = C_S lambda_D/eps, the Stern capacitance
    over the diffuse layer's linear capacitance eps/lambda_D. A positive electrode (drop > psi(0)
    > 0) gives psi'(0) < 0: the potential falls into the bulk, cations are repelled.
    """
    return stern_ratio * (psi - drop) * v * ds


def nernst_planck(u, psi, w, dx: ufl.Measure, u_old=None, dtau=None) -> ufl.Form:
    """Weak form of du/dtau = -n', n = -(u' + u psi'): int (u - u_old)/dtau w + (u' + u psi') w' dxi.

    Without ``u_old`` the steady balance. Integrating by parts leaves -n(0) w(0) at the interface,
    n(0) the flux injected into the electrolyte (``injected_flux``; none at a blocking interface).
    """
    form = ufl.inner(ufl.grad(u) + u * ufl.grad(psi), ufl.grad(w)) * dx
    if u_old is not None:
        form += (u - u_old) / dtau * w * dx
    return form


def injected_flux(flux, w, ds: ufl.Measure) -> ufl.Form:
    """-n(0) w(0): the dimensionless cation flux n = N lambda_D/(D c0) = j lambda_D/(F D c0) entering
    the electrolyte at the interface, j the anodic (electrode to electrolyte) current density, A/m2."""
    return -flux * w * ds
