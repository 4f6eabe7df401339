"""Every demo config runs (shortened) and conserves charge (and energy, when thermal)."""

from __future__ import annotations

import pytest
from conftest import REPO

from ssbfem.config import load_config
from ssbfem.runner import run
from ssbfem.simulation import lithium_charge_balance

CONFIGS = sorted((REPO / "demos" / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_demo_config_runs(path):
    cfg = load_config(path, ["experiment.steps=['Discharge at 2C for 30 s']", "output.fields=false"])
    result = run(cfg, None, base_dir=path.parent)
    assert result.status == "complete"
    charge, inserted = lithium_charge_balance(result.series.rows)
    assert abs(charge - inserted) <= 1e-8 * abs(charge)
    if "heat_generated_J" in result.series.names:
        last = result.series.rows[-1]
        assert (
            abs(last["heat_generated_J"] - last["heat_stored_J"] - last["heat_removed_J"])
            <= 1e-6 * last["heat_generated_J"]
        )
