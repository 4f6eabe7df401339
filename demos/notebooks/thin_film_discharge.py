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
# # Thin-film discharge and rate capability
#
# The Li | LiPON | LiCoO2 thin film of Raijmakers et al. (Electrochim. Acta 330 (2020) 135147),
# `demos/configs/thin_film.toml`: a 1C discharge to 3.0 V with the package's plots (voltage,
# voltage breakdown, stoichiometry across the electrode), the run read back with `ssbfem.load`,
# then the capacity delivered at rates from C/2 to 8C.
#
# Run from `demos/notebooks/`. `SSBFEM_QUICK=1` (set by the test suite) uses a coarser mesh and
# fewer rates; `SSBFEM_OUTPUT` sets where results go (default `results/`).

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import ssbfem
from ssbfem.config import load_config
from ssbfem.runner import run
from ssbfem.simulation import lithium_charge_balance

QUICK = os.environ.get("SSBFEM_QUICK") == "1"
CONFIG = Path("../configs/thin_film.toml")
OUTPUT = Path(os.environ.get("SSBFEM_OUTPUT", "results")) / "thin_film_discharge"
MESH = ["mesh.positive_elements=12"] if QUICK else []

# %% [markdown]
# ## A 1C discharge
#
# `run` writes the run directory (time series, step summary, plots, field snapshots) and returns
# the series in memory.

# %%
cfg = load_config(CONFIG, [*MESH, "output.field_times_s=[600, 1200, 1800, 2400]"])
result = run(cfg, OUTPUT / "1C")
series = result.series
print(result.status, f"{series['capacity_mAh_cm2'][-1]:.4f} mAh/cm2 at {series['voltage_V'][-1]:.4f} V")
display(Image(OUTPUT / "1C" / "voltage.png"))

# %% [markdown]
# ## Reading a run back
#
# `ssbfem.load` reads a run directory (this one, or one written by `ssbfem run` on the command
# line): the tables as pandas DataFrames, each column's unit in `df.attrs["units"]`, the
# resolved settings, the status from `run.json` and the field snapshots.

# %%
finished = ssbfem.load(OUTPUT / "1C")
print(finished)
print(finished.settings.cell.positive.thickness_um, "um of", finished.settings.cell.positive.material)
display(finished.steps)
print({name: finished.timeseries.attrs["units"][name] for name in ["time_s", "voltage_V", "capacity_mAh_cm2"]})
assert finished.status == "complete"
assert np.array_equal(finished.timeseries["voltage_V"].to_numpy(), series["voltage_V"])

# %% [markdown]
# A field snapshot comes back as numpy arrays: the node coordinates (um) and the values (c in
# mol/m3). The lithium concentration across the electrode at each snapshot; its integral over
# the thickness (Simpson's rule on each quadratic element) is the lithium inventory of the time
# series at that time.

# %%
fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
for t in finished.field_times("c"):
    points, values = finished.field("c", t)
    x_um, c = points[:, 0], values["c"]
    ax.plot(x_um - x_um.min(), c, label=f"{t / 60:.0f} min")
ax.set_xlabel("Distance from the electrolyte interface (um)")
ax.set_ylabel("c (mol/m$^3$)")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.savefig(OUTPUT / "concentration_profiles.png", dpi=110)  # a PNG shows whichever backend the runs left matplotlib in
plt.close(fig)
display(Image(OUTPUT / "concentration_profiles.png"))
x_m = x_um * 1e-6
inventory = np.sum((x_m[2::2] - x_m[0:-1:2]) / 6 * (c[0:-1:2] + 4 * c[1::2] + c[2::2]))
expected = finished.timeseries["lithium_mol_m2"].iloc[-1]
print(f"lithium in the last snapshot {inventory:.8f} mol/m2, time series {expected:.8f} mol/m2")
assert abs(inventory - expected) <= 1e-9 * expected

# %% [markdown]
# The voltage breakdown (Pang et al. 2021, eq. 16): the OCP at the mean stoichiometry and each
# loss, stacked; they sum to the cell voltage in every row.

# %%
display(Image(OUTPUT / "1C" / "losses.png"))
losses = sum(series[name] for name in series.names if name.startswith("loss_"))
closure = np.abs(series["ocp_positive_V"] - series["ocp_negative_V"] + losses - series["voltage_V"]).max()
print(f"largest breakdown residual: {closure:.2e} V")
assert closure < 1e-9

# %% [markdown]
# Solid diffusion limits this film: the stoichiometry piles up at the electrolyte interface.

# %%
display(Image(OUTPUT / "1C" / "concentration.png"))
charge, inserted = lithium_charge_balance(series.rows)
print(f"charge passed {charge:.6f} C/m2, F x lithium inserted {inserted:.6f} C/m2")
assert abs(charge - inserted) <= 1e-8 * abs(charge)

# %% [markdown]
# ## Rate capability
#
# The same cell discharged to 3.0 V at each rate, in memory (`output=None`).

# %%
rates = [1.0, 4.0] if QUICK else [0.5, 1.0, 2.0, 4.0, 8.0]
curves = {}
for rate in rates:
    cfg = load_config(CONFIG, [*MESH, f"experiment.steps=['Discharge at {rate}C until 3.0 V']", "output.fields=false"])
    curves[rate] = run(cfg, None).series
capacity = [curves[r]["capacity_mAh_cm2"][-1] for r in rates]
for rate, q in zip(rates, capacity, strict=True):
    print(f"{rate:>4}C: {q:.4f} mAh/cm2 ({100 * q / 0.208333:.1f} % of nominal)")
assert all(np.diff(capacity) < 0), "capacity must fall with rate"

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
for rate in rates:
    s = curves[rate]
    ax0.plot(s["capacity_mAh_cm2"], s["voltage_V"], label=f"{rate}C")
ax0.set_xlabel("Capacity (mAh/cm$^2$)")
ax0.set_ylabel("Cell voltage (V)")
ax0.legend()
ax1.semilogx(rates, capacity, "o-")
ax1.set_xlabel("C-rate")
ax1.set_ylabel("Capacity to 3.0 V (mAh/cm$^2$)")
for ax in (ax0, ax1):
    ax.grid(alpha=0.3)
fig.savefig(OUTPUT / "rate_capability.png", dpi=110)  # a PNG shows whichever backend the runs left matplotlib in
plt.close(fig)
display(Image(OUTPUT / "rate_capability.png"))
