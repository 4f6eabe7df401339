"""Weak-form blocks: small functions of UFL objects, each stating the equation it discretises.

Conventions shared by every block:

* Mesh coordinates are in micrometres (``L0 = 1e-6 m``); gradients and measures are those of
  the mesh, so each block rescales by ``L0`` explicitly.
* Every residual is a current in A divided by ``L0**(d-1)`` (a current density in A/m2 times a
  mesh-unit area), so all rows of the coupled system have comparable magnitude.
* Current density is positive in the direction of increasing x; an interface current density
  ``j`` is anodic-positive: it flows from the electrode into the electrolyte.
* Overpotential ``eta = phi_s - phi_e - U``.

``pnp`` is the exception: the resolved space-charge layer (``ssbfem.space_charge_1d``) lives on its
own mesh in Debye lengths, and its residuals are dimensionless.
"""
