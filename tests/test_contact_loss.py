"""Contact loss in composite cathodes: caps of the particles' electrolyte contact detached from
the charge-transfer interface (``cell.composite.contact_loss_fraction``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mpi4py import MPI

from conftest import thin_film
from test_composite import COMPOSITE
from ssbfem._dolfinx import dolfinx
from ssbfem.config import resolve
from ssbfem.effective import effective_parameters
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.geometry.composite import ContactLoss, build_composite
from ssbfem.geometry.io import mesh_from_model, write_msh
from ssbfem.geometry.packing import pack_spheres
from ssbfem.microstructure import facet_area, phase_volumes
from ssbfem.runner import mesh_builder, run
from ssbfem.simulation import lithium_charge_balance

SEPARATOR, COLLECTOR, SIZE = 1.0, 0.5, 0.7
PACKING = pack_spheres((5.0, 5.0, 5.0), 0.5, diameter_um=2.5, overlap=0.1, seed=3)


def _mesh(loss: float, seed: int = 0):
    stats: dict = {}
    build = lambda: stats.update(
        build_composite(PACKING, SEPARATOR, COLLECTOR, SIZE, contact_loss=ContactLoss(loss, seed))
    )
    return mesh_from_model(MPI.COMM_WORLD, build), stats


def _midpoints(cm, name: str) -> set[tuple[float, ...]]:
    """Facet midpoints of a group, rounded so that the same facet of two meshes compares equal."""
    facets = cm.facets(name)
    mid = dolfinx.mesh.compute_midpoints(cm.mesh, 2, facets) if len(facets) else np.zeros((0, 3))
    return {tuple(p) for p in np.round(mid, 9)}


def _largest_facet(cm, names: tuple[str, ...]) -> float:
    """Largest area of a facet of the groups, um2."""
    msh = cm.mesh
    facets = np.concatenate([cm.facets(n) for n in names])
    f2v = dolfinx.mesh.entities_to_geometry(msh, 2, facets)
    p = msh.geometry.x[f2v]
    return float(np.max(0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)))


@pytest.mark.parametrize("loss", [0.25, 0.5])
def test_detached_share_of_the_interface_is_the_lost_fraction(loss):
    """Each particle loses f of its interface area to within half a facet (the last facet of its cap
    is taken when its centre lies below f), so the whole interface does to within half the largest
    facet per particle; the nodes and cells are those of the mesh without contact loss."""
    intact, _ = _mesh(0.0)
    cm, stats = _mesh(loss)
    remaining, detached = facet_area(cm, tags.POSITIVE_INTERFACE), facet_area(cm, tags.DETACHED)
    assert remaining + detached == pytest.approx(facet_area(intact, tags.POSITIVE_INTERFACE), rel=1e-12)
    share = detached / (remaining + detached)
    tolerance = len(PACKING.radii) * 0.5 * _largest_facet(cm, (tags.POSITIVE_INTERFACE, tags.DETACHED))
    assert abs(share - loss) * (remaining + detached) <= tolerance
    assert tolerance / (remaining + detached) < 0.05  # the bound is a tight one on this mesh
    assert stats["detached_area_fraction"] == pytest.approx(share, rel=1e-9)
    assert phase_volumes(cm) == pytest.approx(phase_volumes(intact), rel=1e-12)
    assert cm.mesh.geometry.x.shape == intact.mesh.geometry.x.shape
    # ssbfem.effective: the contact area fraction drops by the detached share (the rest of the
    # particles' exposed surface, at the collector, is the same)
    before = effective_parameters(intact, (SEPARATOR, SEPARATOR + 5.0)).contact_area_fraction
    after = effective_parameters(cm, (SEPARATOR, SEPARATOR + 5.0)).contact_area_fraction
    assert after == pytest.approx(before * (1.0 - share), rel=1e-9)


def test_caps_grow_with_the_lost_fraction_and_move_with_the_seed():
    """With one seed, the caps of a smaller f lie inside those of a larger one; another seed turns
    the caps (other facets) and detaches the same share within the tolerance above."""
    small, _ = _mesh(0.25)
    large, _ = _mesh(0.5)
    turned, stats = _mesh(0.5, seed=7)
    assert _midpoints(small, tags.DETACHED) < _midpoints(large, tags.DETACHED)
    overlap = len(_midpoints(turned, tags.DETACHED) & _midpoints(large, tags.DETACHED))
    assert overlap < 0.75 * len(_midpoints(large, tags.DETACHED))
    assert stats["detached_area_fraction"] == pytest.approx(0.5, abs=0.05)


def test_no_contact_loss_gives_the_same_mesh_file(tmp_path):
    """f = 0 writes exactly the mesh of a config without the key (byte for byte), whatever its seed."""
    raw = thin_film(cell=COMPOSITE)
    del raw["cell"]["nominal_capacity_mAh_cm2"]
    write_msh(mesh_builder(resolve(raw)), tmp_path / "plain.msh")
    raw["cell"]["composite"].update(contact_loss_fraction=0.0, contact_loss_seed=5)
    write_msh(mesh_builder(resolve(raw)), tmp_path / "zero.msh")
    assert (tmp_path / "zero.msh").read_bytes() == (tmp_path / "plain.msh").read_bytes()


@pytest.mark.parametrize("value", [1.0, -0.1])
def test_bad_contact_loss_names_the_key(value):
    raw = thin_film(cell=COMPOSITE)
    raw["cell"]["composite"]["contact_loss_fraction"] = value
    with pytest.raises(InputError) as info:
        resolve(raw)
    assert info.value.key == "cell.composite.contact_loss_fraction"


@pytest.mark.mpi
def test_discharge_with_contact_loss_conserves_charge(tmp_path):
    """A short discharge with half the contact lost: the charge passed equals the lithium inserted
    (verification case K), geometry.json reports the detached share, and the remaining contact
    carries the whole current, so the voltage is below that of the intact cell."""
    tmp_path = MPI.COMM_WORLD.bcast(tmp_path, root=0)
    voltages = {}
    for loss in (0.0, 0.5):
        raw = thin_film(
            cell=COMPOSITE,
            mesh={"degree": 1},
            solver={"initial_step_s": 1.0},
            experiment={"steps": ["Discharge at 1C for 10 seconds"]},
            output={"effective_parameters": True},
        )
        del raw["cell"]["nominal_capacity_mAh_cm2"]
        raw["cell"]["composite"]["contact_loss_fraction"] = loss
        result = run(resolve(raw), tmp_path / f"f{loss}")
        assert result.status == "complete"
        charge, inserted = lithium_charge_balance(result.series.rows)
        assert charge > 0.0
        assert abs(charge - inserted) <= 1e-8 * charge
        voltages[loss] = result.series.rows[-1]["voltage_V"]
        geometry = json.loads((tmp_path / f"f{loss}" / "geometry.json").read_text())
    assert geometry["detached_area_fraction"] == pytest.approx(0.5, abs=0.05)
    assert geometry["effective_parameters"]["contact_area_fraction"] < 0.55
    assert voltages[0.5] < voltages[0.0]
