"""The plots of a run: axes, scales and units a reader expects (checked on the matplotlib Axes)."""

import numpy as np
import pytest
from mpi4py import MPI

from ssbfem.results import (
    Profiles,
    TimeSeries,
    plot_cycles,
    plot_heat,
    plot_impedance,
    plot_profiles,
    plot_voltage,
    time_axis,
)


def _series(t_end_s: float) -> TimeSeries:
    series = TimeSeries(None, MPI.COMM_SELF)
    for t in np.linspace(0.0, t_end_s, 20):
        series.rows.append(
            {
                "time_s": t,
                "voltage_V": 4.0 - 1e-5 * t,
                "capacity_mAh_cm2": 1e-4 * t,
                "heat_ohmic_W_m2": 0.01,
                "heat_reaction_W_m2": 0.02,
                "heat_removed_W_m2": 0.025,
                "temperature_mean_K": 298.15 + 1e-4 * t,
                "temperature_min_K": 298.15,
                "temperature_max_K": 298.15 + 2e-4 * t,
            }
        )
    return series


def test_time_unit_follows_the_span():
    assert time_axis(np.array([0.0, 120.0]))[1] == "Time (s)"
    t, label = time_axis(np.array([0.0, 1800.0]))
    assert label == "Time (min)" and t[-1] == 30.0
    t, label = time_axis(np.array([0.0, 36000.0]))
    assert label == "Time (h)" and t[-1] == 10.0


def test_long_run_voltage_in_hours_short_run_in_seconds(tmp_path):
    fig = plot_voltage(_series(36000.0), tmp_path / "v.png")
    assert fig.axes[1].get_xlabel() == "Time (h)"
    assert np.isclose(fig.axes[1].lines[0].get_xdata()[-1], 10.0)
    fig = plot_voltage(_series(60.0), tmp_path / "v2.png")
    assert fig.axes[1].get_xlabel() == "Time (s)"
    assert np.isclose(fig.axes[1].lines[0].get_xdata()[-1], 60.0)


def test_temperature_axis_is_linear(tmp_path):
    fig = plot_heat(_series(7200.0), tmp_path / "heat.png")
    temperature = fig.axes[1]
    assert temperature.get_yscale() == "linear"
    assert temperature.get_xlabel() == "Time (min)"
    assert not temperature.yaxis.get_major_formatter().get_useOffset()


def test_cycle_axis_has_integer_ticks(tmp_path):
    cycles = [
        {"cycle": i, "discharge_capacity_mAh_cm2": 1.0 - 0.01 * i, "coulombic_efficiency": 0.99} for i in range(3)
    ]
    fig = plot_cycles(cycles, tmp_path / "cycles.png")
    ax = fig.axes[0]
    assert ax.xaxis.get_major_locator()._integer
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert np.allclose(ticks, np.round(ticks))


def test_nyquist_equal_aspect_and_decade_labels(tmp_path):
    f = np.logspace(-2, 3, 26)  # 10 mHz .. 1 kHz: six whole decades
    omega = 2 * np.pi * f
    z = 10.0 + 50.0 / (1 + 1j * omega * 50.0 * 1e-3)  # R + R||C, ohm cm2
    spectra = [{"step": 0, "frequency_Hz": f, "z_real_ohm_cm2": z.real, "z_imag_ohm_cm2": z.imag}]
    fig = plot_impedance(spectra, tmp_path / "z.png")
    nyquist = fig.axes[0]
    assert nyquist.get_aspect() == 1.0
    labels = [t.get_text() for t in nyquist.texts]
    assert labels == [f"$10^{{{d}}}$ Hz" for d in range(-2, 4)]
    assert (tmp_path / "z.png").is_file()


def test_resolved_particles_plot_the_stoichiometry_spread_over_time(tmp_path):
    spread = [[0.5, 0.55, 0.6, 0.55], [0.6, 0.7, 0.8, 0.71], [0.7, 0.85, 0.95, 0.84]]
    profiles = {"x_um": [0.0, 1.0], "times_s": [0.0, 600.0, 1200.0], "stoichiometry": [[0.5, 0.6]] * 3}
    profiles["stoichiometry_p5_p50_p95_mean"] = spread
    fig = plot_profiles(profiles, tmp_path / "c.png")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Time (min)"
    mean = ax.lines[-1]
    assert np.allclose(mean.get_xdata(), [0.0, 10.0, 20.0])
    assert np.allclose(mean.get_ydata(), [0.55, 0.71, 0.84])


def test_composite_run_records_the_particle_stoichiometry_spread(tmp_path):
    from conftest import thin_film
    from test_composite import COMPOSITE

    from ssbfem.config import resolve
    from ssbfem.runner import run

    raw = thin_film(
        cell=COMPOSITE,
        mesh={"degree": 1},
        solver={"initial_step_s": 1.0},
        experiment={"steps": ["Discharge at 1C for 10 seconds"]},
        output={"fields": False, "plot": True},
    )
    result = run(resolve(raw), tmp_path / "run")
    assert (tmp_path / "run" / "concentration.png").is_file()
    model = result.simulation.model
    profiles = Profiles(model)
    assert profiles.resolved
    profiles(10.0)
    p5, p50, p95, mean = profiles.to_json()["stoichiometry_p5_p50_p95_mean"][0]
    theta = model.theta.x.array[: model.theta.function_space.dofmap.index_map.size_local]
    assert mean == pytest.approx(theta.mean(), rel=1e-12)
    assert theta.min() <= p5 < p95 <= theta.max()  # discharge fills particle surfaces first: a spread
    assert p5 <= p50 <= p95


def test_bode_labels_clear_the_nyquist_plot(tmp_path):
    f = np.logspace(-2, 3, 26)
    z = 10.0 + 50.0 / (1 + 1j * 2 * np.pi * f * 50e-3)
    spectra = [{"step": 0, "frequency_Hz": f, "z_real_ohm_cm2": z.real, "z_imag_ohm_cm2": z.imag}]
    fig = plot_impedance(spectra, tmp_path / "z.png")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    nyquist = fig.axes[0].get_tightbbox(renderer)
    for bode in fig.axes[1:]:
        assert bode.get_tightbbox(renderer).x0 > nyquist.x1  # y-labels and ticks beside, not over, it
