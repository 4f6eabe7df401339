"""Experiments driven like a cycler: cycles, holds, capacity limits, drive cycles, GITT, and the
voltage breakdown (issue: experiments, results and runs that survive faults)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import REPO, simulate, thin_film

from ssbfem.analysis import gitt_diffusivities
from ssbfem.config import load_config
from ssbfem.errors import InputError
from ssbfem.simulation import lithium_charge_balance

BREAKDOWN = ("ocp_positive_V", "ocp_negative_V")


@pytest.mark.parametrize("dimension", [1, 2])
def test_loss_breakdown_sums_to_voltage(dimension):
    raw = thin_film(
        cell={"dimension": dimension, "negative": {"thickness_um": 2.0}},
        mesh={"in_plane_elements": 2},
        experiment={"steps": ["Discharge at 2C until 3.6 V", "Rest for 5 minutes", "Charge at 1C for 5 minutes"]},
    )
    series = simulate(raw).series
    losses = [n for n in series.names if n.startswith("loss_")]
    assert len(losses) == 6
    total = series["ocp_positive_V"] - series["ocp_negative_V"] + sum(series[n] for n in losses)
    assert np.abs(total - series["voltage_V"]).max() <= 1e-9
    discharge = series["step"] == 0
    # On discharge every loss lowers the voltage; the electrolyte's is I L / sigma exactly.
    for name in losses:
        assert np.all(series[name][discharge][1:] <= 1e-12), name
    ohmic = -series["current_A_m2"] * 3.62e-6 / 1.10896e-4
    assert np.allclose(series["loss_ohmic_electrolyte_V"], ohmic, rtol=1e-6, atol=1e-12)


def test_cccv_charge_then_discharge_cycles():
    """Two CCCV-charge / CC-discharge cycles after a first discharge: charge conserved, and the
    cycle table's coulombic efficiency is the ratio of its charges."""
    raw = thin_film(
        experiment={
            "steps": [
                "Discharge at 1C until 3.6 V",
                {
                    "cycle": ["Charge at 1C until 4.1 V", "Hold at 4.1 V until C/10", "Discharge at 1C until 3.6 V"],
                    "repeat": 2,
                },
            ]
        }
    )
    result = simulate(raw)
    charge, inserted = lithium_charge_balance(result.series.rows)
    assert abs(charge - inserted) <= 1e-8 * max(abs(charge), 1e-3 * 36000 * 0.2)
    assert [s["cycle"] for s in result.steps] == [0, 1, 1, 1, 2, 2, 2]
    assert [s["end_reason"] for s in result.steps][1:4] == ["voltage limit", "current limit", "voltage limit"]
    cycle = result.cycles[1]
    assert cycle["coulombic_efficiency"] == pytest.approx(
        cycle["discharge_capacity_mAh_cm2"] / cycle["charge_capacity_mAh_cm2"], rel=1e-12
    )
    steps_total = sum(s["capacity_mAh_cm2"] for s in result.steps)
    assert steps_total == pytest.approx(result.series.rows[-1]["capacity_mAh_cm2"], rel=1e-12)


def test_rests_pass_no_charge_and_the_cycle_table_ignores_them(tmp_path):
    """Discharge, rest, CCCV charge, rest, twice: a rest passes exactly no charge and is neither a
    charge nor a discharge, so the coulombic efficiency of a cycle that starts and ends at the
    same state (the second) is Q_discharge/Q_charge close to 1 (a rest's round-off, ~1e-50
    mAh/cm2, counted as a charge would make it ~1e34). The first cycle starts from the initial
    4.18 V, above the charge's 4.1 V limit: it discharges more than it charges back."""
    from mpi4py import MPI

    from ssbfem.config import resolve
    from ssbfem.results import read_table
    from ssbfem.runner import run

    cycle = [
        "Discharge at 1C until 3.5 V",
        "Rest for 10 minutes",
        "Charge at 1C until 4.1 V",
        "Hold at 4.1 V until C/50",
        "Rest for 10 minutes",
    ]
    result = run(resolve(thin_film(experiment={"steps": [{"cycle": cycle, "repeat": 2}]})), tmp_path, MPI.COMM_WORLD)
    rests = [s for s in result.steps if s["text"].startswith("Rest")]
    assert len(rests) == 4
    for s in rests:
        assert s["capacity_mAh_cm2"] == 0.0 and s["energy_mWh_cm2"] == 0.0
    charge, inserted = lithium_charge_balance(result.series.rows)
    assert abs(charge - inserted) <= 1e-8 * abs(charge)
    steps_total = sum(s["capacity_mAh_cm2"] for s in result.steps)
    assert steps_total == pytest.approx(result.series.rows[-1]["capacity_mAh_cm2"], rel=1e-12)
    table = read_table(tmp_path / "cycles.csv")
    for k, c in enumerate(result.cycles):
        mine = [s["capacity_mAh_cm2"] for s in result.steps if s["cycle"] == k]
        assert c["discharge_capacity_mAh_cm2"] == pytest.approx(sum(q for q in mine if q > 0), rel=1e-12)
        assert c["charge_capacity_mAh_cm2"] == pytest.approx(-sum(q for q in mine if q < 0), rel=1e-12)
        efficiency = c["discharge_capacity_mAh_cm2"] / c["charge_capacity_mAh_cm2"]
        assert c["coulombic_efficiency"] == pytest.approx(efficiency, rel=1e-12)
        assert float(table[k]["coulombic_efficiency"]) == pytest.approx(efficiency, rel=1e-12)
    assert 1.0 < result.cycles[0]["coulombic_efficiency"] < 1.5
    assert 0.9 < result.cycles[1]["coulombic_efficiency"] <= 1.01


