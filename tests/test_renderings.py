"""PNG renderings of a run's fields (ssbfem.renderings): written for 2D and 3D runs at the first and
last snapshot, coloured by the facet means of the field, off with output.renderings = false, none
for 1D, and the same picture data from 2 ranks as from 1."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import thin_film
from mpi4py import MPI

from test_composite import COMPOSITE  # a 3D composite cathode of a few particles

from ssbfem.config import resolve
from ssbfem import renderings
from ssbfem.renderings import Renderer
from ssbfem.runner import run

FOOTPRINT_UM2 = 5.0 * 5.0
INITIAL_STOICHIOMETRY = 0.51  # of the thin-film cell's positive electrode (tests/conftest.py)


class Recorder(Renderer):
    """A renderer that keeps what it drew (rank 0), the facet areas and the run's current."""

    def __init__(self, model, directory, mechanics=None):
        super().__init__(model, directory, mechanics)
        self.drawn: dict[str, list] = {}
        self.areas: list[np.ndarray] = []

    def render(self, t, values, which):
        drawn = super().render(t, values, which)
        self.drawn[which] = drawn
        areas = [self.comm.gather(s.area, root=0) for s in self.sources]
        self.areas = [np.concatenate(a) for a in areas] if self.comm.rank == 0 else []
        return drawn


def _composite_raw(**output) -> dict:
    raw = thin_film(
        cell=COMPOSITE,
        mesh={"degree": 1},
        solver={"initial_step_s": 1.0},
        experiment={"steps": ["Discharge at 1C for 10 seconds"]},
        output={"fields": False, "plot": False, **output},
    )
    del raw["cell"]["nominal_capacity_mAh_cm2"]  # 1C from the active volume
    return raw


def _recorded_run(comm, directory):
    """Run the composite with a Recorder beside the run's own renderer; returns the result and it."""
    recorder = _LazyRecorder(directory / "recorded")
    return run(resolve(_composite_raw()), directory / "run", comm, observers=[recorder]), recorder


class _LazyRecorder(Recorder):
    """A Recorder that takes the model from the simulation at its start."""

    def __init__(self, directory):
        self.directory, self.pending = directory, True

    def on_start(self, sim):
        if self.pending:
            Recorder.__init__(self, sim.model, self.directory)
            self.pending = False


@pytest.fixture(scope="module")
def composite(tmp_path_factory):
    directory = MPI.COMM_WORLD.bcast(tmp_path_factory.mktemp("renderings"), root=0)
    return (*_recorded_run(MPI.COMM_WORLD, directory), directory)


def test_a_composite_run_writes_its_renderings(composite):
    result, _, directory = composite
    assert result.status == "complete"
    names = sorted(p.name for p in (directory / "run" / "fields").glob("*.png"))
    assert names == [f"{f}_{w}.png" for f in ("reaction_current", "stoichiometry") for w in ("first", "last")]
    assert all((directory / "run" / "fields" / n).stat().st_size > 10_000 for n in names)


def test_colours_are_the_facet_means_of_the_fields(composite):
    result, recorder, _ = composite
    if MPI.COMM_WORLD.rank != 0:
        return
    for which in ("first", "last"):
        for picture, figure in recorder.drawn[which]:
            shown = np.asarray(figure.axes[0].collections[0].get_array())
            assert shown.min() == pytest.approx(picture.values.min(), abs=1e-12)
            assert shown.max() == pytest.approx(picture.values.max(), abs=1e-12)
            assert len(shown) == len(picture.polygons) > 100
    first = {p.name: p.values for p, _ in recorder.drawn["first"]}
    # at rest before the discharge: the initial stoichiometry, no reaction current
    assert np.allclose(first["stoichiometry"], INITIAL_STOICHIOMETRY, rtol=0.0, atol=1e-12)
    assert np.allclose(first["reaction_current"], 0.0, rtol=0.0, atol=1e-12)
    last = {p.name: p.values for p, _ in recorder.drawn["last"]}
    # the charge balance: the interface current over the footprint is the cell current (1C, A/m2)
    area = recorder.areas[0]  # um2
    current = result.series.rows[-1]["current_A_m2"]
    assert -np.dot(last["reaction_current"], area) / FOOTPRINT_UM2 == pytest.approx(current, rel=1e-6)
    # a discharge fills the particles from their surfaces: the surface mean rises, stays in (0, 1)
    stoichiometry = recorder.areas[1]
    assert np.dot(last["stoichiometry"], stoichiometry) / stoichiometry.sum() > INITIAL_STOICHIOMETRY
    assert 0.0 < last["stoichiometry"].min() < last["stoichiometry"].max() < 1.0


def test_setting_turns_renderings_off_and_1d_writes_none(tmp_path):
    directory = MPI.COMM_WORLD.bcast(tmp_path, root=0)
    two_d = thin_film(cell={"dimension": 2}, experiment={"steps": ["Discharge at 1C for 20 seconds"]})
    for name, raw in {
        "off": {**two_d, "output": {"fields": True, "plot": False, "renderings": False}},
        "1d": thin_film(experiment={"steps": ["Discharge at 1C for 20 seconds"]}, output={"fields": True}),
        "on": {**two_d, "output": {"fields": True, "plot": False}},
    }.items():
        assert run(resolve(raw), directory / name, MPI.COMM_WORLD).status == "complete"
    assert not list((directory / "off" / "fields").glob("*.png"))
    assert not list((directory / "1d" / "fields").glob("*.png"))
    on = sorted(p.name for p in (directory / "on" / "fields").glob("*.png"))
    assert on == [f"{f}_{w}.png" for f in ("reaction_current", "stoichiometry") for w in ("first", "last")]


