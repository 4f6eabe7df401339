"""Resolved space charge next to an interface: 1D Poisson-Nernst-Planck at nanometre resolution.

One mobile cation (concentration c) on an immobile background of the same concentration c0
(verification case H), from the interface (x = 0, the reaction plane) into the bulk electrolyte
(x = L, many Debye lengths away, where c = c0 and phi = 0). Unknowns are the dimensionless
potential psi = F phi/(R T) and concentration u = c/c0 on a graded interval mesh in Debye lengths
(``ssbfem.physics.pnp`` states the equations). At the interface either

* the potential is given (``stern_capacitance_F_m2=None``, case H), or
* a Stern layer of capacitance C_S lies between the electrode, at ``drop`` (V, relative to the
  bulk), and the plane x = 0: eps phi'(0) = -C_S (drop - phi(0)).

The cation flux there is zero (a blocking interface, equilibrium when steady) or, with a
``FaradaicReaction``, the Frumkin seed-form current (Pang et al. 2021 eqs. 13-14) driven by the
Stern drop and the cation concentration at the plane. Steady states are solved directly; ``advance``
takes backward-Euler time steps. The resolved phi2 = phi(0) is the diffuse-layer drop that the
lumped laws of ``ssbfem.physics.kinetics`` compute from Gouy-Chapman-Stern (``tabulate_phi2``).

Serial: the layer is a few hundred nodes, solved on ``MPI.COMM_SELF``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from ssbfem.errors import SimulationError
from ssbfem.physics import pnp
from ssbfem.physics.kinetics import frumkin_seed
from ssbfem.physics.space_charge import debye_length

_counter = itertools.count()
_INTERFACE, _BULK = 1, 2


@dataclass(frozen=True)
class FaradaicReaction:
    """Charge transfer at the reaction plane in the seed form of Frumkin kinetics (A/m2, anodic
    positive): j = k_ox exp(alpha_ox f dphi) - k_red (c(0)/c0) exp(-alpha_red f dphi), dphi the
    Stern drop."""

    k_ox_A_m2: float
    k_red_A_m2: float
    alpha_ox: float = 0.5
    alpha_red: float = 0.5


@dataclass(frozen=True)
class LayerState:
    """A solution of the layer in SI units.

    Attributes:
        x_m: node positions from the interface, m (sorted).
        phi_V: potential relative to the bulk at x_m, V.
        c_mol_m3: cation concentration at x_m, mol/m3.
        drop_V: the potential imposed at the interface (the electrode's with a Stern layer), V.
        phi2_V: the potential of the reaction plane x = 0, V: the diffuse-layer drop, plus
            bulk_drop_V under a current (the potentials are relative to the bulk end x = L).
        charge_C_m2: the space charge per area, F int (c - c0) dx, C/m2 (the electrode holds minus it).
        current_A_m2: the Faradaic current density at the plane, A/m2 (0 when blocking).
        bulk_drop_V: the ohmic drop j L/sigma of the current across the layer's length, V; the
            double layer's own drop is drop_V - bulk_drop_V.
    """

    x_m: np.ndarray
    phi_V: np.ndarray
    c_mol_m3: np.ndarray
    drop_V: float
    phi2_V: float
    charge_C_m2: float
    current_A_m2: float
    bulk_drop_V: float


def graded_nodes(cells: int, length: float, grading: float) -> np.ndarray:
    """Node positions 0..length, finest at 0: xi(t) = length expm1(grading t)/expm1(grading) on
    t = i/cells. The cells grow by about exp(grading) across the layer; a smooth map, so doubling
    ``cells`` refines uniformly (the convergence rate is that of a uniform mesh)."""
    t = np.linspace(0.0, 1.0, cells + 1)
    return length * np.expm1(grading * t) / math.expm1(grading)


#: Newton with a backtracking line search and LU: the layer's exponentials need both.
_NEWTON_LU = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "bt",
    "snes_atol": 1e-12,
    "snes_rtol": 1e-12,
    "snes_stol": 1e-14,
    "snes_max_it": 40,
    "ksp_type": "preonly",
    "pc_type": "lu",
}


def _graded_layer(cells: int, length_debye: float, grading: float):
    """The interval [0, length] in Debye lengths, graded towards the interface at 0; its two
    end vertices; the boundary measure tagged _INTERFACE and _BULK."""
    msh = dolfinx.mesh.create_interval(MPI.COMM_SELF, cells, [0.0, 1.0])
    msh.geometry.x[:, 0] = graded_nodes(cells, length_debye, grading)[np.rint(msh.geometry.x[:, 0] * cells).astype(int)]
    interface = dolfinx.mesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], 0.0))
    bulk = dolfinx.mesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], length_debye))
    facets = np.concatenate([interface, bulk])
    tags = np.concatenate([np.full(interface.size, _INTERFACE), np.full(bulk.size, _BULK)]).astype(np.int32)
    order = np.argsort(facets)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=dolfinx.mesh.meshtags(msh, 0, facets[order], tags[order]))
    return msh, interface, bulk, ds


class SpaceChargeLayer:
    """The resolved layer: build once, then solve for one interface potential after another.

    Each solve continues from the last converged state and halves the step in the drop when Newton
    fails, so sweeps over the drop (``tabulate_phi2``) are robust and cheap.

    Args:
        relative_permittivity: of the electrolyte.
        concentration_mol_m3: c0, of the mobile cation and of the background.
        temperature_K: temperature.
        stern_capacitance_F_m2: C_S; None imposes the potential at x = 0 itself.
        diffusivity_m2_s: the cation's D, needed with a reaction (it turns j into the flux
            N = j/F) and in time steps (time scale lambda_D^2/D); steady blocking states do not use it.
        reaction: Faradaic charge transfer at x = 0 (needs the Stern layer and D); None blocks the cation.
        length_debye: L/lambda_D, the extent of the layer (the field decays as exp(-x/lambda_D)).
        cells: number of cells; grading: see ``graded_nodes``. The defaults (120 cells, grading 5,
            first cell 0.012 lambda_D) give case H's charge to 1e-7 up to |psi| = 4 and 2e-4 at
            psi = -8; a stronger accumulation layer, thinner than lambda_D exp(psi/2), needs a finer
            first cell (240 cells, grading 8: 2e-6 at psi = -12). Depletion (psi > 0) is resolved
            at any drop. The theory is that of a dilute solution (no steric limit on c).
        degree: Lagrange degree of both unknowns.
    """

    def __init__(
        self,
        relative_permittivity: float,
        concentration_mol_m3: float,
        temperature_K: float,
        stern_capacitance_F_m2: float | None = None,
        diffusivity_m2_s: float | None = None,
        reaction: FaradaicReaction | None = None,
        length_debye: float = 40.0,
        cells: int = 120,
        grading: float = 5.0,
        degree: int = 2,
    ):
        if reaction is not None and (stern_capacitance_F_m2 is None or diffusivity_m2_s is None):
            raise ValueError("a Faradaic reaction needs the Stern layer (its driving drop) and the diffusivity")
        self.diffusivity_m2_s, self.c0 = diffusivity_m2_s, concentration_mol_m3
        self.thermal_V = GAS_CONSTANT * temperature_K / FARADAY
        self.debye_m = debye_length(relative_permittivity, concentration_mol_m3, temperature_K)
        self.length_debye = length_debye

        msh, interface, bulk, ds = _graded_layer(cells, length_debye, grading)
        self.mesh, fdim = msh, 0
        dx = ufl.Measure("dx", domain=msh)

        # two spaces (equal but distinct), so that each Dirichlet condition constrains one unknown
        Vp, Vu = (dolfinx.fem.functionspace(msh, ("Lagrange", degree)) for _ in range(2))
        self.psi, self.u = dolfinx.fem.Function(Vp, name="psi"), dolfinx.fem.Function(Vu, name="u")
        self.u.x.array[:] = 1.0
        self._u_old = dolfinx.fem.Function(Vu)
        self._saved = (self.psi.x.array.copy(), self.u.x.array.copy())
        v, w = ufl.TestFunction(Vp), ufl.TestFunction(Vu)

        self._drop = dolfinx.fem.Constant(msh, 0.0)  # thermal units
        self._inverse_dtau = dolfinx.fem.Constant(msh, 0.0)  # 0: steady
        self.drop_V = 0.0

        F_psi = pnp.poisson(self.psi, self.u, v, dx)
        bcs = [
            dolfinx.fem.dirichletbc(0.0, dolfinx.fem.locate_dofs_topological(Vp, fdim, bulk), Vp),  # phi = 0
            dolfinx.fem.dirichletbc(1.0, dolfinx.fem.locate_dofs_topological(Vu, fdim, bulk), Vu),  # c = c0
        ]
        if stern_capacitance_F_m2 is None:
            bcs.append(
                dolfinx.fem.dirichletbc(self._drop, dolfinx.fem.locate_dofs_topological(Vp, fdim, interface), Vp)
            )
            self.stern_ratio = None
        else:
            eps = relative_permittivity * VACUUM_PERMITTIVITY
            # a Constant, so that layers of other C_S reuse the compiled forms
            self.stern_ratio = dolfinx.fem.Constant(msh, stern_capacitance_F_m2 * self.debye_m / eps)
            F_psi += pnp.stern_layer(self.psi, v, self._drop, self.stern_ratio, ds(_INTERFACE))
        F_u = pnp.nernst_planck(self.u, self.psi, w, dx) + self._inverse_dtau * (self.u - self._u_old) * w * dx
        self._current = None
        if reaction is not None:
            # j from the Stern drop (drop - psi(0)) and c(0)/c0 = u(0); n(0) = j lambda_D/(F D c0)
            k_ox, k_red, alpha_ox, alpha_red, scale = (
                dolfinx.fem.Constant(msh, value)  # Constants: other rates reuse the compiled forms
                for value in (
                    reaction.k_ox_A_m2,
                    reaction.k_red_A_m2,
                    reaction.alpha_ox,
                    reaction.alpha_red,
                    self.debye_m / (FARADAY * diffusivity_m2_s * self.c0),
                )
            )
            self._current = frumkin_seed(
                k_ox, k_red, (self._drop - self.psi) * self.thermal_V, self.u, alpha_ox, alpha_red, temperature_K
            )
            self._flux_scale = float(scale.value)
            F_u += pnp.injected_flux(scale * self._current, w, ds(_INTERFACE))
            self._current_form = dolfinx.fem.form(self._current * ds(_INTERFACE))
        self._charge_form = dolfinx.fem.form((self.u - 1.0) * dx)
        self.problem = dolfinx.fem.petsc.NonlinearProblem(
            [F_psi, F_u],
            [self.psi, self.u],
            bcs=bcs,
            kind="mpi",
            petsc_options_prefix=f"ssbfem_pnp{next(_counter)}_",
            petsc_options=_NEWTON_LU,
        )

    def _newton(self, drop_V: float) -> bool:
        self._drop.value = drop_V / self.thermal_V
        self.problem.solve()
        reason = self.problem.solver.getConvergedReason()
        ok = reason > 0 and np.all(np.isfinite(self.u.x.array)) and np.all(self.u.x.array > 0)
        return bool(ok)

    def _solve_to(self, drop_V: float, max_halvings: int = 12) -> None:
        """Newton at drop_V, by continuation from the last converged drop when a full step fails."""
        reached, step, halvings = self.drop_V, drop_V - self.drop_V, 0
        while True:
            target = drop_V if abs(drop_V - reached) <= abs(step) else reached + step
            if self._newton(target):
                reached = target
                self._saved = (self.psi.x.array.copy(), self.u.x.array.copy())
                self.drop_V = reached
                if reached == drop_V:
                    return
            else:
                self.psi.x.array[:], self.u.x.array[:] = self._saved
                halvings += 1
                if halvings > max_halvings:
                    self._drop.value = self.drop_V / self.thermal_V
                    raise SimulationError(f"space-charge layer: Newton failed on the way to a drop of {drop_V} V")
                step /= 2

    def solve(self, drop_V: float) -> LayerState:
        """The steady state at the interface potential (or, with a Stern layer, the electrode's
        potential) ``drop_V`` relative to the bulk: equilibrium when blocking."""
        self._inverse_dtau.value = 0.0
        self._solve_to(drop_V)
        return self.state()

    def advance(self, drop_V: float, dt_s: float) -> LayerState:
        """One backward-Euler step of length dt_s, the interface (or electrode) at drop_V."""
        if self.diffusivity_m2_s is None:
            raise ValueError("time steps need the cation's diffusivity_m2_s")
        self._u_old.x.array[:] = self.u.x.array
        self._inverse_dtau.value = self.debye_m**2 / (self.diffusivity_m2_s * dt_s)
        if not self._newton(drop_V):
            self.psi.x.array[:], self.u.x.array[:] = self._saved
            self._drop.value = self.drop_V / self.thermal_V
            raise SimulationError(f"space-charge layer: Newton failed in a time step of {dt_s} s")
        self.drop_V = drop_V
        self._saved = (self.psi.x.array.copy(), self.u.x.array.copy())
        return self.state()

    def state(self) -> LayerState:
        """The current solution in SI units."""
        V = self.psi.function_space
        xi = V.tabulate_dof_coordinates()[:, 0]
        order = np.argsort(xi)
        psi, u = self.psi.x.array[order], self.u.x.array[order]
        charge = FARADAY * self.c0 * self.debye_m * dolfinx.fem.assemble_scalar(self._charge_form)
        current = 0.0 if self._current is None else float(dolfinx.fem.assemble_scalar(self._current_form))
        # the bulk carries the current by migration alone: psi' = -n, over the whole length
        bulk_drop = 0.0 if self._current is None else current * self._flux_scale * self.length_debye * self.thermal_V
        return LayerState(
            x_m=xi[order] * self.debye_m,
            phi_V=psi * self.thermal_V,
            c_mol_m3=u * self.c0,
            drop_V=self.drop_V,
            phi2_V=float(psi[0]) * self.thermal_V,
            charge_C_m2=float(charge),
            current_A_m2=current,
            bulk_drop_V=bulk_drop,
        )


def tabulate_phi2(
    drops_V,
    relative_permittivity: float,
    concentration_mol_m3: float,
    temperature_K: float,
    stern_capacitance_F_m2: float,
    **mesh,
) -> np.ndarray:
    """phi2 (V), the potential of the reaction plane, for each total double-layer drop (V, the
    electrode relative to the bulk) at equilibrium, from the resolved layer with its Stern layer.

    The lumped Frumkin laws take phi2 from Gouy-Chapman-Stern (``kinetics.diffuse_layer_drop``);
    this table is the same quantity computed from the resolved field. Sweeps run outwards from the
    point of zero charge so each solve starts from its neighbour. ``mesh``: SpaceChargeLayer's
    ``length_debye``, ``cells``, ``grading``, ``degree``.
    """
    drops = np.asarray(drops_V, dtype=float)
    phi2 = np.empty_like(drops)
    for side in (np.flatnonzero(drops >= 0), np.flatnonzero(drops < 0)):
        layer = SpaceChargeLayer(
            relative_permittivity, concentration_mol_m3, temperature_K, stern_capacitance_F_m2, **mesh
        )
        for i in side[np.argsort(np.abs(drops[side]))]:
            phi2[i] = layer.solve(float(drops[i])).phi2_V
    return phi2
