"""The quick version of demos/interdigitated_aef.py: every case conserves charge, and the plate
cell of AEF 4 keeps more of the common capacity than the planar cell at 1C and 10C."""

from __future__ import annotations

import importlib.util

from conftest import REPO


def load_demo():
    spec = importlib.util.spec_from_file_location("interdigitated_aef", REPO / "demos" / "interdigitated_aef.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_demo(tmp_path):
    rows = load_demo().main(["--quick", "--output", str(tmp_path)])
    assert (tmp_path / "interdigitated_aef.csv").is_file()
    assert (tmp_path / "interdigitated_aef.png").is_file()
    for row in rows:
        assert row["charge_balance_error"] <= 1e-8
        assert 0.0 < row["utilisation"] < 1.0
    capacity = {(r["aef"], r["rate_C"]): r["capacity_mAh_cm2"] for r in rows}
    for rate in (1.0, 10.0):
        assert capacity[4.0, rate] > capacity[1.0, rate]
