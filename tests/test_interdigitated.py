"""Interdigitated cells: the meshed geometry against its analytic areas and volumes, the flat
limit against the thin-film cell, and charge conservation in a pillar cell."""

from __future__ import annotations

import math

import pytest
import ufl
from conftest import merge, simulate, thin_film
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.cli import main
from ssbfem.config import resolve
from ssbfem.constants import FARADAY
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.geometry.interdigitated import design_from_config
from ssbfem.microstructure import geometry_summary
from ssbfem.model import interface_measure, make_submesh
from ssbfem.runner import build_mesh, one_c_current
from ssbfem.settings import validate
from ssbfem.simulation import lithium_charge_balance

fem = dolfinx.fem

#: A small pillar cell (micrometres): 1 um Li above the tips, 0.5 um coating, 1 um base film.
PILLARS = {"pitch_um": 4.0, "width_um": 2.0, "mesh_size_um": 1.0, "interface_mesh_size_um": 0.5}


def interdigitated(dimension: int = 3, layers: dict | None = None, **section) -> dict:
    """The reference cell's materials in an interdigitated cell; `section` sets [cell.interdigitated]."""
    raw = thin_film(
        cell={
            "architecture": "interdigitated",
            "dimension": dimension,
            "interdigitated": section,
            **(
                layers
                or {
                    "negative": {"thickness_um": 1.0},
                    "electrolyte": {"thickness_um": 0.5},
                    "positive": {"thickness_um": 1.0},
                }
            ),
        }
    )
    del raw["cell"]["nominal_capacity_mAh_cm2"]  # 1C from the positive volume, pillars included
    return raw


class Measured:
    """Areas and volumes of a built cell mesh, per footprint area."""

    def __init__(self, cfg: dict):
        cm = build_mesh(cfg)
        self.cm = cm
        ds = ufl.Measure("ds", domain=cm.mesh, subdomain_data=cm.facet_tags)
        dx = ufl.Measure("dx", domain=cm.mesh, subdomain_data=cm.cell_tags)
        dS = interface_measure(
            cm, [tags.POSITIVE_INTERFACE, tags.NEGATIVE_INTERFACE], make_submesh(cm, cm.cells(tags.ELECTROLYTE))
        )
        total = lambda form: MPI.COMM_WORLD.allreduce(fem.assemble_scalar(fem.form(form)))
        self.footprint = total(1.0 * ds(cm.facet_names[tags.POSITIVE_TERMINAL]))
        self.negative_terminal = total(1.0 * ds(cm.facet_names[tags.NEGATIVE_TERMINAL]))
        self.area = {
            n: total(1.0 * dS(cm.facet_names[n])) / self.footprint
            for n in (tags.POSITIVE_INTERFACE, tags.NEGATIVE_INTERFACE)
        }
        self.thickness = {n: total(1.0 * dx(cm.cell_names[n])) / self.footprint for n in cm.cell_names}


@pytest.mark.mpi
def test_square_pillars_reach_the_target_aef():
    """AEF 4 asked for: the meshed electrolyte|positive area is 4 footprints (flat faces: exact)."""
    cfg = resolve(interdigitated(aef=4.0, **PILLARS))
    design = design_from_config(validate(cfg).cell)
    assert design.height_um == pytest.approx(3.0 * 4.0**2 / (4 * 2.0))  # (AEF - 1) p^2 / (4 w)
    m = Measured(cfg)
    assert m.footprint == pytest.approx(2.0**2, rel=1e-12)  # a quarter of the 4 x 4 um unit cell
    assert m.negative_terminal == pytest.approx(m.footprint, rel=1e-12)
    assert m.area[tags.POSITIVE_INTERFACE] == pytest.approx(4.0, rel=1e-9)
    # Positive volume: base film + pillar, w^2 h / p^2 per footprint; 1C follows from it.
    pillars = 2.0**2 * design.height_um / 4.0**2
    assert m.thickness[tags.POSITIVE] == pytest.approx(1.0 + pillars, rel=1e-9)
    pos = cfg["cell"]["positive"]
    capacity = FARADAY * pos["max_concentration_mol_m3"] * m.thickness[tags.POSITIVE] * 1e-6 * (1 - 0.51)
    assert one_c_current(validate(cfg).cell) == pytest.approx(capacity / 3600.0, rel=1e-9)
    # The uniform coating's outer surface is the pillar's offset at t = 0.5 um (Steiner): flat
    # faces, plus quarter cylinders on the edges and eighth spheres on the corners, whose facets
    # (chords of at most 0.5 um on arcs of radius t) fall short of them by (pi / 2n)^2 / 6 at most.
    p, w, h, t = 4.0, 2.0, design.height_um, 0.5
    flat = p * p - 4 * w * t - math.pi * t * t + 4 * w * (h - t)  # base ring, sides, tip
    curved = 2 * math.pi * t * (h - t) + 2 * math.pi * w * t + 2 * math.pi * t * t
    n = math.ceil(math.pi * t / 2 / 0.5)
    shortfall = (flat + curved - p * p * m.area[tags.NEGATIVE_INTERFACE]) / curved
    assert 0 < shortfall <= (math.pi / (2 * n)) ** 2 / 6


