# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Interfaces: impedance, double layers and Frumkin kinetics
#
# The Li | LiPON | LiCoO2 thin film of Raijmakers et al. (Electrochim. Acta 330 (2020) 135147):
#
# 1. its impedance spectrum at 3.9 V (`demos/configs/thin_film_eis.toml`), the arcs read from the
#    spectrum against the paper's fit and against the resistances computed from the config;
# 2. a 1C pulse: the first millisecond with and without the double layers;
# 3. a 1C discharge with Butler-Volmer and with Frumkin kinetics at the LiCoO2 interface.
#
# Run from `demos/notebooks/`. `SSBFEM_QUICK=1` (set by the test suite) uses a coarser mesh and
# fewer frequencies; `SSBFEM_OUTPUT` sets where results go (default `results/`).

# %%
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import ufl
from IPython.display import Image, display
from mpi4py import MPI
from scipy.optimize import least_squares

from ssbfem._dolfinx import dolfinx
from ssbfem.config import load_config
from ssbfem.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from ssbfem.materials.library import get_material
from ssbfem.materials.ocp import OCP_FUNCTIONS
from ssbfem.physics.kinetics import diffuse_layer_drop, frumkin_kinetics, insertion_exchange_current
from ssbfem.runner import run
from ssbfem.simulation import lithium_charge_balance

QUICK = os.environ.get("SSBFEM_QUICK") == "1"
EIS_CONFIG = Path("../configs/thin_film_eis.toml")
CONFIG = Path("../configs/thin_film.toml")
OUTPUT = Path(os.environ.get("SSBFEM_OUTPUT", "results")) / "interfaces_impedance"
MESH = ["mesh.positive_elements=12"] if QUICK else []
PER_DECADE = 6 if QUICK else 10

# %% [markdown]
# ## 1. The impedance spectrum at 3.9 V
#
# The EIS step sets the cell to open-circuit equilibrium at 3.9 V and solves the linearised
# model in the frequency domain (theory manual, *Impedance*). The config's double layers and the
# electrolyte's permittivity (LiPON, 19.98 from the material library) make the high-frequency
# arcs. We sweep from 100 MHz (the config's step starts at 1 MHz, where the bulk arc is not yet
# closed) down to 10 mHz, where solid diffusion takes over.

# %%
eis_step = f"EIS from 100 MHz to 10 mHz at 3.9 V with {PER_DECADE} points per decade"
cfg = load_config(
    EIS_CONFIG,
    [*MESH, "output.fields=false", f"experiment.steps=['{eis_step}', 'Discharge at 1C for 2 ms', 'Rest for 2 ms']"],
)
result = run(cfg, OUTPUT / "eis")
spectrum = result.spectra[0]
display(Image(OUTPUT / "eis" / "impedance.png"))

# %% [markdown]
# **Reading the arcs.** Each process is a resistance R in parallel with a capacitance C, an arc
# of diameter R centred on the real axis at the frequency 1/(2 pi R C). Two of them overlap here:
# the bulk (eps/sigma = 1.6 us) and the Li side (C_dl R_ct = 0.8 us) are a factor two apart and
# merge into one arc, followed by the LiCoO2 side as a shoulder. As the paper does, we read the
# diameters by fitting the spectrum above the diffusion tail with R_s + three (R || C) elements.
# The fit starts from equal shares of the measured width and time constants spread over the
# frequency range, and knows nothing of the config.

# %%
f = spectrum["frequency_Hz"]
z = (spectrum["z_real_ohm_cm2"] + 1j * spectrum["z_imag_ohm_cm2"]) * 1e-4  # ohm m2
below = f < f[np.argmax(-z.imag)]  # below the main arc's apex
f_valley = f[below][np.argmin(-z.imag[below])]  # the turn from the arcs to the diffusion tail
arcs = f > 10 * f_valley
high, low = z.real[arcs].min(), z.real[arcs].max()
print(
    f"high-frequency intercept {high * 1e4:.2f} ohm cm2; the arcs end near {low * 1e4:.2f} ohm cm2 at {f_valley:.3g} Hz"
)


