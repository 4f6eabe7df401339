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
# # A composite cathode: microstructure, sintering stress, discharge
#
# LiCoO2 particles (60 vol%) sintered into LLZO on an Al collector, under an LLZO separator and Li
# (`demos/configs/composite_cathode.toml`). Three questions:
#
# 1. Does the microstructure conduct? Percolation of each phase, and effective conductivities
#    from steady conduction on the mesh, beside Bruggeman's eps^1.5.
# 2. What stress does co-sintering leave? The composite is stress free at the sintering
#    temperature and cooled from 750 C to 25 C (as the NMC | LLZO composite of Pang et al. 2021,
#    Fig. 5b). LiCoO2 (alpha 1.25e-5 1/K) shrinks less than LLZO (1.55e-5 1/K, both Ren et al.
#    2023), so the particles should end in compression and the matrix in tension, highest where
#    they meet; LLZO breaks at 100-150 MPa (Ren et al. 2023).
# 3. What does one discharge add? Lithiation contracts LiCoO2 (partial molar volume
#    -7.28e-7 m3/mol, Ai et al. 2020): the chemical strain adds to the cooling stress (linear
#    elasticity: the two superpose).
#
# `SSBFEM_QUICK=1` (set by the test suite) keeps the config's small sample (8 x 8 x 8 um, 4 um
# particles) and cuts the discharge to 2 minutes; otherwise a 20 um cube of 5 um particles (over
# 100 particles) discharges to 3.5 V (tens of minutes on a laptop).

# %%
import os
from pathlib import Path

import numpy as np
from IPython.display import Image, display

import ssbfem
from ssbfem.config import load_config
from ssbfem.geometry import tags
from ssbfem.mechanics import CellMechanics
from ssbfem.microstructure import effective_conductivity, utilisations
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh, run

QUICK = os.environ.get("SSBFEM_QUICK") == "1"
CONFIG = Path("../configs/composite_cathode.toml")
OUTPUT = Path(os.environ.get("SSBFEM_OUTPUT", "results")) / "composite_cathode"
BIG = ("positive.thickness_um", "composite.length_um", "composite.width_um")
SIZE = [] if QUICK else [*(f"cell.{k}=20.0" for k in BIG), "cell.composite.particle_diameter_um=5.0"]
MECHANICS = ["mechanics.enabled=true", "mechanics.stress_free_temperature_K=1023.15"]
cfg = load_config(CONFIG, SIZE + MECHANICS)

# %% [markdown]
# ## 1. Microstructure

# %%
cellmesh = build_mesh(cfg)
separator = cfg["cell"]["electrolyte"]["thickness_um"]
slab = (separator, separator + cfg["cell"]["positive"]["thickness_um"])
use = utilisations(cellmesh)
ionic = effective_conductivity(cellmesh, (tags.ELECTROLYTE,), bounds=slab)
electronic = effective_conductivity(cellmesh, (tags.POSITIVE,), bounds=slab)
print(f"tetrahedra: {cellmesh.mesh.topology.index_map(3).size_global}")
print(f"utilisation: electronic {use['utilisation_electronic']:.3f}, ionic {use['utilisation_ionic']:.3f}")
for name, eff in (("LLZO (ions)", ionic), ("LiCoO2 (electrons)", electronic)):
    print(
        f"{name}: eps = {eff['volume_fraction']:.3f}, sigma_eff/sigma0 = {eff['relative_conductivity']:.3f} "
        f"(Bruggeman {eff['bruggeman']:.3f}), tortuosity {eff['tortuosity']:.2f}"
    )
assert use["utilisation_electronic"] > 0.9 and use["utilisation_ionic"] > 0.9
assert 0 < electronic["relative_conductivity"] < electronic["volume_fraction"]

# %% [markdown]
# Both phases percolate. The particles conduct less than Bruggeman's estimate: their sintered
# necks (contacts overlapping by up to 10 % of a radius) constrict the electronic path.
#
# ## 2. Cooling from 750 C: where the stress sits
#
# One elastic solve of the cooled composite (every phase's thermal strain alpha (T - T_sf)), with
# the von Mises stress per cell:

# %%
model = CellModel(cellmesh, cfg["cell"], degree=cfg["mesh"]["degree"], thermal=cfg["thermal"])
model.set_initial_state()
model.temperature.value = 298.15
mechanics = CellMechanics(model, cfg["mechanics"])
cooled = mechanics.solve()
for phase in (tags.POSITIVE, tags.ELECTROLYTE):
    print(
        f"{phase:>12}: mean hydrostatic {cooled[f'hydrostatic_mean_Pa[{phase}]'] / 1e6:8.1f} MPa, "
        f"max principal {cooled[f'principal_max_Pa[{phase}]'] / 1e6:8.1f} MPa, "
        f"max von Mises {cooled[f'von_mises_max_Pa[{phase}]'] / 1e6:8.1f} MPa"
    )