@pytest.mark.parametrize(
    ("shape", "dimension", "side_area"),
    [
        ("round", 3, lambda p, w, h: math.pi * w * h / p**2),
        ("plate", 2, lambda p, w, h: 2 * h / p),
        ("plate", 3, lambda p, w, h: 2 * h / p),
    ],
)
def test_meshed_aef_matches_the_analytic_one(shape, dimension, side_area):
    cfg = resolve(interdigitated(dimension, shape=shape, height_um=3.0, **PILLARS))
    design = design_from_config(validate(cfg).cell)
    aef = 1.0 + side_area(4.0, 2.0, 3.0)
    assert design.area_enhancement() == pytest.approx(aef, rel=1e-12)
    m = Measured(cfg)
    measured = m.area[tags.POSITIVE_INTERFACE]
    if shape == "plate":
        assert measured == pytest.approx(aef, rel=1e-9)
        assert m.thickness[tags.POSITIVE] == pytest.approx(design.positive_thickness_um(), rel=1e-9)
    else:
        # The quarter circle of radius 1 um is a polygon of n >= pi r / (2 x 0.5 um) chords: its
        # perimeter falls short by (pi / 2n)^2 / 6 at most (the pillar volume by twice that).
        n = math.ceil(math.pi * 1.0 / 2 / 0.5)
        shortfall = (math.pi / (2 * n)) ** 2 / 6
        assert 0 < aef - measured <= shortfall * (aef - 1)
        pillar = design.positive_thickness_um() - 1.0
        assert 0 < design.positive_thickness_um() - m.thickness[tags.POSITIVE] <= 2 * shortfall * pillar


def test_flat_array_is_the_thin_film():
    """AEF 1 (no pillars): same mesh volumes and areas as the planar film in 3D, and in 2D the same
    discharge curve as the thin-film builder with the same layers (1C, to 3.0 V). The reference
    leaves the Li unmeshed: its ohmic drop, 2 um / 1e7 S/m x 2 A/m2 < 1e-12 V, is not seen."""
    layers = {"negative": {"thickness_um": 2.0}}  # reference electrolyte 3.62 um, positive 8.08 um
    m = Measured(resolve(interdigitated(3, layers, pitch_um=2.0, width_um=1.0, height_um=0.0)))
    assert m.area[tags.POSITIVE_INTERFACE] == pytest.approx(1.0, rel=1e-12)
    assert m.area[tags.NEGATIVE_INTERFACE] == pytest.approx(1.0, rel=1e-12)
    for name, thickness in ((tags.NEGATIVE, 2.0), (tags.ELECTROLYTE, 3.62), (tags.POSITIVE, 8.08)):
        assert m.thickness[name] == pytest.approx(thickness, rel=1e-12), name

    flat = interdigitated(
        2, layers, shape="plate", pitch_um=2.0, width_um=1.0, aef=1.0, mesh_size_um=1.0, interface_mesh_size_um=0.15
    )
    flat["cell"]["nominal_capacity_mAh_cm2"] = 0.208333
    # Both runs land on the same times (snapshot times end steps), where their voltages are
    # compared without interpolating between points that the two step sequences put apart.
    landed = {"field_times_s": [10.0 * k for k in range(1, 200)]}
    merge(flat, {"output": landed})
    reference, result = simulate(thin_film(output=landed)), simulate(flat)
    voltages = [{round(r["time_s"], 6): r["voltage_V"] for r in run.series.rows} for run in (reference, result)]
    common = sorted(set(voltages[0]) & set(voltages[1]) & {round(t, 6) for t in landed["field_times_s"]})
    assert len(common) > 150  # the discharge ends near 1950 s
    assert max(abs(voltages[0][t] - voltages[1][t]) for t in common) <= 1e-3
    q, q_ref = (r.series.rows[-1]["capacity_mAh_cm2"] for r in (result, reference))
    assert q == pytest.approx(q_ref, rel=1e-4)


