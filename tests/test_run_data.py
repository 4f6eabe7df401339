"""ssbfem.load reads back what a run wrote: the tables with their units, the settings, the
status and the field snapshots; a folder that is not a finished run gives a clear error."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from pandas.api.types import is_numeric_dtype
from conftest import thin_film

import ssbfem
from ssbfem.errors import InputError
from ssbfem.settings import validate

# The thin-film cell's positive electrode: 0.51 of 3.22e4 mol/m3, between 3.62 and 3.62 + 8.08 um.
INITIAL_C = 0.51 * 3.22e4
POSITIVE_UM = (3.62, 3.62 + 8.08)

# Every column of the thin-film run's tables and the unit its name states.
TIMESERIES_UNITS = {
    "time_s": "s",
    "step": "",
    "cycle": "",
    "current_A_m2": "A/m2",
    "voltage_V": "V",
    "capacity_mAh_cm2": "mAh/cm2",
    "energy_mWh_cm2": "mWh/cm2",
    "current_A": "A",
    "capacity_mAh": "mAh",
    "energy_mWh": "mWh",
    "surface_stoichiometry": "1",
    "mean_stoichiometry": "1",
    "lithium_mol_m2": "mol/m2",
    "temperature_min_K": "K",
    "temperature_mean_K": "K",
    "temperature_max_K": "K",
    "ocp_positive_V": "V",
    "ocp_negative_V": "V",
    "loss_diffusion_positive_V": "V",
    "loss_charge_transfer_positive_V": "V",
    "loss_ohmic_positive_V": "V",
    "loss_ohmic_electrolyte_V": "V",
    "loss_charge_transfer_negative_V": "V",
    "loss_ohmic_negative_V": "V",
}
STEPS_UNITS = {
    "step": "",
    "cycle": "",
    "text": "",
    "start_s": "s",
    "end_s": "s",
    "end_reason": "",
    "capacity_mAh_cm2": "mAh/cm2",
    "energy_mWh_cm2": "mWh/cm2",
    "mean_voltage_V": "V",
    "end_voltage_V": "V",
    "end_current_A_m2": "A/m2",
    "time_steps": "",
    "rejected_steps": "",
    "newton_iterations": "",
    "linear_iterations": "",
}
CYCLES_UNITS = {
    "cycle": "",
    "discharge_capacity_mAh_cm2": "mAh/cm2",
    "charge_capacity_mAh_cm2": "mAh/cm2",
    "discharge_energy_mWh_cm2": "mWh/cm2",
    "charge_energy_mWh_cm2": "mWh/cm2",
    "duration_s": "s",
    "coulombic_efficiency": "1",
    "mean_discharge_voltage_V": "V",
    "mean_charge_voltage_V": "V",
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A thin-film discharge written to a directory, with fields at 600 s and 1200 s."""
    from mpi4py import MPI

    from ssbfem.config import resolve
    from ssbfem.runner import run

    settings = resolve(thin_film(output={"fields": True, "plot": False, "field_times_s": [600.0, 1200.0]}))
    output = tmp_path_factory.mktemp("load") / "run"
    result = run(settings, output, MPI.COMM_SELF)
    return settings, result, output