def circuit(p, w):
    r_s, *rest = np.exp(p)
    out = r_s + 0j
    for r, tau in zip(rest[0::2], rest[1::2], strict=True):
        out = out + r / (1 + 1j * w * tau)
    return out


def misfit(p):
    d = (circuit(p, 2 * np.pi * f[arcs]) - z[arcs]) / np.abs(z[arcs])
    return np.concatenate([d.real, d.imag])


taus = np.geomspace(1 / (2 * np.pi * f[arcs].max()), 1 / (2 * np.pi * f[arcs].min()), 3)
start = np.log([high, *np.ravel([[(low - high) / 3, t] for t in taus])])
fit = least_squares(misfit, start, xtol=1e-14, ftol=1e-14)
r_s, *rest = np.exp(fit.x)
fitted = sorted(zip(rest[1::2], rest[0::2], strict=True))  # (tau, R), fastest first
print(f"fit residual (relative) {np.abs(misfit(fit.x)).max():.1e}")
print(f"R_s = {r_s * 1e4:.2f} ohm cm2")
for tau, r in fitted:
    print(f"arc: R = {r * 1e4:7.2f} ohm cm2, tau = {tau:.3g} s, C = {tau / r * 1e2:.3g} uF/cm2")

# %% [markdown]
# **Against the config and the paper.** The bulk arc is L/sigma, each charge-transfer arc
# R T/(F i0) (Butler-Volmer linearised), the LiCoO2 one at the exchange current of the
# stoichiometry whose OCP is 3.9 V (the `insertion` law); its capacitance is that interface's
# double layer. The fastest fitted arc is the Li side, then the bulk, then LiCoO2.

# %%
cell = cfg["cell"]
T = cell["temperature_K"]
thermal = GAS_CONSTANT * T / FARADAY
ely, neg, pos = cell["electrolyte"], cell["negative"], cell["positive"]
ocp = OCP_FUNCTIONS[pos["ocp"]]
lo, hi = 1e-6, 1 - 1e-6  # bisection for U(x) = 3.9 V (the OCP falls with x)
for _ in range(100):
    mid = 0.5 * (lo + hi)
    lo, hi = (mid, hi) if float(ocp(mid, np)) > 3.9 else (lo, mid)
x39 = 0.5 * (lo + hi)
i0_pos = pos["exchange_current_A_m2"] * math.sqrt((1 - x39) / 0.5 * x39 / 0.5)  # alpha_a = alpha_c = 0.5
expected = {
    "Li side, RT/(F i0)": (thermal / neg["exchange_current_A_m2"], 44.0),
    "bulk, L/sigma": (ely["thickness_um"] * 1e-6 / ely["conductivity_S_m"], 326.0),
    "LiCoO2 side, RT/(F i0)": (thermal / i0_pos, 67.0),
}
print(f"x at 3.9 V: {x39:.4f}, i0 of LiCoO2 there {i0_pos:.3f} A/m2")
print(f"{'arc':>24} {'spectrum':>9} {'config':>8} {'paper':>6}  (ohm cm2)")
print(f"{'series':>24} {r_s * 1e4:9.2f} {cell['series_resistance_ohm_cm2']:8.2f} {18.3:6.1f}")
for (name, (from_config, paper)), (_, r) in zip(expected.items(), fitted, strict=True):
    print(f"{name:>24} {r * 1e4:9.2f} {from_config * 1e4:8.2f} {paper:6.1f}")
    assert abs(r / from_config - 1) < 0.03, name
assert abs(r_s * 1e4 / cell["series_resistance_ohm_cm2"] - 1) < 0.03
eps = ely["relative_permittivity"] * VACUUM_PERMITTIVITY
capacitances = [neg["double_layer_F_m2"], eps / (ely["thickness_um"] * 1e-6), pos["double_layer_F_m2"]]
for (tau, r), c in zip(fitted, capacitances, strict=True):
    assert abs(tau / r / c - 1) < 0.05

