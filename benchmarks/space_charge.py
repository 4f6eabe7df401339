"""Benchmark: the resolved space-charge layer (``ssbfem.space_charge_1d``) against its references.

1. Case H: the equilibrium space charge against the closed form under mesh refinement (observed
   order) and the time of one solve.
2. phi2 from the resolved layer with a Stern layer against the lumped Gouy-Chapman-Stern drop
   (``kinetics.diffuse_layer_drop``) over -0.5..0.5 V; the time of a 41-point table.
3. A steady Faradaic current (Frumkin seed form at the plane) against the lumped ``frumkin-seed`` law.
4. A 1 mV step on a blocking Stern layer against the RC circuit as the layer's length grows.

Run: ``python benchmarks/space_charge.py``. Timings are best of three after a warm-up.
"""

from __future__ import annotations

import math
import platform
import time

import numpy as np
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.physics.kinetics import diffuse_layer_drop, frumkin_seed_kinetics
from ssbfem.physics.space_charge import space_charge_density
from ssbfem.space_charge_1d import FaradaicReaction, SpaceChargeLayer, tabulate_phi2

T, EPS_R, C0 = 298.15, 50.0, 1000.0  # case H
THERMAL = GAS_CONSTANT * T / FARADAY
DIFFUSIVITY = 1e-4 * GAS_CONSTANT * T / (FARADAY**2 * C0)  # sigma = 1e-4 S/m


def scalar(expression_of):
    msh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 1)
    x = dolfinx.fem.Constant(msh, 0.0)
    form = dolfinx.fem.form(expression_of(x) * ufl.dx(domain=msh))

    def evaluate(value: float) -> float:
        x.value = value
        return float(dolfinx.fem.assemble_scalar(form))

    return evaluate


def best_of(function, repeats: int = 3) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def case_h() -> None:
    print("\n1. Case H: |charge - closed form|/closed form (P2, 40 Debye lengths, grading 5)")
    print("| cells | psi = -4 | psi = -1 | psi = 1 | psi = 4 | solve (4 states) |")
    print("|---|---|---|---|---|---|")
    previous = None
    for cells in (30, 60, 120, 240):
        layer = SpaceChargeLayer(EPS_R, C0, T, cells=cells)
        errors = []
        for psi in (-4.0, -1.0, 1.0, 4.0):
            exact = space_charge_density(psi, EPS_R, C0, T)
            errors.append(abs(abs(layer.solve(psi * THERMAL).charge_C_m2) / exact - 1))

        def sweep(layer=layer):
            for psi in (-4.0, -1.0, 1.0, 4.0, 0.0):
                layer.solve(psi * THERMAL)

        elapsed = best_of(sweep) * 4 / 5
        cells_text = " | ".join(f"{e:.2e}" for e in errors)
        print(f"| {cells} | {cells_text} | {elapsed * 1e3:.1f} ms |")
        if previous is not None:
            print("|  orders | " + " | ".join(f"{o:.2f}" for o in np.log2(np.array(previous) / errors)) + " | |")
        previous = errors


def phi2_table() -> None:
    print("\n2. phi2: resolved (120 cells) against the lumped Gouy-Chapman-Stern drop, 41 drops in -0.5..0.5 V")
    drops = np.linspace(-0.5, 0.5, 41)
    for stern in (0.05, 0.2, 1.0):
        lumped_of = scalar(lambda eta, s=stern: diffuse_layer_drop(eta, s, C0, EPS_R, T))
        lumped = np.array([lumped_of(d) for d in drops])
        resolved = tabulate_phi2(drops, EPS_R, C0, T, stern)
        nonzero = drops != 0
        difference = np.max(np.abs(resolved[nonzero] / lumped[nonzero] - 1))
        elapsed = best_of(lambda s=stern: tabulate_phi2(drops, EPS_R, C0, T, s))
        print(f"C_S = {stern} F/m2: max relative difference {difference:.1e}, table in {elapsed:.2f} s")


def faradaic() -> None:
    print("\n3. Steady current, k_ox = 1, k_red = 5 A/m2, C_S = 0.2 F/m2, sigma = 1e-4 S/m, 40 Debye lengths")
    layer = SpaceChargeLayer(EPS_R, C0, T, 0.2, diffusivity_m2_s=DIFFUSIVITY, reaction=FaradaicReaction(1.0, 5.0))
    law = scalar(
        lambda eta: frumkin_seed_kinetics(0.0, eta, 0.5, 0.5, T, 1.0, 5.0, 0.2, C0, EPS_R),
    )
    equilibrium = THERMAL * math.log(5.0)
    print("| eta, V | j resolved, A/m2 | j lumped, A/m2 | relative difference | n = j lambda_D/(F D c0) |")
    print("|---|---|---|---|---|")
    for eta in (0.0, 0.01, -0.01, 0.05, -0.05, 0.2, -0.2):
        state = layer.solve(equilibrium + eta)
        lumped = law(state.drop_V - state.bulk_drop_V - equilibrium)
        n = abs(state.current_A_m2) * layer.debye_m / (FARADAY * DIFFUSIVITY * C0)
        relative = f"{abs(state.current_A_m2 / lumped - 1):.1e}" if eta else "-"
        print(f"| {eta} | {state.current_A_m2:.6g} | {lumped:.6g} | {relative} | {n:.1e} |")


def rc() -> None:
    print("\n4. 1 mV step on a blocking Stern layer (C_S = 0.2 F/m2): electrode charge / final at t = tau, 2 tau")
    print("| L/lambda_D | t = tau (RC 0.6321) | t = 2 tau (RC 0.8647) |")
    print("|---|---|---|")
    for length in (20.0, 40.0, 80.0, 160.0):
        layer = SpaceChargeLayer(EPS_R, C0, T, 0.2, diffusivity_m2_s=DIFFUSIVITY, length_debye=length, cells=160)
        final = layer.solve(1e-3)
        q_final = final.drop_V - final.phi2_V
        s = float(layer.stern_ratio.value)
        tau = length * s / (1 + s) * layer.debye_m**2 / DIFFUSIVITY
        layer.solve(0.0)
        steps = 400
        charges = []
        for _ in range(steps):
            state = layer.advance(1e-3, 2 * tau / steps)
            charges.append((state.drop_V - state.phi2_V) / q_final)
        print(f"| {length:.0f} | {charges[steps // 2 - 1]:.4f} | {charges[-1]:.4f} |")


def main() -> None:
    print(f"machine: {platform.node()} {platform.machine()}, python {platform.python_version()}")
    case_h()
    phi2_table()
    faradaic()
    rc()


if __name__ == "__main__":
    main()