def test_coulombic_efficiency_needs_both_half_cycles():
    """No efficiency (NaN) for a cycle without a charge, nor from a charge that is round-off
    (the 1e-50 mAh/cm2 a rest carried before rests passed exactly none)."""
    from ssbfem.results import cycle_summaries

    def step(cycle: int, capacity: float, energy: float) -> dict:
        return {"cycle": cycle, "capacity_mAh_cm2": capacity, "energy_mWh_cm2": energy, "start_s": 0.0, "end_s": 1.0}

    cycles = cycle_summaries(
        [
            step(0, 0.1, 0.38),
            step(0, 0.0, 0.0),  # a rest
            step(1, 0.1, 0.38),
            step(1, -2.3e-50, -3.2e-50),  # a rest's round-off
            step(2, 0.1, 0.38),
            step(2, -0.125, -0.5),
        ]
    )
    assert [c["duration_s"] for c in cycles] == [2.0, 2.0, 2.0]
    for c in cycles[:2]:
        assert math.isnan(c["coulombic_efficiency"]) and math.isnan(c["mean_charge_voltage_V"])
        assert c["mean_discharge_voltage_V"] == pytest.approx(3.8, rel=1e-12)
    assert cycles[0]["charge_capacity_mAh_cm2"] == 0.0
    assert cycles[2]["coulombic_efficiency"] == pytest.approx(0.8, rel=1e-12)
    assert cycles[2]["mean_charge_voltage_V"] == pytest.approx(4.0, rel=1e-12)


def test_capacity_limit():
    result = simulate(thin_film(experiment={"steps": ["Discharge at 1C until 0.05 mAh/cm2 or 3.0 V"]}))
    assert result.steps[0]["end_reason"] == "capacity limit"
    assert result.steps[0]["capacity_mAh_cm2"] == pytest.approx(0.05, rel=2e-4)


def test_drive_cycle_from_csv(tmp_path):
    profile = tmp_path / "drive.csv"
    profile.write_text("time_s,current_mA_cm2\n0,0.2\n60,0.4\n120,-0.1\n180,0.3\n")
    result = simulate(thin_film(experiment={"steps": [f"Current profile from {profile}"]}))
    t, current = result.series["time_s"], result.series["current_A_m2"]
    running = t > 0
    expected = np.interp(t[running], [0, 60, 120, 180], [2.0, 4.0, -1.0, 3.0])
    assert np.allclose(current[running], expected, rtol=1e-8, atol=1e-9)
    for breakpoint in (60.0, 120.0, 180.0):
        assert np.min(np.abs(t - breakpoint)) < 1e-9
    charge, inserted = lithium_charge_balance(result.series.rows)
    assert abs(charge - inserted) <= 1e-8 * abs(charge)


def test_gitt_recovers_diffusivity():
    """GITT (Weppner-Huggins): D = 4 L^2/(pi tau) (dEs/dEt)^2 with tau << L^2/D. A faster
    diffusivity keeps the relaxation short; the pulses are 0.4 % of L^2/D."""
    diffusivity, thickness = 1e-13, 8.08e-6
    tau = 0.004 * thickness**2 / diffusivity
    raw = thin_film(
        cell={"positive": {"diffusivity_m2_s": diffusivity, "initial_stoichiometry": 0.6}},
        experiment={"steps": [{"cycle": [f"Discharge at 0.2C for {tau} s", "Rest for 1 hour"], "repeat": 4}]},
    )
    result = simulate(raw)
    estimates = gitt_diffusivities(result.series, result.steps, thickness)
    assert len(estimates) == 4
    for d in estimates:
        assert d == pytest.approx(diffusivity, rel=0.10)


def test_shipped_gitt_config_recovers_the_film_diffusivity():
    """demos/configs/thin_film_gitt.toml at the default diffusivity: every pulse's
    Weppner-Huggins estimate within 5 % of the film's D (the rests relax, the OCP is smooth)."""
    path = REPO / "demos" / "configs" / "thin_film_gitt.toml"
    cfg = load_config(path, ["output.plot=false"])
    result = simulate(cfg)
    pos = cfg["cell"]["positive"]
    estimates = gitt_diffusivities(result.series, result.steps, pos["thickness_um"] * 1e-6)
    assert len(estimates) == 6
    for d in estimates:
        assert d == pytest.approx(pos["diffusivity_m2_s"], rel=0.05)