# %% [markdown]
# The series resistance, the bulk and the Li arc are the config's R_s, L/sigma and R T/(F i0),
# which the config takes from the paper's fit (18.3, 326 and 44 ohm cm2), and the fitted
# capacitances are the config's double layers and eps/L. The LiCoO2 arc is larger than the
# paper's 67 ohm cm2: the config's exchange current, 4.70 A/m2 at x = 0.5 (the thin-film
# discharge fit), gives R T/(F i0) = 54 ohm cm2 at x = 0.5, but the Dualfoil OCP puts 3.9 V at
# x = 0.92, where the `insertion` law's exchange current has fallen by the factor
# sqrt(4 x (1 - x)). Below the valley the spectrum rises as the finite-length diffusion of the
# LiCoO2 film (verification case J).

# %% [markdown]
# ## 2. A 1C pulse: the double layers charging
#
# The same run continued with a 1C discharge of 2 ms and a rest. With double layers the current
# first charges them: the voltage falls at once by the series resistance's I R_s only, then
# relaxes onto the charge-transfer overpotentials with the time constants of the arcs above. We
# compare with the same cell without double layers (and hence without the displacement current),
# whose voltage falls at once by the whole I (R_s + L/sigma + R_ct).

# %%
no_dl = load_config(
    EIS_CONFIG,
    [
        *MESH,
        "output.fields=false",
        "cell.negative.double_layer_F_m2=0",
        "cell.positive.double_layer_F_m2=0",
        "experiment.steps=['EIS from 1 kHz to 100 Hz at 3.9 V', 'Discharge at 1C for 2 ms', 'Rest for 2 ms']",
    ],
)
pulses = {"with double layers": result.series, "without": run(no_dl, OUTPUT / "no_double_layers").series}
current = cell["nominal_capacity_mAh_cm2"] * 10.0  # 1C in A/m2: the nominal capacity in one hour
responses = {}
fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
for name, s in pulses.items():
    rows = s.rows[max(k for k, r in enumerate(s.rows) if r["step"] == 0) :]  # from the rest at 3.9 V
    t0, v0 = rows[0]["time_s"], rows[0]["voltage_V"]
    t = np.array([r["time_s"] for r in rows]) - t0
    v = np.array([r["voltage_V"] for r in rows])
    pulse = (t > 0) & (t <= 1e-3)
    axes[0].plot(t[t <= 1e-3] * 1e3, (v[t <= 1e-3] - v0) * 1e3, label=name)
    axes[1].semilogx(t[pulse], (v[pulse] - v0) * 1e3, ".-", ms=3, label=name)
    responses[name] = (t, v - v0)
