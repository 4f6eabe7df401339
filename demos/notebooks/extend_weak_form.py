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
# # Extending the model without touching the package
#
# The physics of ssbfem is a set of plain functions of UFL objects (`ssbfem.physics`), looked up
# by name in registries, wired into a `CellModel` by physics blocks (`ssbfem.blocks`) that add
# named residual terms. This notebook adds, from the outside (docs/extending.md):
#
# 1. a **material law**: a diffusivity that depends on the stoichiometry;
# 2. a **kinetics law**: Butler-Volmer limited by mass transport, registered with
#    `ssbfem.physics.kinetics.register_kinetics` and selected by the config key `kinetics`, its
#    parameter given by `kinetics_parameters`;
# 3. a **source term** in a weak form: a first-order self-discharge of the positive electrode,
#    a block of its own passed to the run with `extra_blocks`;
# 4. an **output column**: the root-mean-square overpotential of the positive interface.
#
# Each is checked against a closed form. Run from `demos/notebooks/`; `SSBFEM_QUICK=1` (set by
# the test suite) uses a coarser mesh; `SSBFEM_OUTPUT` sets where results go.

# %%
import math
import os
from pathlib import Path

import numpy as np
from IPython.display import Image, display

from ssbfem.blocks import Block, interface
from ssbfem.config import load_config, resolve
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.observables import Observable
from ssbfem.physics.kinetics import butler_volmer, register_kinetics
from ssbfem.results import plot_voltage
from ssbfem.runner import run

QUICK = os.environ.get("SSBFEM_QUICK") == "1"
CONFIG = Path("../configs/thin_film.toml")
OUTPUT = Path(os.environ.get("SSBFEM_OUTPUT", "results")) / "extend_weak_form"
OUTPUT.mkdir(parents=True, exist_ok=True)
MESH = ["mesh.positive_elements=12"] if QUICK else []

# %% [markdown]
# ## 1. A material law
#
# Any property the config gives as a number may be replaced, in Python, by a UFL expression.
# The diffusivity is called as `D(theta, T)` (stoichiometry and temperature, both UFL).
# First a law that returns the config's constant, which must reproduce the plain run; then a
# diffusivity rising five-fold from the delithiated to the lithiated state.

# %%
steps = ["experiment.steps=['Discharge at 4C until 3.0 V']", "output.fields=false"]
D0 = 5.387e-15  # m2/s, the config's value

capacities = {}
for name, law in (
    ("number", None),
    ("constant law", lambda theta, T: D0 + 0.0 * theta),
    ("D0 (1 + 4 theta)", lambda theta, T: D0 * (1 + 4 * theta)),
):
    cfg = load_config(CONFIG, [*MESH, *steps])
    if law is not None:
        cfg["cell"]["positive"]["diffusivity_m2_s"] = law
    capacities[name] = run(cfg, None).series["capacity_mAh_cm2"][-1]
    print(f"{name:>18}: {capacities[name]:.6f} mAh/cm2 at 4C")
assert abs(capacities["constant law"] - capacities["number"]) <= 1e-9
assert capacities["D0 (1 + 4 theta)"] > capacities["number"]

# %% [markdown]
# ## 2. A kinetics law: Butler-Volmer with a limiting current
#
# When the supply of the reacting species to the interface is limited (a depleted electrolyte,
# a resistive interphase that feeds the reaction), the current cannot exceed a limiting value
# `i_lim` however large the overpotential. A common way to combine kinetic and transport control
# adds their resistances in the Koutecky-Levich form `1/|j| = 1/|j_BV| + 1/i_lim`, i.e.
#
# `j = j_BV/(1 + |j_BV|/i_lim)`, `j_BV = i0 [exp(alpha_a f eta) - exp(-alpha_c f eta)]`, `f = F/(R T)`,
#
# anodic positive, A/m2. It is Butler-Volmer at small currents and saturates at `+-i_lim`. The
# package has no such law. A law takes `(i0, eta, alpha_a, alpha_c, T, **kinetics_parameters)`
# in UFL and returns `j` in A/m2; here the one parameter is `limiting_current_A_m2`.

# %%


