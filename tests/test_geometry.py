"""The thin-film builder: physical groups by the documented names, exact layer volumes."""

from __future__ import annotations

import pytest
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.geometry import tags
from ssbfem.geometry.io import mesh_from_model
from ssbfem.geometry.thin_film import Layer, build_thin_film
import itertools

LAYERS = [
    Layer(tags.NEGATIVE_CC, 1.0, 2),
    Layer(tags.NEGATIVE, 2.0, 3, refine_end=True),
    Layer(tags.ELECTROLYTE, 3.62, 4, True, True),
    Layer(tags.POSITIVE, 8.08, 6, refine_start=True),
    Layer(tags.POSITIVE_CC, 0.5, 2),
]


@pytest.mark.parametrize("dimension", [1, 2, 3])
def test_groups_and_volumes(dimension):
    width = 5.0
    cm = mesh_from_model(
        MPI.COMM_WORLD, lambda: build_thin_film(LAYERS, dimension, width_um=width, in_plane_elements=2)
    )
    assert cm.dimension == dimension
    expected_facets = {
        tags.NEGATIVE_TERMINAL,
        tags.POSITIVE_TERMINAL,
        tags.NEGATIVE_INTERFACE,
        tags.POSITIVE_INTERFACE,
        "negative_current_collector|negative",
        "positive|positive_current_collector",
    }
    if dimension > 1:
        expected_facets.add(tags.LATERAL)
    assert set(cm.facet_names) == expected_facets
    assert set(cm.cell_names) == {layer.name for layer in LAYERS}
    fem = dolfinx.fem
    import ufl

    dx = ufl.Measure("dx", domain=cm.mesh, subdomain_data=cm.cell_tags)
    ds = ufl.Measure("ds", domain=cm.mesh, subdomain_data=cm.facet_tags)
    area = width ** (dimension - 1)
    for layer in LAYERS:
        volume = cm.mesh.comm.allreduce(fem.assemble_scalar(fem.form(1.0 * dx(cm.cell_names[layer.name]))))
        assert volume == pytest.approx(layer.thickness_um * area, rel=1e-12)
    for terminal in (tags.NEGATIVE_TERMINAL, tags.POSITIVE_TERMINAL):
        measure = cm.mesh.comm.allreduce(fem.assemble_scalar(fem.form(1.0 * ds(cm.facet_names[terminal]))))
        assert measure == pytest.approx(area, rel=1e-12)


def test_grading_puts_small_elements_at_the_electrolyte():
    cm = mesh_from_model(
        MPI.COMM_SELF,
        lambda: build_thin_film(
            [Layer(tags.ELECTROLYTE, 1.0, 2, True, True), Layer(tags.POSITIVE, 10.0, 10, refine_start=True)],
            1,
            grading=20.0,
        ),
    )
    x = sorted(cm.mesh.geometry.x[:, 0])
    sizes = [b - a for a, b in itertools.pairwise(x) if a >= 1.0 - 1e-12]
    assert sizes[-1] / sizes[0] == pytest.approx(20.0, rel=1e-6)
    assert sum(sizes) == pytest.approx(10.0, rel=1e-12)


def test_each_layer_is_described_by_its_config_section():
    """tags.SECTION_OF_LAYER names the config section each layer of a stack is built from: the
    layers' thicknesses (all different) are those of their sections."""
    from conftest import thin_film

    from ssbfem.runner import thin_film_layers
    from ssbfem.settings import validate

    settings = validate(
        thin_film(
            cell={
                "negative_current_collector": {"material": "Cu", "thickness_um": 1.0},
                "negative": {"thickness_um": 2.0},
                "positive_current_collector": {"material": "Pt", "thickness_um": 0.5},
            }
        )
    )
    layers = thin_film_layers(settings)
    assert [layer.name for layer in layers] == list(tags.LAYER_ORDER)
    thicknesses = [getattr(settings.cell, tags.SECTION_OF_LAYER[layer.name]).thickness_um for layer in layers]
    assert thicknesses == [layer.thickness_um for layer in layers] == [1.0, 2.0, 3.62, 8.08, 0.5]