axes[0].set_xlabel("time since the pulse started (ms)")
axes[1].set_xlabel("time since the pulse started (s)")
for ax in axes:
    ax.set_ylabel("V - V(rest at 3.9 V) (mV)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
fig.suptitle("1C pulse at 3.9 V: the first millisecond")
fig.savefig(OUTPUT / "pulse.png", dpi=120)
plt.close(fig)
display(Image(OUTPUT / "pulse.png"))

# %%
r_series = cell["series_resistance_ohm_cm2"] * 1e-4
r_total = r_series + sum(v for v, _ in expected.values())
t_dl, dv_dl = responses["with double layers"]
t_no, dv_no = responses["without"]
first_dl, first_no = -dv_dl[1], -dv_no[1]
print(f"first step ({t_dl[1]:.0e} s): drop {first_dl * 1e3:.3f} mV with double layers", end=" ")
print(f"(I R_s = {current * r_series * 1e3:.3f} mV)")
print(
    f"first step ({t_no[1]:.0e} s): drop {first_no * 1e3:.2f} mV without (I R_total = {current * r_total * 1e3:.2f} mV)"
)
at_1ms = lambda t, dv: float(np.interp(1e-3, t, dv))
gap = at_1ms(t_dl, dv_dl) - at_1ms(t_no, dv_no)
print(f"at 1 ms the two differ by {gap * 1e6:.2f} uV")
assert current * r_series < first_dl < 1.25 * current * r_series
assert abs(first_no / (current * r_total) - 1) < 0.05
assert abs(gap) < 0.01 * current * r_total  # the double layers have charged (tau = 52 us on the LiCoO2 side)
rows = result.series.rows
charge, inserted = lithium_charge_balance(rows[max(k for k, r in enumerate(rows) if r["step"] == 0) :])
print(f"charge passed {charge:.6e} C/m2; F x lithium inserted - double-layer charge change {inserted:.6e} C/m2")
assert abs(charge - inserted) <= 1e-6 * abs(charge)

# %% [markdown]
# ## 3. Butler-Volmer and Frumkin kinetics
#
# With `kinetics = "frumkin"` the LiCoO2 interface's double layer is split by the Gouy-Chapman-
# Stern model into a Stern layer and a diffuse layer of drop phi2, and the current is
# Frumkin-Butler-Volmer (theory manual, *Charge-transfer kinetics*):
#
# `j = i0 [exp(alpha_a f (eta - phi2)) - exp(-f phi2) exp(-alpha_c f (eta - phi2))]`.
#
# Why it differs from Butler-Volmer: the transferring ion sits at the reaction plane, so only
# `eta - phi2` (the drop across the Stern layer) drives the reaction, and the cation
# concentration there is the bulk's times `exp(-f phi2)` (Boltzmann). Near equilibrium this is
# Butler-Volmer with the apparent exchange current `i0 exp(-alpha_a f phi2)`. When the
# interface's potential of zero charge lies away from its equilibrium potential
# (`zero_charge_overpotential_V` != 0) the double layer is charged even at rest: phi2 != 0, the
# apparent exchange current changes, and with it the charge-transfer loss at every current.
#
# Parameters, and their basis:
#
# - relative permittivity of LiPON, 19.98 (material library, Pang et al. 2021, Table 1, film);
# - Stern capacitance 0.2 F/m2 (20 uF/cm2), in the 0.1-1 F/m2 range of compact layers (Bard and
#   Faulkner, *Electrochemical Methods*, ch. 13);
# - mobile-cation concentration 1000 mol/m3, that of verification case H (LiPON's mobile fraction
#   is not known; this gives a Debye length of about 0.2 nm);
# - overpotential of zero charge -0.2 V (illustrative: the LiCoO2 | LiPON potential of zero charge
#   is not measured; a nonzero value makes the effect visible).

# %%
frumkin = {
    "stern_capacitance_F_m2": 0.2,
    "concentration_mol_m3": 1000.0,
    "relative_permittivity": get_material("LiPON").properties["relative_permittivity"].value,
    "zero_charge_overpotential_V": -0.2,
}
discharges = {}
for law in ("butler-volmer", "frumkin"):
    c = load_config(CONFIG, [*MESH, "experiment.steps=['Discharge at 1C until 3.0 V']", "output.fields=false"])
    c["cell"]["positive"]["kinetics"] = law
    c["cell"]["positive"]["kinetics_parameters"] = frumkin if law == "frumkin" else {}
    discharges[law] = run(c, OUTPUT / law).series
bv, fr = discharges["butler-volmer"], discharges["frumkin"]
for law, s in discharges.items():
    q, e = s["capacity_mAh_cm2"][-1], s["energy_mWh_cm2"][-1]
    print(f"{law:>14}: {q:.4f} mAh/cm2 to 3.0 V, mean voltage {e / q:.4f} V")
display(Image(OUTPUT / "frumkin" / "losses.png"))

# %%
capacity = np.linspace(0.0, min(bv["capacity_mAh_cm2"][-1], fr["capacity_mAh_cm2"][-1]), 200)
v_bv = np.interp(capacity, bv["capacity_mAh_cm2"], bv["voltage_V"])
v_fr = np.interp(capacity, fr["capacity_mAh_cm2"], fr["voltage_V"])
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
ax0.plot(capacity, v_bv, label="Butler-Volmer")
ax0.plot(capacity, v_fr, "--", label="Frumkin")
ax0.set_xlabel("Capacity (mAh/cm$^2$)")
ax0.set_ylabel("Cell voltage (V)")
ax0.legend()
ax1.plot(capacity, (v_fr - v_bv) * 1e3)
ax1.set_xlabel("Capacity (mAh/cm$^2$)")
ax1.set_ylabel("V(Frumkin) - V(Butler-Volmer) (mV)")
for ax in (ax0, ax1):
    ax.grid(alpha=0.3)
fig.savefig(OUTPUT / "bv_frumkin.png", dpi=120)
plt.close(fig)
display(Image(OUTPUT / "bv_frumkin.png"))


# %% [markdown]
# **Checks.** phi2 at rest and the apparent exchange current follow from the parameters alone;
# and at every recorded point of the Frumkin run, the law evaluated at the run's mean
# overpotential and surface stoichiometry must give the applied current (in 1D the interface
# carries all of it: j = -I on discharge). The UFL expressions are evaluated as numbers on a
# one-cell mesh.


# %%
class Scalar:
    """A UFL expression of Constants, evaluated at given values (compiled once)."""

    def __init__(self, expression_of, arguments: int = 1):
        msh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 1)
        self.x = [dolfinx.fem.Constant(msh, 0.0) for _ in range(arguments)]
        self.form = dolfinx.fem.form(expression_of(*self.x) * ufl.dx(domain=msh))

    def __call__(self, *values: float) -> float:
        for constant, value in zip(self.x, values, strict=True):
            constant.value = value
        return float(dolfinx.fem.assemble_scalar(self.form))