@pytest.mark.mpi
def test_pillar_cell_conserves_charge_and_spreads_the_current():
    """A short 1C discharge of an AEF 4 pillar cell: charge passed = F x Li inserted, and the
    interface current density is the footprint's over the AEF (a planar cell's is the footprint's)."""
    raw = interdigitated(aef=4.0, **PILLARS)
    raw["experiment"] = {"steps": ["Discharge at 1C for 1 minute"]}
    raw["mesh"] = {"degree": 1}
    result = simulate(raw)
    charge, inserted = lithium_charge_balance(result.series.rows)
    assert charge > 0.0
    assert abs(charge - inserted) <= 1e-8 * charge
    model = result.simulation.model
    cm = model.cellmesh
    dS = interface_measure(cm, [tags.POSITIVE_INTERFACE, tags.NEGATIVE_INTERFACE], model.fields["phi_e"].submesh)
    interface = dS(cm.facet_names[tags.POSITIVE_INTERFACE])
    total = lambda form: cm.mesh.comm.allreduce(
        fem.assemble_scalar(fem.form(form * interface, entity_maps=model.entity_maps))
    )
    aef = total(1.0) / model.terminal_area
    assert aef == pytest.approx(4.0, rel=1e-9)
    footprint_current = result.series.rows[-1]["current_A_m2"]
    assert footprint_current == pytest.approx(one_c_current(validate(raw).cell), rel=1e-6)
    mean_interface_current = -total(model.q["j:positive"]) / total(1.0)  # j_pos: anodic positive
    assert mean_interface_current == pytest.approx(footprint_current / aef, rel=1e-6)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"aef": 0.5}, "cell.interdigitated.aef"),
        ({"aef": 4.0, "height_um": 3.0}, "cell.interdigitated.height_um"),
        ({"width_um": 3.5, "aef": 4.0}, "cell.interdigitated.width_um"),
        ({"shape": "round", "aef": 4.0, "dimension": 2}, "cell.dimension"),
        ({"aef": 4.0, "negative": {}}, "cell.negative.thickness_um"),
        ({"shape": "hexagon", "aef": 4.0}, "cell.interdigitated.shape"),
    ],
)
def test_bad_input_names_the_key(change, key):
    change = dict(change)
    dimension = change.pop("dimension", 3)
    raw = interdigitated(dimension, **PILLARS)
    if "negative" in change:
        raw["cell"]["negative"] = change.pop("negative")
    raw["cell"]["interdigitated"].update(change)
    with pytest.raises(InputError) as info:
        build_mesh(resolve(raw))
    assert info.value.key == key


def test_cli_meshes_and_rejects(tmp_path, capsys):
    from ssbfem.config import to_toml

    raw = interdigitated(aef=3.0, **PILLARS)
    (tmp_path / "cell.toml").write_text(to_toml(raw))
    assert main(["mesh", str(tmp_path / "cell.toml"), "-o", str(tmp_path / "cell.msh")]) == 0
    assert "$PhysicalNames" in (tmp_path / "cell.msh").read_text()
    del raw["cell"]["interdigitated"]
    (tmp_path / "bad.toml").write_text(to_toml(raw))
    assert main(["mesh", str(tmp_path / "bad.toml")]) == 2
    assert "cell.interdigitated" in capsys.readouterr().err


def test_graded_coating_lies_between_the_uniform_ones():
    """A coating graded from 0.5 um (base, pillar foot) to 1 um (tips) leaves the positive
    interface alone and holds more electrolyte than a uniform 0.5 um one, less than a 1 um one."""
    plates = {**PILLARS, "pitch_um": 6.0, "shape": "plate", "height_um": 3.0}
    coating = {"negative": {"thickness_um": 1.0}, "positive": {"thickness_um": 1.0}}
    graded = Measured(
        resolve(interdigitated(2, {**coating, "electrolyte": {"thickness_um": 0.5}}, **plates, coating_top_um=1.0))
    )
    thin, thick = (
        Measured(resolve(interdigitated(2, {**coating, "electrolyte": {"thickness_um": t}}, **plates)))
        for t in (0.5, 1.0)
    )
    assert graded.area[tags.POSITIVE_INTERFACE] == pytest.approx(1.0 + 2 * 3.0 / 6.0, rel=1e-9)
    assert thin.thickness[tags.ELECTROLYTE] < graded.thickness[tags.ELECTROLYTE] < thick.thickness[tags.ELECTROLYTE]


def test_section_needs_the_architecture():
    raw = interdigitated(aef=4.0, **PILLARS)
    raw["cell"]["architecture"] = "thin-film"
    with pytest.raises(InputError) as info:
        resolve(raw)
    assert info.value.key == "cell.interdigitated"


def test_geometry_fractions_of_a_pillar_cell():
    """geometry.json's electrode volume fractions of an interdigitated cell: the positive,
    electrolyte and Li of the stack between the collectors, each in [0, 1], summing to 1; the
    positive's is the base film and pillars over the stack's height (flat faces: exact)."""
    cfg = resolve(interdigitated(aef=4.0, **PILLARS))
    cell = validate(cfg).cell
    m = Measured(cfg)
    fractions = geometry_summary(m.cm, m.footprint, cell)["electrode_volume_fractions"]
    assert all(0.0 <= f <= 1.0 for f in fractions.values())
    assert sum(fractions.values()) == pytest.approx(1.0, abs=1e-12)
    design = design_from_config(cell)
    stack = sum(m.thickness[n] for n in (tags.POSITIVE, tags.ELECTROLYTE, tags.NEGATIVE))
    assert stack == pytest.approx(1.0 + design.height_um + 0.5 + 1.0, rel=1e-9)  # base, pillars, coating, Li
    assert fractions[tags.POSITIVE] == pytest.approx((1.0 + 2.0**2 * design.height_um / 4.0**2) / stack, rel=1e-9)