def _builder_configs() -> dict[str, dict]:
    """A small cell of every builder: thin film in 1, 2 and 3D, a stack of units, patchy contact,
    interdigitated plates (2D) and pillars (3D), a composite cathode."""
    from conftest import thin_film
    from test_composite import COMPOSITE
    from test_interdigitated import PILLARS, interdigitated

    configs = {f"thin-film {d}D": thin_film(cell={"dimension": d}, mesh={"in_plane_elements": 2}) for d in (1, 2, 3)}
    configs["stack of 3"] = thin_film(
        cell={
            "units": 3,
            "negative_current_collector": {"material": "Cu", "thickness_um": 1.0},
            "negative": {"thickness_um": 2.0},
            "positive_current_collector": {"material": "Pt", "thickness_um": 0.5},
        }
    )
    configs["patchy contact"] = thin_film(
        cell={"dimension": 3, "contact": {"spot_radius_um": 1.0, "area_fraction": 0.2}}
    )
    configs["plates"] = interdigitated(dimension=2, shape="plate", height_um=3.0, **PILLARS)
    configs["pillars"] = interdigitated(dimension=3, aef=4.0, **PILLARS)
    configs["composite"] = thin_film(cell=COMPOSITE)
    return configs


@pytest.mark.parametrize("name", list(_builder_configs()))
def test_geometry_fractions_of_every_builder(name):
    """geometry.json's volume fractions: of the whole mesh (per cell group) and of the positive
    electrode layer (per phase), each in [0, 1] and each set summing to 1."""
    import ufl

    from ssbfem.config import resolve
    from ssbfem.microstructure import geometry_summary
    from ssbfem.runner import build_mesh
    from ssbfem.settings import validate

    cfg = resolve(_builder_configs()[name])
    cm = build_mesh(cfg)
    footprint = 1.0  # a 1D mesh's (the stack of units has no single positive terminal)
    if cm.dimension > 1:  # the positive terminal's face
        ds = ufl.Measure("ds", domain=cm.mesh, subdomain_data=cm.facet_tags)
        form = dolfinx.fem.form(1.0 * ds(cm.facet_names[tags.POSITIVE_TERMINAL]))
        footprint = cm.mesh.comm.allreduce(dolfinx.fem.assemble_scalar(form))
    summary = geometry_summary(cm, footprint, validate(cfg).cell)
    for key in ("volume_fractions", "electrode_volume_fractions"):
        fractions = summary[key]
        assert all(-1e-12 <= f <= 1.0 + 1e-12 for f in fractions.values()), (key, fractions)
        assert sum(fractions.values()) == pytest.approx(1.0, abs=1e-9), (key, fractions)


@pytest.mark.parametrize("flat", [False, True])
def test_worst_quality_of_one_tetrahedron(flat):
    """A regular tetrahedron (four corners of a cube) has Gmsh's minSICN quality 1; one whose
    apex lies 1e-4 above its base's plane is below the flat-element threshold."""
    import gmsh
    import numpy as np

    from ssbfem.geometry.io import FLAT_ELEMENT_QUALITY, worst_quality

    corners = (
        [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0.3, 0.3, 1e-4)] if flat else [(0, 0, 0), (1, 1, 0), (0, 1, 1), (1, 0, 1)]
    )
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        volume = gmsh.model.addDiscreteEntity(3)
        gmsh.model.mesh.addNodes(3, volume, [1, 2, 3, 4], np.ravel(corners))
        gmsh.model.mesh.addElementsByType(volume, 4, [1], [1, 2, 3, 4])
        quality = worst_quality()
    finally:
        gmsh.finalize()
    if flat:
        assert 0.0 < quality < FLAT_ELEMENT_QUALITY
    else:
        assert quality == pytest.approx(1.0, rel=1e-12)