def _csv_columns(path) -> dict[str, list[str]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {name: [r[name] for r in rows] for name in rows[0]}


@pytest.mark.parametrize(
    ("table", "units"), [("timeseries", TIMESERIES_UNITS), ("steps", STEPS_UNITS), ("cycles", CYCLES_UNITS)]
)
def test_every_column_comes_back_with_its_unit(finished, table, units):
    _, _, output = finished
    df = getattr(ssbfem.load(output), table)
    assert df.attrs["units"] == units
    written = _csv_columns(output / f"{table}.csv")
    assert list(df.columns) == list(written)
    for name, texts in written.items():
        if is_numeric_dtype(df[name]):  # the numbers are written with repr: they read back exactly
            np.testing.assert_array_equal(df[name].to_numpy(float), np.array(texts, dtype=float), err_msg=name)
        else:
            assert list(df[name]) == texts


def test_units_of_per_layer_and_other_columns():
    from ssbfem.run_data import column_units

    names = [
        "hydrostatic_mean_Pa[positive]",
        "fracture_indicator[electrolyte]",
        "heat_removed_W",
        "power_W_m2",
        "z_imag_ohm_cm2",
        "frequency_Hz",
        "displacement_um",
        "coulombic_efficiency",
        "end_reason",
    ]
    assert list(column_units(names).values()) == ["Pa", "1", "W", "W/m2", "ohm cm2", "Hz", "um", "1", ""]


def test_timeseries_equals_the_run_in_memory(finished):
    _, result, output = finished
    df = ssbfem.load(output).timeseries
    assert len(df) == len(result.series.rows) > 10
    for name in result.series.names:
        np.testing.assert_array_equal(df[name].to_numpy(), result.series[name], err_msg=name)
    assert df["voltage_V"].iloc[-1] == pytest.approx(3.0, abs=1e-4)  # the cut-off, to solver.event_tolerance_V


def test_settings_status_and_metadata(finished):
    settings, result, output = finished
    run = ssbfem.load(output)
    assert run.settings == validate(settings)
    assert run.settings.to_resolved_dict() == settings
    assert run.status == result.status == "complete"
    assert run.message == ""
    assert run.metadata["final_time_s"] == df_last(run, "time_s")
    assert run.metadata["num_dofs"] > 0
    assert run.units["capacity_mAh_cm2"] == "mAh/cm2"
    # 1C of this config: its nominal capacity, and the current the discharge ran at
    one_c = run.metadata["one_c"]
    assert one_c["definition"] == "cell.nominal_capacity_mAh_cm2"
    assert one_c["capacity_mAh_cm2"] == pytest.approx(settings["cell"]["nominal_capacity_mAh_cm2"], rel=1e-12)
    assert one_c["current_A_m2"] == pytest.approx(abs(float(run.timeseries["current_A_m2"].iloc[-1])), rel=1e-9)


def df_last(run, name: str) -> float:
    return float(run.timeseries[name].iloc[-1])


def test_field_snapshots_read_back(finished):
    _, result, output = finished
    run = ssbfem.load(output)
    assert run.field_names == ["c", "phi_e", "phi_s_positive"]
    final = result.series["time_s"][-1]
    assert run.field_times("c") == pytest.approx([0.0, 600.0, 1200.0, final], rel=1e-12)
    points, values = run.field("c", 0.0)
    # the initial concentration, a constant written by the run
    np.testing.assert_allclose(values["c"], INITIAL_C, rtol=1e-12)
    assert points.shape == (len(values["c"]), 3)
    assert points[:, 0].min() == pytest.approx(POSITIVE_UM[0]) and points[:, 0].max() == pytest.approx(POSITIVE_UM[1])
    # the lithium inserted by the end equals the time series' inventory (mol/m2 of footprint):
    # the integral of c over the electrode's thickness (P2 in 1D, nodes at the element ends and
    # midpoints: Simpson's rule on each element is exact)
    assert run.settings.mesh.degree == 2
    points, values = run.field("c")
    order = np.argsort(points[:, 0])
    x_m, c = points[order, 0] * 1e-6, values["c"][order]
    start, end = x_m[0:-1:2], x_m[2::2]
    inventory = np.sum((end - start) / 6 * (c[0:-1:2] + 4 * c[1::2] + c[2::2]))
    assert inventory == pytest.approx(df_last(run, "lithium_mol_m2"), rel=1e-9)
    # the positive electrode's potential at the end is the cell voltage (electronic losses ~1e-9 V)
    _, phi_s = run.field("phi_s_positive")
    np.testing.assert_allclose(phi_s["phi_s"], df_last(run, "voltage_V"), atol=1e-6)


def test_snapshot_as_a_dolfinx_function(finished):
    """On the rebuilt mesh: the initial c is the constant; the integral of the last c over the
    electrode (mesh in um) is the time series' lithium inventory, mol/m2."""
    import ufl

    from ssbfem._dolfinx import dolfinx

    run = ssbfem.load(finished[2])
    initial = run.function("c", 0.0)
    np.testing.assert_allclose(initial.x.array, INITIAL_C, rtol=1e-12)
    last = run.function("c")
    integral = dolfinx.fem.assemble_scalar(dolfinx.fem.form(last * ufl.dx(domain=last.function_space.mesh)))
    assert integral * 1e-6 == pytest.approx(df_last(run, "lithium_mol_m2"), rel=1e-9)
    with pytest.raises(InputError, match="no field 'stress'"):
        run.function("stress")


def test_unknown_field_names_the_written_ones(finished):
    with pytest.raises(InputError, match=r"no field 'temperature'.*\['c', 'phi_e', 'phi_s_positive'\]"):
        ssbfem.load(finished[2]).field("temperature")


def test_plot_helpers_write_pngs(finished, tmp_path):
    run = ssbfem.load(finished[2])
    for name in ("voltage", "losses"):
        path = getattr(run, f"plot_{name}")(tmp_path / f"{name}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="no impedance spectrum"):
        run.plot_impedance()


def test_plot_helpers_keep_the_callers_matplotlib_backend(finished, tmp_path):
    """The figures are written through Agg, and a notebook's backend is given back after."""
    import matplotlib

    previous = matplotlib.get_backend()
    matplotlib.use("pdf")
    try:
        ssbfem.load(finished[2]).plot_voltage(tmp_path / "voltage.png")
        assert matplotlib.get_backend() == "pdf"
    finally:
        matplotlib.use(previous)


def test_not_a_run_directory(tmp_path):
    with pytest.raises(InputError, match="no such directory"):
        ssbfem.load(tmp_path / "absent")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"not an ssbfem run directory \(it holds no run.json\)"):
        ssbfem.load(tmp_path)


@pytest.mark.parametrize(
    ("status", "reason"),
    [("failed", "the run failed: Newton did not converge"), ("running", "the run has not finished")],
)
def test_a_run_that_crashed(finished, tmp_path, status, reason):
    copy = tmp_path / "run"
    shutil.copytree(finished[2], copy)
    meta = json.loads((copy / "run.json").read_text())
    meta.update(status=status, message="Newton did not converge" if status == "failed" else "")
    (copy / "run.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=reason) as info:
        ssbfem.load(copy)
    assert info.value.key == str(copy)
    partial = ssbfem.load(copy, partial=True)  # what it wrote, on request
    assert partial.status == status
    assert len(partial.timeseries) == len(ssbfem.load(finished[2]).timeseries)


def test_impedance_spectra(tmp_path):
    """An EIS run's spectrum comes back per step, in ohm cm2, equal to the one the run returned."""
    from mpi4py import MPI

    from ssbfem.config import resolve
    from ssbfem.runner import run

    raw = thin_film(
        cell={"series_resistance_ohm_cm2": 18.3, "positive": {"double_layer_F_m2": 5.3e-3}},
        experiment={"steps": ["EIS from 1 MHz to 1 Hz at 3.9 V"]},
        solver={"initial_step_s": 1e-8},
    )
    result = run(resolve(raw), tmp_path / "eis", MPI.COMM_SELF)
    loaded = ssbfem.load(tmp_path / "eis")
    assert loaded.impedance.attrs["units"]["z_real_ohm_cm2"] == "ohm cm2"
    (spectrum,) = loaded.spectra()
    assert spectrum["step"] == 0
    (expected,) = result.spectra
    assert len(spectrum["frequency_Hz"]) == len(expected["frequency_Hz"]) > 10
    for name in ("frequency_Hz", "z_real_ohm_cm2", "z_imag_ohm_cm2"):
        np.testing.assert_array_equal(spectrum[name], expected[name], err_msg=name)
    # the low-frequency end of the spectrum is above the series resistance
    assert spectrum["z_real_ohm_cm2"][np.argmin(spectrum["frequency_Hz"])] > 18.3
    assert loaded.plot_impedance(tmp_path / "z.png").is_file()


@pytest.mark.mpi
def test_fields_do_not_depend_on_the_number_of_ranks(tmp_path):
    """A field written by every rank reads back as the serial run's: each node once, in order."""
    from mpi4py import MPI

    from ssbfem.config import resolve
    from ssbfem.runner import run

    comm = MPI.COMM_WORLD
    root = Path(comm.bcast(str(tmp_path), root=0))  # rank 0's folder for both ranks
    settings = resolve(thin_film(output={"fields": True, "plot": False, "field_times_s": [600.0]}))
    run(settings, root / "parallel", comm)
    if comm.rank == 0:
        run(settings, root / "serial", MPI.COMM_SELF)
    comm.barrier()
    parallel, serial = ssbfem.load(root / "parallel"), ssbfem.load(root / "serial")
    for name in ("c", "phi_e"):
        for t in (0.0, 600.0, None):
            points, values = parallel.field(name, t)
            expected_points, expected = serial.field(name, t)
            np.testing.assert_array_equal(points, expected_points)
            for key, value in expected.items():
                np.testing.assert_allclose(values[key], value, rtol=1e-9, atol=1e-12, err_msg=f"{name} {key} at {t}")