T_dis = load_config(CONFIG)["cell"]["temperature_K"]
p = [frumkin[k] for k in ("stern_capacitance_F_m2", "concentration_mol_m3", "relative_permittivity")]
eta_pzc = frumkin["zero_charge_overpotential_V"]
phi2 = Scalar(lambda eta: diffuse_layer_drop(eta, *p, T_dis, eta_pzc))
factor = math.exp(-0.5 * FARADAY / (GAS_CONSTANT * T_dis) * phi2(0.0))
print(f"at rest phi2 = {phi2(0.0) * 1e3:.2f} mV: apparent exchange current x {factor:.3f}")
ct_bv, ct_fr = bv["loss_charge_transfer_positive_V"], fr["loss_charge_transfer_positive_V"]
print(f"charge-transfer loss at the start: Butler-Volmer {ct_bv[1] * 1e3:.2f} mV, Frumkin {ct_fr[1] * 1e3:.2f} mV")

i0_half = load_config(CONFIG)["cell"]["positive"]["exchange_current_A_m2"]
law = Scalar(
    lambda eta, x: frumkin_kinetics(
        insertion_exchange_current(i0_half, x, 0.5, 0.5), eta, 0.5, 0.5, T_dis, *p, eta_pzc
    ),
    arguments=2,
)
worst = max(
    abs(law(r["loss_charge_transfer_positive_V"], r["surface_stoichiometry"]) / -r["current_A_m2"] - 1)
    for r in fr.rows[1:]
)
print(f"Frumkin law at the run's eta against the applied current: largest relative difference {worst:.1e}")
assert worst < 1e-6
loss = {
    law: np.interp(capacity, s["capacity_mAh_cm2"], s["loss_charge_transfer_positive_V"])
    for law, s in discharges.items()
}
assert np.all(loss["frumkin"][1:] < loss["butler-volmer"][1:])  # a larger loss (both negative on discharge)
assert fr["capacity_mAh_cm2"][-1] < bv["capacity_mAh_cm2"][-1]

# %% [markdown]
# With eta_pzc = -0.2 V the equilibrium double layer leaves phi2 > 0 at the reaction plane:
# cations are repelled from it, the apparent exchange current falls, and the charge-transfer
# loss grows throughout the discharge (about doubled at the start: 1/0.39 at small overpotential,
# less as the Tafel branch takes over). The curves differ by that extra loss, 13 mV at the start
# and growing (to about 20 mV) as the `insertion` law's exchange current falls towards a full
# electrode, and the 3.0 V cut-off comes slightly earlier. With eta_pzc = 0 the double layer
# is uncharged at rest and the two laws nearly coincide at this current; a thick Stern layer
# (C_S -> 0) gives Butler-Volmer back exactly.
