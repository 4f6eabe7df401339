"""Parameter sweeps: the case directories, the summary and its numbers, failed cases, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ssbfem import sweep
from ssbfem.errors import InputError, SimulationError
from ssbfem.sweep import parse_vary, run_sweep

CONFIG = Path(__file__).resolve().parents[1] / "demos/configs/thin_film.toml"
QUICK = ["output.fields=false", "output.plot=false", "experiment.steps=['Discharge at 4C until 3.7 V']"]


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_parse_vary():
    assert parse_vary("cell.positive.thickness_um=4, 8.5,1e1") == ("cell.positive.thickness_um", [4, 8.5, 10.0])
    assert parse_vary("cell.positive.material=LiCoO2") == ("cell.positive.material", ["LiCoO2"])
    assert parse_vary("experiment.steps=Discharge at 1C until 3.0 V; Rest for 1 hour") == (
        "experiment.steps",
        [["Discharge at 1C until 3.0 V"], ["Rest for 1 hour"]],
    )


def test_two_by_two_sweep(tmp_path):
    out = tmp_path / "sweep"
    # a fixed current (4C of the config's nominal capacity) in every case
    fixed = [*QUICK[:2], "experiment.steps=['Discharge at 0.8333 mA/cm2 until 3.7 V']"]
    rows = run_sweep(CONFIG, ["cell.positive.thickness_um=4,8", "cell.temperature_K=298.15,318.15"], out, fixed)
    assert sorted(p.name for p in out.iterdir()) == ["case_000", "case_001", "case_002", "case_003", "summary.csv"]
    summary = read_csv(out / "summary.csv")
    assert list(summary[0]) == [
        "case",
        "cell.positive.thickness_um",
        "cell.temperature_K",
        "status",
        "end_time_s",
        "end_voltage_V",
        "capacity_mAh_cm2",
        "energy_mWh_cm2",
        "mean_voltage_V",
        "one_c_A_m2",
        "message",
    ]
    expected = [(4, 298.15), (4, 318.15), (8, 298.15), (8, 318.15)]
    assert [(float(r["cell.positive.thickness_um"]), float(r["cell.temperature_K"])) for r in summary] == expected
    for i, (row, returned) in enumerate(zip(summary, rows, strict=True)):
        assert row["case"] == str(i) and row["status"] == "complete" and row["message"] == ""
        series = read_csv(out / f"case_{i:03d}" / "timeseries.csv")
        assert float(row["capacity_mAh_cm2"]) == float(series[-1]["capacity_mAh_cm2"]) > 0
        assert float(row["end_voltage_V"]) == pytest.approx(3.7, abs=1e-3)
        assert float(row["end_time_s"]) == float(series[-1]["time_s"])
        # energy over capacity: a charge-weighted mean voltage, between the cut-off and the start
        mean = float(row["mean_voltage_V"])
        assert mean == pytest.approx(float(row["energy_mWh_cm2"]) / float(row["capacity_mAh_cm2"]), rel=1e-12)
        assert 3.7 < mean < float(series[0]["voltage_V"])
        assert float(row["capacity_mAh_cm2"]) == returned["capacity_mAh_cm2"]
    # warmer is faster (Arrhenius conductivity, diffusivity and exchange currents): more capacity to the cut-off
    q = [float(r["capacity_mAh_cm2"]) for r in summary]
    assert q[1] > q[0] and q[3] > q[2]


def test_sweep_over_c_rate(tmp_path):
    """The film is diffusion-limited: at 4C the 3.7 V cut-off comes with less capacity than at 2C."""
    out = tmp_path / "rates"
    steps = "experiment.steps=Discharge at 2C until 3.7 V;Discharge at 4C until 3.7 V"
    rows = run_sweep(CONFIG, [steps], out, QUICK)
    summary = read_csv(out / "summary.csv")
    assert [r["experiment.steps"] for r in summary] == ["Discharge at 2C until 3.7 V", "Discharge at 4C until 3.7 V"]
    assert [r["status"] for r in rows] == ["complete", "complete"]
    q2, q4 = (float(r["capacity_mAh_cm2"]) for r in summary)
    assert 0 < q4 < q2
    # the current of each case is its C-rate times the nominal 0.208333 mAh/cm2 (1C = 2.08333 A/m2)
    for i, rate in enumerate((2, 4)):
        current = float(read_csv(out / f"case_{i:03d}" / "timeseries.csv")[-1]["current_A_m2"])
        assert current == pytest.approx(rate * 2.08333, rel=1e-6)


def test_failed_case_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    calls = []

    def fake_run(cfg, output, comm, base_dir):
        calls.append(cfg.cell.temperature_K)
        if len(calls) == 2:
            raise SimulationError("Newton did not converge")
        rows = [
            {"time_s": 0.0, "voltage_V": 4.0, "capacity_mAh_cm2": 0.0, "energy_mWh_cm2": 0.0},
            {"time_s": 10.0, "voltage_V": 3.0, "capacity_mAh_cm2": 0.5, "energy_mWh_cm2": 1.75},
        ]
        one_c = {"current_A_m2": 2.08333}
        return SimpleNamespace(status="complete", message="", series=SimpleNamespace(rows=rows), one_c=one_c)

    monkeypatch.setattr(sweep, "run", fake_run)
    out = tmp_path / "sweep"
    rows = run_sweep(CONFIG, ["cell.temperature_K=290,300,310"], out, QUICK)
    assert calls == [290.0, 300.0, 310.0]
    summary = read_csv(out / "summary.csv")
    assert [r["status"] for r in summary] == ["complete", "failed", "complete"]
    assert summary[1]["message"] == "Newton did not converge" and summary[1]["capacity_mAh_cm2"] == ""
    assert float(summary[2]["mean_voltage_V"]) == pytest.approx(3.5, rel=1e-12)
    assert rows[0]["end_voltage_V"] == 3.0 and rows[0]["end_time_s"] == 10.0


@pytest.mark.parametrize(
    "vary,key",
    [
        ("cell.positive.thickness_um=4,-1", "cell.positive.thickness_um"),
        ("cell.positive.thickness_um", "cell.positive.thickness_um"),
        ("experiment.steps=Discharge at 2C until 3.7 V;Discharge at 1 parsec until 3 V", "experiment.steps[0]"),
        ("cell.positive.thickness_um=4,,8", "cell.positive.thickness_um"),
    ],
)
def test_bad_input_raises_and_writes_nothing(tmp_path, vary, key):
    out = tmp_path / "never"
    with pytest.raises(InputError) as info:
        run_sweep(CONFIG, [vary], out, QUICK)
    assert info.value.key == key and "\n" not in str(info.value)
    assert not out.exists()


def test_output_replaces_an_earlier_sweep_and_refuses_other_folders(tmp_path):
    out = tmp_path / "sweep"
    run_sweep(CONFIG, ["cell.temperature_K=298.15,318.15"], out, QUICK)
    run_sweep(CONFIG, ["cell.temperature_K=308.15"], out, QUICK)
    assert sorted(p.name for p in out.iterdir()) == ["case_000", "summary.csv"]
    assert [r["cell.temperature_K"] for r in read_csv(out / "summary.csv")] == ["308.15"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    with pytest.raises(InputError, match="not an ssbfem sweep directory"):
        run_sweep(CONFIG, ["cell.temperature_K=298.15"], other, QUICK)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_command_line_keeps_an_earlier_sweep_unless_overwrite(tmp_path, capsys):
    """`ssbfem sweep` into a folder holding an earlier sweep: exit 2 naming the folder and
    --overwrite, nothing run or removed; with --overwrite the sweep runs and replaces it."""
    from ssbfem.cli import main

    out = tmp_path / "sweep"
    out.mkdir()
    (out / "summary.csv").write_text("case,status\n0,complete\n")
    args = ["sweep", str(CONFIG), "-o", str(out), "--vary", "cell.temperature_K=298.15"]
    args += [a for q in QUICK for a in ("--set", q)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--overwrite" in err
    assert (out / "summary.csv").read_text() == "case,status\n0,complete\n"
    assert main([*args, "--overwrite"]) == 0
    assert read_csv(out / "summary.csv")[0]["status"] == "complete"


def test_a_c_rate_follows_each_cases_electrode(tmp_path, capsys):
    """A thickness sweep at a C-rate: each case's 1C is its own electrode's capacity (current
    proportional to the thickness), though the config fixes a nominal capacity, and the sweep
    says so; run.json records it."""
    steps = [*QUICK[:2], "experiment.steps=['Discharge at 1C for 10 s']"]
    run_sweep(CONFIG, ["cell.positive.thickness_um=4,8"], tmp_path / "sweep", steps)
    assert "1C is each case's positive electrode capacity" in capsys.readouterr().err
    series = [read_csv(tmp_path / "sweep" / f"case_00{i}" / "timeseries.csv") for i in (0, 1)]
    currents = [float(rows[-1]["current_A_m2"]) for rows in series]
    assert currents[1] == pytest.approx(2.0 * currents[0], rel=1e-12)
    one_c = json.loads((tmp_path / "sweep" / "case_000" / "run.json").read_text())["one_c"]
    assert one_c["current_A_m2"] == pytest.approx(currents[0], rel=1e-12)
    assert one_c["definition"].startswith("the positive electrode's capacity")
    summary = read_csv(tmp_path / "sweep" / "summary.csv")  # each case's 1C in the summary too
    assert [float(r["one_c_A_m2"]) for r in summary] == pytest.approx(currents, rel=1e-12)
    # the same cell at a fixed current keeps the config's 1C
    fixed = [*QUICK[:2], "experiment.steps=['Discharge at 2.08333 A/m2 for 10 s']"]
    run_sweep(CONFIG, ["cell.positive.thickness_um=4,8"], tmp_path / "fixed", fixed)
    one_c = json.loads((tmp_path / "fixed" / "case_000" / "run.json").read_text())["one_c"]
    assert one_c["definition"] == "cell.nominal_capacity_mAh_cm2"
