"""1 and 2 MPI ranks agree to solver tolerance (make test runs this file under mpiexec -n 2)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import simulate, thin_film
from mpi4py import MPI

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("dimension", [1, 2])
def test_ranks_agree(dimension):
    raw = thin_film(
        cell={"dimension": dimension},
        mesh={"in_plane_elements": 2},
        experiment={"steps": ["Discharge at 2C until 3.6 V"]},
    )
    world = simulate(raw, MPI.COMM_WORLD)
    alone = simulate(raw, MPI.COMM_SELF)
    t = alone.series.column("time_s")
    v_world = np.interp(t, world.series.column("time_s"), world.series.column("voltage_V"))
    assert np.abs(v_world - alone.series.column("voltage_V")).max() <= 1e-6
    q = [r.series.rows[-1]["capacity_mAh_cm2"] for r in (world, alone)]
    assert q[0] == pytest.approx(q[1], rel=1e-6)