@register_kinetics("butler-volmer-limited")
def limited_butler_volmer(exchange_current, eta, alpha_anodic, alpha_cathodic, temperature, limiting_current_A_m2):
    """Butler-Volmer in series with a mass-transport limit (Koutecky-Levich form), A/m2, anodic positive."""
    j_bv = butler_volmer(exchange_current, eta, alpha_anodic, alpha_cathodic, temperature)
    return j_bv / (1.0 + abs(j_bv) / limiting_current_A_m2)


LIMITING_CURRENT_A_M2 = 100.0  # 10 mA/cm2

# %% [markdown]
# The law is now a valid value of `cell.negative.kinetics` and `cell.positive.kinetics`. In the
# symmetric Li | electrolyte | Li cell of verification case F (a 500 um electrolyte of
# 0.5 mS/cm, i0 = 1 mA/cm2 on both sides, alpha = 0.5) each interface's charge-transfer loss (in
# the voltage breakdown) must be the law's inverse at the applied current, which has a closed
# form: for `|j| < i_lim`, `j_BV = j/(1 - |j|/i_lim)` and `eta = (2/f) asinh(j_BV/(2 i0))`.


# %%
def symmetric_cell(current_mA_cm2: float, kinetics: str) -> dict:
    parameters = {"limiting_current_A_m2": LIMITING_CURRENT_A_M2} if kinetics == "butler-volmer-limited" else {}
    raw = {
        "cell": {
            "area_cm2": 1.0,
            "negative": {
                "material": "Li",
                "exchange_current_A_m2": 10.0,
                "kinetics": kinetics,
                "kinetics_parameters": parameters,
            },
            "electrolyte": {"material": "LiPON", "thickness_um": 500.0, "conductivity_S_m": 0.05},
            "positive": {
                "material": "LiCoO2",
                "thickness_um": 10.0,
                "ocp": "Li",
                "exchange_current_law": "constant",
                "exchange_current_A_m2": 10.0,
                "kinetics": kinetics,
                "kinetics_parameters": parameters,
                "max_concentration_mol_m3": 7.64e4,
                "initial_stoichiometry": 0.5,
                "diffusivity_m2_s": 1e-9,
            },
        },
        "mesh": {"positive_elements": 4},
        "experiment": {"steps": [f"Discharge at {current_mA_cm2} mA/cm2 for 1 s"]},
        "output": {"fields": False, "plot": False},
    }
    return resolve(raw)


def overpotential(current_A_m2: float, i0: float = 10.0, temperature: float = 298.15) -> float:
    """The closed-form inverse of the limited law (alpha_a = alpha_c = 1/2), V."""
    f = FARADAY / (GAS_CONSTANT * temperature)
    j_bv = current_A_m2 / (1.0 - abs(current_A_m2) / LIMITING_CURRENT_A_M2)
    return 2.0 / f * math.asinh(j_bv / (2.0 * i0))


currents = [0.1, 2.0, 8.0] if QUICK else [0.1, 0.5, 1.0, 2.0, 5.0, 8.0, 9.5]
print(" I (mA/cm2)  cell voltage BV (mV)  limited (mV)  its eta (mV)  closed form (mV)")
for current in currents:
    last = {
        law: run(symmetric_cell(current, law), None).series.rows[-1]
        for law in ("butler-volmer", "butler-volmer-limited")
    }
    limited = last["butler-volmer-limited"]
    eta = overpotential(current * 10.0)
    print(
        f"{current:10.1f} {-last['butler-volmer']['voltage_V'] * 1e3:20.3f} {-limited['voltage_V'] * 1e3:13.3f} "
        f"{-limited['loss_charge_transfer_positive_V'] * 1e3:13.5f} {eta * 1e3:17.5f}"
    )
    # both losses are negative on discharge: the positive interface is cathodic, the negative anodic
    assert abs(-limited["loss_charge_transfer_positive_V"] - eta) < 1e-9
    assert abs(-limited["loss_charge_transfer_negative_V"] - eta) < 1e-9

# %% [markdown]
# At low current the two laws agree; as the current approaches `i_lim` = 10 mA/cm2 the limited
# law needs a rapidly growing overpotential (it diverges at `i_lim`), while Butler-Volmer's grows
# only logarithmically.

