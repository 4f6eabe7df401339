"""Material library: every value has a source; OCP laws match their published check values."""

from __future__ import annotations

import numpy as np
import pytest

from ssbfem.config import resolve
from ssbfem.materials import MATERIALS, OCP_FUNCTIONS
from ssbfem.materials.ocp import RAIJMAKERS2020_EMF


def test_every_value_names_its_source():
    for material in MATERIALS.values():
        for key, prop in material.properties.items():
            assert prop.source.strip(), f"{material.name}.{key}"


def test_required_materials_present():
    for name in ("LiPON", "LLZO", "Li2S-P2S5", "Li6PS5Cl", "LGPS", "LiCoO2", "NMC811", "Li", "Cu", "Al"):
        assert name in MATERIALS


@pytest.mark.parametrize("x,u", [(0.51, 4.1772), (0.70, 3.9391), (0.90, 3.9062)])
def test_dualfoil_check_values(x, u):
    assert OCP_FUNCTIONS["Dualfoil1998"](x, np) == pytest.approx(u, abs=5e-5)


def test_raijmakers_table_is_interpolated_through_its_points():
    for x, u in RAIJMAKERS2020_EMF:
        assert OCP_FUNCTIONS["Raijmakers2020"](x, np) == pytest.approx(u, abs=1e-12)
    assert OCP_FUNCTIONS["Raijmakers2020"](0.555, np) == pytest.approx(0.5 * (4.19 + 4.058), abs=1e-12)


def test_config_overrides_library_and_records_sources():
    raw = {
        "cell": {
            "electrolyte": {"material": "LLZO", "thickness_um": 10.0},
            "positive": {"material": "NMC811", "thickness_um": 50.0, "diffusivity_m2_s": 1e-14},
        },
        "experiment": {"steps": ["Discharge at 1C until 3.0 V"]},
    }
    cfg = resolve(raw)
    pos, ely = cfg["cell"]["positive"], cfg["cell"]["electrolyte"]
    assert pos["diffusivity_m2_s"] == 1e-14 and pos["sources"]["diffusivity_m2_s"] == "config"
    assert pos["max_concentration_mol_m3"] == 50060.0 and "Ren2023" in pos["sources"]["max_concentration_mol_m3"]
    assert ely["conductivity_S_m"] == pytest.approx(1e-2)  # 1e-4 S/cm
    assert cfg["cell"]["negative"]["material"] == "Li"


def test_config_reference_is_current():
    """docs/config-reference.md is generated from the settings; regenerate with
    python -m ssbfem.settings.reference > docs/config-reference.md."""
    from conftest import REPO

    from ssbfem.settings.reference import reference_markdown

    assert (REPO / "docs" / "config-reference.md").read_text() == reference_markdown()
