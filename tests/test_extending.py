"""Extending ssbfem from a user's script, without editing the package (docs/extending.md):
a kinetics law registered and named in a config, a physics block with a source term, an
output column."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import thin_film

from ssbfem.config import resolve
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.runner import run

EXPERIMENT = {"steps": ["Discharge at 0.01C for 10 minutes"]}


def test_registered_kinetics_law_from_a_config():
    """A linearised law j = i0 (alpha_a + alpha_c) F eta / (R T), registered by name, reproduces
    Butler-Volmer at 0.01C within 0.1 mV (its overpotentials are far below RT/F)."""
    from ssbfem.physics.kinetics import register_kinetics

    calls = []

    @register_kinetics("linearised-bv")
    def linearised(i0, eta, alpha_a, alpha_c, T):
        calls.append(1)
        return i0 * (alpha_a + alpha_c) * FARADAY * eta / (GAS_CONSTANT * T)

    law = {"kinetics": "linearised-bv"}
    linear = run(resolve(thin_film(cell={"positive": law, "negative": law}, experiment=EXPERIMENT)), None)
    butler_volmer = run(resolve(thin_film(experiment=EXPERIMENT)), None)
    assert len(calls) == 2  # both interfaces took the registered law
    t = np.asarray(butler_volmer.series["time_s"])
    v_linear = np.interp(t, linear.series["time_s"], linear.series["voltage_V"])
    assert np.max(np.abs(v_linear - np.asarray(butler_volmer.series["voltage_V"]))) < 1e-4


def test_side_reaction_block_removes_the_lithium_it_should():
    """A block consuming lithium in the positive at a constant rate r (mol/(m3 s)) takes
    r L t per footprint area during a rest, to 1e-9 relative."""
    from ssbfem.blocks import Block
    from ssbfem.geometry.tags import MESH_UNIT_M

    class SideReaction(Block):
        """dc/dt = div(D grad c) - r in the positive: + int F r L0 w dx in its lithium balance (A)."""

        def __init__(self, rate_mol_m3_s: float):
            self.rate = rate_mol_m3_s

        def residual(self, model):
            theta = model.fields["theta"]
            form = FARADAY * self.rate * MESH_UNIT_M * theta.v * model.measures.dx("positive")
            model.residual.add("theta", "side_reaction", form)

    rate, duration = 0.05, 3600.0
    cfg = resolve(thin_film(experiment={"steps": [f"Rest for {duration} s"]}))
    series = run(cfg, None, extra_blocks=[SideReaction(rate)]).series
    removed = series["lithium_mol_m2"][0] - series["lithium_mol_m2"][-1]
    expected = rate * cfg["cell"]["positive"]["thickness_um"] * 1e-6 * duration
    assert removed == pytest.approx(expected, rel=1e-9)


def test_observable_adds_a_column():
    """The root-mean-square overpotential over the positive interface, as a column; in 1D the
    interface is one point, so it is |mean eta|, the charge-transfer loss of the breakdown."""
    from ssbfem.blocks import interface
    from ssbfem.observables import Observable

    eta_rms = Observable(
        "eta_positive_rms_V",
        integrand=lambda m: m.q["eta:positive"] ** 2,
        where=lambda m: interface(m, "positive").measure,
        then=math.sqrt,
    )
    series = run(resolve(thin_film(experiment=EXPERIMENT)), None, observables=[eta_rms]).series
    loss = np.abs(np.asarray(series["loss_charge_transfer_positive_V"]))
    assert loss[-1] > 1e-5
    np.testing.assert_allclose(series["eta_positive_rms_V"], loss, rtol=1e-9, atol=1e-15)


def test_user_observer_sees_every_row_snapshot_and_the_stop(tmp_path):
    """An observer of the user's own: told of each row (the same rows the time series keeps),
    the snapshots at the requested times and the run's end."""
    from ssbfem.observers import Observer

    class Recorder(Observer):
        def __init__(self):
            self.rows, self.snapshots, self.stopped = [], [], None

        def on_row(self, sim, row):
            self.rows.append(row["time_s"])

        def on_snapshot(self, sim, t):
            self.snapshots.append(t)

        def on_stop(self, sim, status):
            self.stopped = status

    cfg = resolve(thin_film(experiment=EXPERIMENT, output={"field_times_s": [60.0, 300.0]}))
    observer = Recorder()
    result = run(cfg, tmp_path / "run", observers=[observer])
    assert observer.rows == list(result.series["time_s"])
    assert observer.snapshots == pytest.approx([0.0, 60.0, 300.0, 600.0])
    assert observer.stopped == "complete"