def test_a_failing_rendering_does_not_stop_the_run(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no picture")

    monkeypatch.setattr(renderings, "draw", broken)
    directory = MPI.COMM_WORLD.bcast(tmp_path, root=0)
    raw = thin_film(cell={"dimension": 2}, experiment={"steps": ["Discharge at 1C for 20 seconds"]})
    raw["output"] = {"fields": True, "plot": False}
    assert run(resolve(raw), directory / "run", MPI.COMM_WORLD).status == "complete"
    assert not list((directory / "run" / "fields").glob("*.png"))
    if MPI.COMM_WORLD.rank == 0:
        log = (directory / "run" / "run.log").read_text()
        assert "renderings of the fields stopped: RuntimeError: no picture" in log


def test_a_resumed_run_keeps_its_first_renderings(tmp_path):
    """A restart loads the renderer's state: its first pictures were drawn before the checkpoint."""

    class Resumed(Renderer):
        def __init__(self, directory):
            self.directory = directory

        def on_start(self, sim):
            Renderer.__init__(self, sim.model, self.directory)
            self.load_state({"rendered_first": True})

    directory = MPI.COMM_WORLD.bcast(tmp_path, root=0)
    raw = thin_film(cell={"dimension": 2}, experiment={"steps": ["Discharge at 1C for 20 seconds"]})
    assert run(resolve(raw), None, MPI.COMM_WORLD, observers=[Resumed(directory)]).status == "complete"
    assert sorted(p.name for p in directory.glob("*.png")) == ["reaction_current_last.png", "stoichiometry_last.png"]


def _canonical(picture) -> tuple[np.ndarray, np.ndarray]:
    """Polygons (their corners sorted) and values in an order independent of the partition."""
    corners = np.sort(np.round(picture.polygons, 9).reshape(len(picture.polygons), -1, 3), axis=1)
    flat = corners.reshape(len(corners), -1)
    order = np.lexsort(flat.T[::-1])
    return flat[order], picture.values[order]


@pytest.mark.mpi
def test_two_ranks_draw_the_picture_data_of_one(composite):
    comm = MPI.COMM_WORLD
    _, recorder, directory = composite
    if comm.rank != 0:
        return
    if comm.size == 1:
        pytest.skip("compares a run on 2 ranks with one on 1")
    _, serial = _recorded_run(MPI.COMM_SELF, directory / "serial")
    for which in ("first", "last"):
        for (mine, _), (theirs, _) in zip(recorder.drawn[which], serial.drawn[which], strict=True):
            assert mine.name == theirs.name
            p0, v0 = _canonical(mine)
            p1, v1 = _canonical(theirs)
            np.testing.assert_array_equal(p0, p1)
            scale = max(np.abs(v1).max(), 1e-3)
            np.testing.assert_allclose(v0, v1, rtol=0.0, atol=1e-6 * scale)


def _cube_surface() -> np.ndarray:
    """The unit cube's 12 boundary triangles, corners anticlockwise seen from outside, (12, 3, 3)."""
    triangles = []
    for axis in range(3):
        u, w = (axis + 1) % 3, (axis + 2) % 3
        for side in (0.0, 1.0):
            square = np.zeros((4, 3))
            square[:, axis] = side
            square[:, u] = [0, 1, 1, 0]
            square[:, w] = [0, 0, 1, 1]  # anticlockwise about +axis
            if side == 0.0:
                square = square[::-1]
            triangles += [square[[0, 1, 2]], square[[0, 2, 3]]]
    return np.array(triangles)


def test_a_large_picture_draws_the_facets_facing_the_viewer(tmp_path):
    """Above CULL_ABOVE facets only those turned to the viewer are drawn: of a cube seen from
    +x, +y, +z (x up), its three faces x = 1, y = 1, z = 1; the colour scale still spans all values."""
    cube = _cube_surface()
    outward = np.cross(cube[:, 1] - cube[:, 0], cube[:, 2] - cube[:, 0])
    assert np.allclose(np.einsum("ij,ij->i", outward, cube.mean(axis=1) - 0.5), 0.5)  # all outward
    values = np.arange(12.0)
    picture = renderings.Picture("cube", "Index (1)", cube, values)
    figure = renderings.draw(picture, tmp_path / "cube.png", "cube", cull_above=0)
    collection = figure.axes[0].collections[0]
    far = np.isclose(cube.mean(axis=1), 1.0).any(axis=1)  # on the faces x = 1, y = 1 or z = 1
    assert far.sum() == 6
    assert sorted(np.asarray(collection.get_array())) == list(values[far])
    assert (collection.norm.vmin, collection.norm.vmax) == (0.0, 11.0)
    drawn_all = renderings.draw(picture, tmp_path / "all.png", "cube", cull_above=12).axes[0].collections[0]
    assert len(drawn_all.get_array()) == 12
