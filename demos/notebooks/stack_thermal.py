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
# # Heat in a stack of thin-film cells
#
# `demos/configs/stack_thermal.toml`: ten Li | LiPON | LiCoO2 cells, mirrored so that neighbours
# share their Cu and Pt collectors, joined in parallel through tabs, convection on the top face
# and the bottom insulated. The temperature is one field over the whole stack, coupled two-way
# to the electrochemistry (Arrhenius laws). Compared: 0.5C and 5C, and the library's LiPON
# thermal conductivity with a lower one.
#
# Run from `demos/notebooks/`. `SSBFEM_QUICK=1` (set by the test suite) simulates 4 cells
# instead of 10; `SSBFEM_OUTPUT` sets where results go (default `results/`).

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

from ssbfem.config import load_config
from ssbfem.geometry.tags import LAYER_ORDER, SECTION_OF_LAYER
from ssbfem.physics.heat import effective_conductivities
from ssbfem.runner import run

QUICK = os.environ.get("SSBFEM_QUICK") == "1"
CONFIG = Path("../configs/stack_thermal.toml")
OUTPUT = Path(os.environ.get("SSBFEM_OUTPUT", "results")) / "stack_thermal"
UNITS = 4 if QUICK else 10
SOURCES = ("joule", "reaction", "reversible")

# %% [markdown]
# ## A 5C discharge and 30 minutes of rest
#
# The package's heat plot: the sources stacked, the heat leaving through the top face, and the
# temperature range over the stack.

# %%
cfg = load_config(CONFIG, [f"cell.units={UNITS}", "output.fields=false"])
result = run(cfg, OUTPUT / "5C")
s = result.series
print(
    f"{UNITS} cells: {s['capacity_mAh_cm2'][-1]:.4f} mAh/cm2, "
    f"hottest {s['temperature_max_K'].max() - 298.15:.3f} K above ambient"
)
display(Image(OUTPUT / "5C" / "heat.png"))

# %% [markdown]
# Energy conservation: the heat generated equals the heat stored plus the heat removed (the
# integrals use the time integrator's own weights).

# %%
last = s.rows[-1]
imbalance = last["heat_generated_J"] - last["heat_stored_J"] - last["heat_removed_J"]
print(f"generated {last['heat_generated_J']:.4e} J, imbalance {imbalance:.2e} J")
assert abs(imbalance) <= 1e-6 * last["heat_generated_J"]

# %% [markdown]
# ## Rate and electrolyte conductivity
#
# Heat shares over the discharge (the sources integrated in time), the temperature rise, and
# its spread across the stack. The stack is tens of micrometres thick and cooled weakly
# (h = 1 W/(m2 K)): its Biot number is tiny, so the electrolyte's conductivity changes the
# spread (millikelvin) but hardly the rise.


# %%
def discharge(rate: float, conductivity: float) -> dict:
    overrides = [
        f"cell.units={UNITS}",
        f"experiment.steps=['Discharge at {rate}C until 3.0 V']",
        f"cell.electrolyte.thermal_conductivity_W_m_K={conductivity}",
        "output.fields=false",
    ]
    series = run(load_config(CONFIG, overrides), None).series
    heat = {name: np.trapezoid(series[f"heat_{name}_W"], series["time_s"]) for name in SOURCES}
    return {
        "series": series,
        "rise_K": series["temperature_max_K"].max() - 298.15,
        "spread_mK": 1e3 * (series["temperature_max_K"] - series["temperature_min_K"]).max(),
        **{name: heat[name] / sum(heat.values()) for name in SOURCES},
    }


cases = {(rate, k): discharge(rate, k) for rate in (0.5, 5.0) for k in (1.4, 0.47)}
for (rate, k), c in cases.items():
    shares = ", ".join(f"{name} {100 * c[name]:.1f} %" for name in SOURCES)
    print(f"{rate:>4}C, k_SE = {k}: rise {c['rise_K']:.4f} K, spread {c['spread_mK']:.3f} mK; {shares}")
assert cases[(5.0, 1.4)]["rise_K"] > cases[(0.5, 1.4)]["rise_K"]
assert cases[(5.0, 0.47)]["spread_mK"] > cases[(5.0, 1.4)]["spread_mK"]

fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
for (rate, k), c in cases.items():
    ax.plot(c["series"]["time_s"] / 60, c["series"]["temperature_max_K"] - 298.15, label=f"{rate}C, k = {k}")
ax.set_xlabel("Time (min)")
ax.set_ylabel("Temperature rise (K)")
ax.set_yscale("log")
ax.legend()
ax.grid(alpha=0.3)
fig.savefig(OUTPUT / "stack_conductivity.png", dpi=110)  # a PNG shows whichever backend the runs left matplotlib in
plt.close(fig)
display(Image(OUTPUT / "stack_conductivity.png"))

# %% [markdown]
# ## A reduced model
#
# Across the layers the conductivities add in series, along them in parallel (Pang et al. 2021,
# Table A.1). With the stack's layers (library values; LiCoO2's from the config):

# %%
cell = cfg["cell"]
sections = [SECTION_OF_LAYER[layer] for layer in LAYER_ORDER]
thickness = [cell[x]["thickness_um"] for x in sections]
k_layers = [cell[x]["thermal_conductivity_W_m_K"] for x in sections]
across, along = effective_conductivities(thickness, k_layers, k_layers)
print(f"unit cell: k across {across:.3f} W/(m K), along {along:.1f} W/(m K)")
assert min(k_layers) <= across <= along <= max(k_layers)