def test_bad_experiments_are_one_line_errors(tmp_path):
    from ssbfem.config import resolve
    from ssbfem.runner import parse_steps

    cases = {
        "Discharge at 1C untill 3 V": "cannot read",
        "Dischrge at 1C until 3 V": "a step starts with",
        f"Current profile from {tmp_path / 'nope.csv'}": "profile file not found",
    }
    for text, reason in cases.items():
        with pytest.raises(InputError, match=reason) as info:
            parse_steps(resolve(thin_film(experiment={"steps": [text]})))
        assert "\n" not in str(info.value)


def test_unreachable_cutoff_is_diagnosed():
    """With a constant exchange current and the EMF table (3.0 V at x = 1) the voltage stays
    above 2.0 V until the film is full."""
    from ssbfem.errors import SimulationError

    raw = thin_film(
        cell={"positive": {"exchange_current_law": "constant", "ocp": "Raijmakers2020"}},
        experiment={"steps": ["Discharge at 1C until 2.0 V"]},
    )
    with pytest.raises(SimulationError, match="out of reach") as info:
        simulate(raw)
    assert "\n" not in str(info.value)
    assert math.isfinite(len(str(info.value)))


def test_eis_step_grammar():
    from ssbfem.experiment import Units, parse_step

    units = Units(area_m2=1e-4, one_c_A_m2=2.0)
    spec = parse_step("EIS from 1 MHz to 10 mHz at 3.9 V", units).impedance
    assert (spec.start_Hz, spec.end_Hz, spec.points_per_decade) == (1e6, 1e-2, 10)
    assert (spec.state, spec.value) == ("voltage", 3.9)
    assert parse_step("EIS from 100 kHz to 1 Hz at rest with 5 points per decade", units).impedance.state == "rest"
    half = parse_step("EIS from 1 kHz to 1 Hz at 50 % SOC", units).impedance
    assert (half.state, half.value) == ("charge", pytest.approx(0.5 * 2.0 * 3600.0))
    for bad in ("EIS from 1 MHz at 3.9 V", "EIS from 1 MHz to 10 mHz at 2 A", "EIS from 1 GHz to 1 Hz at rest"):
        with pytest.raises(InputError, match=r"experiment\.steps"):
            parse_step(bad, units)


def test_eis_at_a_state_of_charge_relaxes_to_its_stoichiometry():
    """At 50 % SOC the positive holds x0 + half the nominal capacity's lithium: its OCP is the voltage."""
    raw = thin_film(experiment={"steps": ["EIS from 1 kHz to 100 Hz at 50 % SOC with 1 points per decade"]})
    row = simulate(raw).series.rows[-1]
    q_half = 0.5 * 0.208333 * 36000.0  # C/m2
    x = 0.51 + q_half / (96485.33212 * 3.22e4 * 8.08e-6)
    assert row["mean_stoichiometry"] == pytest.approx(x, rel=1e-9)
    assert row["current_A_m2"] == 0.0


@pytest.mark.parametrize("units", [1, 3])
def test_one_c_in_run_json_is_the_positive_electrodes_capacity(tmp_path, units):
    """Without a nominal capacity 1C is the positive electrode's charge from its initial
    stoichiometry to 1 passed in an hour: F c_max L (1 - x0) per unit of a stack. run.json
    records it per footprint and for the cell of cell.area_cm2, and the discharge ran at it."""
    import json

    from ssbfem.config import resolve
    from ssbfem.runner import run

    stack = {"negative_current_collector": {"material": "Cu", "thickness_um": 1.0}, "negative": {"thickness_um": 2.0}}
    stack["positive_current_collector"] = {"material": "Pt", "thickness_um": 0.5}
    cell = {"units": units, **(stack if units > 1 else {})}
    raw = thin_film(cell=cell, experiment={"steps": ["Discharge at 1C for 10 s"]})
    del raw["cell"]["nominal_capacity_mAh_cm2"]
    result = run(resolve(raw), tmp_path / "run")
    one_c = json.loads((tmp_path / "run" / "run.json").read_text())["one_c"]
    capacity_C_m2 = units * 96485.33212 * 3.22e4 * 8.08e-6 * (1 - 0.51)  # config's c_max, thickness, x0
    assert one_c["definition"].startswith("the positive electrode's capacity")
    assert one_c["capacity_mAh_cm2"] == pytest.approx(capacity_C_m2 / 36000.0, rel=1e-9)
    assert one_c["capacity_mAh"] == pytest.approx(capacity_C_m2 / 36000.0 * 3.36, rel=1e-9)
    assert one_c["current_A_m2"] == pytest.approx(capacity_C_m2 / 3600.0, rel=1e-9)
    assert one_c["current_A"] == pytest.approx(capacity_C_m2 / 3600.0 * 3.36e-4, rel=1e-9)
    assert result.series.rows[-1]["current_A_m2"] == pytest.approx(one_c["current_A_m2"], rel=1e-9)
