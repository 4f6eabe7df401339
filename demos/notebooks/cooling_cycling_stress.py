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
# # Stresses from cooling and cycling
#
# A LiCoO2 film on an LLZO electrolyte, sintered together at 750 C, cooled to 25 C and then
# cycled. The mechanics (`[mechanics] enabled = true`) solves linear elasticity with the
# eigenstrain `alpha (T - T_sf)` in every layer plus `Omega (c - c_0)/3` in the positive
# electrode at every field snapshot. In 1D the stack is laterally confined, as on a rigid
# substrate, so each layer carries the biaxial stress `-E eps*/(1 - nu)` (verification case D).
#
# Run from `demos/notebooks/`. `SSBFEM_QUICK=1` (set by the test suite) runs one cycle instead
# of three; `SSBFEM_OUTPUT` sets where results go (default `results/`).

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import ssbfem
from ssbfem.config import load_config
from ssbfem.runner import run

QUICK = os.environ.get("SSBFEM_QUICK") == "1"
CONFIG = Path("../configs/thin_film.toml")
OUTPUT = Path(os.environ.get("SSBFEM_OUTPUT", "results")) / "cooling_cycling_stress"
CYCLES = 1 if QUICK else 3

# %% [markdown]
# The thin-film cell with LLZO (library values: E = 150 GPa, nu = 0.26, alpha = 15.5e-6 1/K)
# in place of LiPON. Stresses are written at the start and end of every step and at
# `output.field_times_s`.

# %%
overrides = [
    "cell.electrolyte.material='LLZO'",
    "cell.electrolyte.thickness_um=5.0",
    "cell.electrolyte.conductivity_S_m=1e-2",
    "mechanics.enabled=true",
    "mechanics.stress_free_temperature_K=1023.15",
    "experiment.steps=['Cool from 750 degC to 25 degC over 1 hour', "
    f"{{cycle = ['Discharge at 1C until 3.6 V', 'Charge at 1C until 4.2 V'], repeat = {CYCLES}}}]",
    f"output.field_times_s={[3600.0 + 300.0 * k for k in range(1, 12 * CYCLES)]}",
    "output.fields=false",
]
cfg = load_config(CONFIG, overrides)
result = run(cfg, OUTPUT)
print(result.status, f"{len(result.steps)} steps")
display(Image(OUTPUT / "voltage.png"))

# %% [markdown]
# ## Residual stress of cooling
#
# After cooling, both layers are in tension: they would shrink by `alpha dT` but the substrate
# holds their in-plane size. The package's numbers against the biaxial formula with the
# resolved config's data:

# %%
stresses = ssbfem.load(OUTPUT).mechanics  # mechanics.csv as a DataFrame, units in .attrs["units"]
rows = stresses.to_dict("records")
cooled = next(r for r in rows if abs(r["time_s"] - 3600.0) < 1e-6)
dT = 298.15 - 1023.15
for layer, section in (("electrolyte", "electrolyte"), ("positive", "positive")):
    p = cfg["cell"][section]
    expected = -p["youngs_modulus_Pa"] * p["thermal_expansion_1_K"] * dT / (1 - p["poissons_ratio"])
    computed = 1.5 * cooled[f"hydrostatic_mean_Pa[{layer}]"]  # biaxial: tr(sigma)/3 = 2 sigma/3
    print(f"{layer}: {computed / 1e6:9.1f} MPa (formula {expected / 1e6:9.1f} MPa)")
    assert abs(computed - expected) <= 1e-6 * abs(expected)

# %% [markdown]
# ## Cycling
#
# Lithiation (discharge) shrinks LiCoO2 (Omega < 0): its in-plane stress swings with the state
# of charge on top of the cooling stress, while the electrolyte's stays where cooling left it.

# %%
t = np.array([r["time_s"] for r in rows])
fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
for layer in ("electrolyte", "positive"):
    ax.plot(t / 3600, [1.5 * r[f"hydrostatic_mean_Pa[{layer}]"] / 1e6 for r in rows], "o-", ms=3, label=layer)
ax.axvline(1.0, color="k", lw=0.8, ls=":")
ax.set_xlabel("Time (h)")
ax.set_ylabel("Mean in-plane stress (MPa)")
ax.legend()
ax.grid(alpha=0.3)
fig.savefig(OUTPUT / "stress_swing.png", dpi=110)  # a PNG shows whichever backend the runs left matplotlib in
plt.close(fig)
display(Image(OUTPUT / "stress_swing.png"))
swing = [1.5 * r["hydrostatic_mean_Pa[positive]"] for r in rows if r["time_s"] > 3600.0]
print(f"LiCoO2 in-plane stress during cycling: {min(swing) / 1e6:.1f} to {max(swing) / 1e6:.1f} MPa")

# %% [markdown]
# ## Failure indicators
#
# Where the library has a fracture strength and toughness (LLZO), `mechanics.csv` holds the
# tensile margin and the flaw-based indicator `sigma Y sqrt(pi a_c)/K_Ic` (>= 1: a flaw of
# `mechanics.flaw_size_um` grows). The 2.3 GPa left in LLZO by cooling on a rigid substrate
# would crack it: the margin is negative and the indicator above 1.

# %%
for name in ("principal_max_Pa[electrolyte]", "tensile_margin_Pa[electrolyte]", "fracture_indicator[electrolyte]"):
    print(f"{name}: {cooled[name]:.4g}")