print(f"LLZO tensile margin to its strength: {cooled['tensile_margin_Pa[electrolyte]'] / 1e6:.0f} MPa")
assert cooled["hydrostatic_mean_Pa[positive]"] < 0 < cooled["hydrostatic_mean_Pa[electrolyte]"]

# %% [markdown]
# The same microstructure with NMC811 particles (alpha 1.3e-5 1/K, E 199 GPa, Ren et al. 2023), the
# material of Pang et al.'s composite. Its partial molar volume is not in the library, so it is
# set to zero here: cooling needs only the thermal strain.

# %%
nmc = load_config(
    CONFIG,
    SIZE + MECHANICS + ["cell.positive.material='NMC811'", "cell.positive.partial_molar_volume_m3_mol=0.0"],
)
nmc_mechanics = CellMechanics(CellModel(cellmesh, nmc["cell"], degree=nmc["mesh"]["degree"]), nmc["mechanics"])
nmc_mechanics.model.temperature.value = 298.15
nmc_cooled = nmc_mechanics.solve()
for phase in (tags.POSITIVE, tags.ELECTROLYTE):
    mean = nmc_cooled[f"hydrostatic_mean_Pa[{phase}]"]
    print(f"NMC811 composite, {phase:>11}: mean hydrostatic {mean / 1e6:7.1f} MPa")
assert nmc_cooled["hydrostatic_mean_Pa[positive]"] < 0 < nmc_cooled["hydrostatic_mean_Pa[electrolyte]"]
nmc_mechanics.close()

# %% [markdown]
# The particles are in compression and the matrix in tension, as in Pang et al.'s composite, and
# the mean tension in LLZO alone exceeds its strength: co-sintered LiCoO2 | LLZO cracks on
# cooling unless the mismatch is relieved. The maxima sit at re-entrant corners (sintering necks,
# the edges where particles meet the Al collector, whose expansion of 2.3e-5 1/K mismatches LLZO
# even more): there linear elasticity's stress is singular, so maxima grow with mesh refinement
# while means and the stress a short distance away converge.
# Is the stress highest at the particle | matrix boundaries? Compare the von Mises stress of the
# LLZO cells that touch a particle with that of the LLZO cells inside the composite that do not:

# %%
msh = cellmesh.mesh
msh.topology.create_connectivity(2, 3)
facet_cells = msh.topology.connectivity(2, 3)
at_boundary = np.unique(np.concatenate([facet_cells.links(f) for f in cellmesh.facets("electrolyte|positive")]))
matrix = cellmesh.cells(tags.ELECTROLYTE)
midpoints = msh.geometry.x[msh.geometry.dofmaps[0][matrix]].mean(axis=1)
inside = matrix[(midpoints[:, 0] > slab[0]) & (midpoints[:, 0] < slab[1])]
touching = np.intersect1d(inside, at_boundary)
away = np.setdiff1d(inside, at_boundary)
mises = mechanics.von_mises.x.array
dofs = mechanics.von_mises.function_space.dofmap.list
near, far = mises[dofs[touching, 0]].mean(), mises[dofs[away, 0]].mean()
print(f"LLZO von Mises, mean: at particle boundaries {near / 1e6:.0f} MPa, away from them {far / 1e6:.0f} MPa")
assert near > far
mechanics.close()

# %% [markdown]
# ## 3. Cooling, then one discharge
#
# The same composite as a run: the cooling step, then a 1C discharge (chemical strain on top of
# the residual stress); `mechanics.csv` holds the stresses at each field snapshot, the fields the
# displacement and the stresses (VTX, for ParaView).

# %%
steps = [
    "Cool from 750 degC to 25 degC over 1 hour",
    "Discharge at 1C " + ("for 2 minutes" if QUICK else "until 3.5 V"),
]
runcfg = load_config(CONFIG, [*SIZE, *MECHANICS, f"experiment.steps={steps!r}"])
result = run(runcfg, OUTPUT)
stress = ssbfem.load(OUTPUT).mechanics.to_dict("records")  # mechanics.csv, one dict per row
after_cooling, end = stress[1], stress[-1]
for phase in (tags.POSITIVE, tags.ELECTROLYTE):
    key = f"hydrostatic_mean_Pa[{phase}]"
    print(
        f"{phase:>12}: mean hydrostatic after cooling {float(after_cooling[key]) / 1e6:8.1f} MPa, "
        f"after the discharge {float(end[key]) / 1e6:8.1f} MPa"
    )
print(f"discharged {result.series.rows[-1]['capacity_mAh_cm2']:.4f} mAh/cm2")
display(Image(str(OUTPUT / "voltage.png")))

# %% [markdown]
# Lithiation contracts the LiCoO2 particles, which relieves part of their compression: their
# mean hydrostatic stress rises towards zero while the discharge goes on.

# %%
assert float(end["hydrostatic_mean_Pa[positive]"]) > float(after_cooling["hydrostatic_mean_Pa[positive]"])
