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
# # Interdigitated 3D cells: the area enhancement factor
#
# Pillars of LiCoO2 on a base film, coated conformally by LiPON and buried in Li
# (`demos/configs/interdigitated.toml`). The area enhancement factor AEF = A(interface)/A(footprint)
# (Pang et al. 2021, eq. 17) is the design input; every cell here holds the same positive volume
# per footprint (8.08 um: base film plus pillars), hence the same capacity and the same 1C, so
# cells differ by geometry alone. Pearse et al. (ACS Nano 12 (2018) 4286) found that 3D cells keep
# their capacity to higher currents than planar ones; the reason is visible in two numbers: the
# mean interface current density is the footprint's divided by the AEF, and the pillars shorten
# the diffusion paths in LiCoO2.
#
# The discharges come from `demos/interdigitated_aef.py`. `SSBFEM_QUICK=1` (set by the test
# suite) runs 2D plates of AEF 1 and 4 at 1C and 10C on a coarse mesh in well under a minute; the
# full study (3D square pillars, AEF 1, 4 and 10 at 1C, 3C and 10C) takes about 20 minutes.

# %%
import itertools
import os
import sys
from pathlib import Path

from IPython.display import Image, display

sys.path.insert(0, str(Path("..").resolve()))
import interdigitated_aef as study

QUICK = os.environ.get("SSBFEM_QUICK") == "1"
OUTPUT = Path(os.environ.get("SSBFEM_OUTPUT", "results")) / "interdigitated_aef"

# %% [markdown]
# ## The geometry from the AEF
#
# For square pillars of width w at pitch p the AEF is 1 + 4 w h/p^2, so a target AEF sets the
# height h; the base film is then thinned so that the positive volume stays 8.08 um per footprint.

# %%
from ssbfem.geometry.interdigitated import design_from_config  # noqa: E402

for aef in (1.0, 4.0, 10.0):
    cell = study.cell_config(aef, 1.0, "square", 3, 1).cell
    design = design_from_config(cell)
    print(
        f"AEF {aef:4g}: base film {cell.positive.thickness_um:.3f} um, "
        f"positive volume per footprint {design.positive_thickness_um():.3f} um"
    )
    assert abs(design.positive_thickness_um() - study.POSITIVE_UM) < 1e-9

# %% [markdown]
# ## Capacity against current

# %%
args = ["--output", str(OUTPUT)] + (["--quick"] if QUICK else [])
rows = study.main(args)
display(Image(str(OUTPUT / "interdigitated_aef.png")))

# %% [markdown]
# Every discharge conserves charge (the charge passed equals F times the lithium inserted), and at
# every current the cell of the larger AEF delivers more of the common capacity:

# %%
capacity = {(r["aef"], r["rate_C"]): r["capacity_mAh_cm2"] for r in rows}
aefs = sorted({r["aef"] for r in rows})
rates = sorted({r["rate_C"] for r in rows})
for r in rows:
    assert r["charge_balance_error"] <= 1e-8
    assert 0.0 < r["utilisation"] < 1.0
for rate in rates:
    for low, high in itertools.pairwise(aefs):
        assert capacity[high, rate] > capacity[low, rate], (rate, low, high)
print("higher AEF keeps more capacity at every current")