# %% [markdown]
# ## 3. A source term in the lithium balance
#
# A first-order self-discharge of the positive electrode: lithium enters the LiCoO2 lattice
# from a side reaction at the rate `k (1 - x)` (1/s) everywhere in the electrode, so that
#
# `dx/dt = div(D grad x) + k (1 - x)`.
#
# The package's lithium balance (`ssbfem.physics.diffusion.fickian_diffusion`) is the residual
# `int F c_max (L0 dx/dt w + D/L0 grad x . grad w) dx` over the micrometre mesh; the source adds
# `-int F c_max L0 k (1 - x) w dx` to the row of the field `theta`. A block says so in its
# `residual` pass (`ssbfem.blocks.base`), and the run takes it beside the cell's own blocks.
#
# At rest the stoichiometry stays uniform and `1 - x(t) = (1 - x0) exp(-k t)`: the closed form
# the run is checked against. The cell voltage is then the OCP at `x(t)`: it falls.


# %%
class SelfDischarge(Block):
    """Lithium enters the positive at the rate k (1 - x), 1/s: dx/dt = div(D grad x) + k (1 - x)."""

    def __init__(self, rate_1_s: float):
        self.rate_1_s = rate_1_s

    def residual(self, model):
        x, w = model.fields["theta"].u, model.fields["theta"].v
        c_max = model.cell.positive.max_concentration_mol_m3
        source = FARADAY * c_max * MESH_UNIT_M * self.rate_1_s * (1.0 - x) * w * model.measures.dx("positive")
        model.residual.add("theta", "self_discharge", -source)


rate_constant = 1.0 / 3600.0  # 1/s
cfg = load_config(CONFIG, [*MESH, "experiment.steps=['Rest for 2 hours']", "solver.stoichiometry_tolerance=1e-7"])
series = run(cfg, None, extra_blocks=[SelfDischarge(rate_constant)]).series

x0 = cfg["cell"]["positive"]["initial_stoichiometry"]
t = series["time_s"]
expected = 1.0 - (1.0 - x0) * np.exp(-rate_constant * t)
error = np.abs(series["mean_stoichiometry"] - expected).max()
print(f"{len(t)} steps; largest deviation of x from 1 - (1 - x0) exp(-k t): {error:.2e}")
assert error < 1e-5
plot_voltage(series, OUTPUT / "self_discharge.png", title="Rest with a self-discharge source")
display(Image(OUTPUT / "self_discharge.png"))
print(f"open-circuit voltage {series['voltage_V'][0]:.4f} V -> {series['voltage_V'][-1]:.4f} V after 2 hours")
print(f"x: {x0} -> {series['mean_stoichiometry'][-1]:.4f} (closed form {expected[-1]:.4f})")
# no current flows: the voltage is the OCP of the uniform electrode
assert abs(series["voltage_V"][-1] - series["ocp_positive_V"][-1]) < 1e-6

# %% [markdown]
# ## 4. An output column
#
# A column of the time series is an `Observable`: an integral of the model's fields and of the
# quantities its blocks publish (`model.q`, here the overpotential `eta:positive`) over a measure,
# reduced to a mean and passed through a function. The root-mean-square overpotential of the
# positive interface: in 1D the interface is a single point, so it must equal the magnitude of
# the charge-transfer loss of the voltage breakdown.

# %%
eta_rms = Observable(
    "eta_positive_rms_V",
    integrand=lambda m: m.q["eta:positive"] ** 2,
    where=lambda m: interface(m, "positive").measure,
    then=math.sqrt,
)
cfg = load_config(CONFIG, [*MESH, "experiment.steps=['Discharge at 1C for 10 minutes']", "output.fields=false"])
series = run(cfg, None, observables=[eta_rms]).series
deviation = np.abs(series["eta_positive_rms_V"] - np.abs(series["loss_charge_transfer_positive_V"])).max()
print(f"rms overpotential after 10 minutes at 1C: {series['eta_positive_rms_V'][-1] * 1e3:.3f} mV")
print(f"largest deviation from |loss_charge_transfer_positive_V|: {deviation:.1e} V")
assert deviation < 1e-12
