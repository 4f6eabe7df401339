"""Effective parameters of a composite electrode layer against structures with known answers: a
straight channel, a dilute cubic array of spheres (Maxwell), layers (series and parallel bounds)."""

from __future__ import annotations

import dataclasses
import math

import gmsh
import numpy as np
import pytest
import tomli_w
from mpi4py import MPI

from ssbfem.effective import (
    EffectiveParameters,
    bruggeman_parameters,
    effective_parameters,
    layer_bounds,
    read_parameters,
    write_parameters,
)
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.geometry.composite import build_composite
from ssbfem.geometry.io import load_mesh, mesh_from_model, write_msh
from ssbfem.geometry.packing import Packing
from ssbfem.microstructure import mixed_conductivity, slab_region

E, P, CC = tags.ELECTROLYTE, tags.POSITIVE, tags.POSITIVE_CC

#: A 1 um separator, a 4 um composite layer and a 0.5 um collector, 2 x 2 um in plane; a straight
#: 1 x 1 um electrolyte channel along x through the active material, and a 0.3 um cubic pore in it.
CHANNEL = [
    (E, (0.0, 0.0, 0.0, 1.0, 2.0, 2.0)),
    (P, (1.0, 0.0, 0.0, 4.0, 2.0, 2.0)),
    (CC, (5.0, 0.0, 0.0, 0.5, 2.0, 2.0)),
    (E, (1.0, 0.5, 0.5, 4.0, 1.0, 1.0)),
    (None, (2.5, 0.1, 0.1, 0.3, 0.3, 0.3)),
]

#: Layers normal to x in the composite [1, 5]: electrolyte 0.5, active 1, electrolyte 1.5, active 1 um.
LAYERS = [
    (E, (0.0, 0.0, 0.0, 1.0, 2.0, 2.0)),
    (E, (1.0, 0.0, 0.0, 0.5, 2.0, 2.0)),
    (P, (1.5, 0.0, 0.0, 1.0, 2.0, 2.0)),
    (E, (2.5, 0.0, 0.0, 1.5, 2.0, 2.0)),
    (P, (4.0, 0.0, 0.0, 1.0, 2.0, 2.0)),
    (CC, (5.0, 0.0, 0.0, 0.5, 2.0, 2.0)),
]


def _build_boxes(pieces: list, size: float) -> None:
    """Boxes (x, y, z, dx, dy, dz) of cell groups (None: a pore, left unmeshed), later ones cut into
    earlier ones; facet groups electrolyte|positive, positive|positive_current_collector and
    positive_terminal as the composite builder names them."""
    occ = gmsh.model.occ
    gmsh.model.add("boxes")
    boxes = [(3, occ.addBox(*box)) for _, box in pieces]
    _, children = occ.fragment(boxes[:1], boxes[1:])
    phase = {tag: name for (name, _), outs in zip(pieces, children, strict=True) for _, tag in outs}
    occ.remove([(3, t) for t, name in phase.items() if name is None], recursive=True)
    occ.synchronize()
    phase = {t: name for t, name in phase.items() if name is not None}
    for name in sorted(set(phase.values())):
        gmsh.model.addPhysicalGroup(3, [t for t, n in phase.items() if n == name], name=name)
    x_end = max(box[0] + box[3] for _, box in pieces)
    groups: dict[str, list[int]] = {}
    for _, surface in gmsh.model.getEntities(2):
        volumes = gmsh.model.getAdjacencies(2, surface)[0]
        sides = {phase[v] for v in volumes}
        if sides == {E, P}:
            groups.setdefault(tags.POSITIVE_INTERFACE, []).append(surface)
        elif sides == {P, CC}:
            groups.setdefault(tags.interface_name(P, CC), []).append(surface)
        elif len(volumes) == 1 and gmsh.model.getBoundingBox(2, surface)[0] > x_end - 1e-9:
            groups.setdefault(tags.POSITIVE_TERMINAL, []).append(surface)
    for name, members in groups.items():
        gmsh.model.addPhysicalGroup(2, members, name=name)
    gmsh.option.setNumber("Mesh.MeshSizeMax", size)
    gmsh.model.mesh.generate(3)


def _boxes(pieces: list, size: float):
    return mesh_from_model(MPI.COMM_WORLD, lambda: _build_boxes(pieces, size))


@pytest.mark.mpi
def test_straight_channel():
    """The channel conducts as a prism: tau = 1 along it (the linear potential is exact on any
    mesh), nothing across. Volumes, areas and the contact fraction are those of the boxes."""
    params = effective_parameters(_boxes(CHANNEL, 0.4), mesh_name="channel")
    assert params.bounds_um == (1.0, 5.0)  # the separator's and the collector's faces
    layer = 4.0 * 2.0 * 2.0
    assert params.volume_fraction_electrolyte == pytest.approx(4.0 / layer, rel=1e-12)
    assert params.volume_fraction_pores == pytest.approx(0.3**3 / layer, rel=1e-9)
    assert params.volume_fraction_active == pytest.approx(1 - (4.0 + 0.3**3) / layer, rel=1e-12)
    tau_x, tau_y, tau_z = params.tortuosity_factor_electrolyte
    assert tau_x == pytest.approx(1.0, abs=1e-8)
    assert math.isinf(tau_y) and math.isinf(tau_z)
    assert params.relative_conductivity("electrolyte")[1:] == (0.0, 0.0)
    # The active material surrounds the channel: finite across it; along x the pore blocks a little.
    tau_s = params.tortuosity_factor_active
    assert 1.0 < tau_s[0] < 1.01
    assert 1.1 < tau_s[1] < 1.4
    assert tau_s[2] == pytest.approx(tau_s[1], rel=0.01)  # the structure is symmetric in y and z
    # Interface: the channel's 4 walls (16 um2) and the active face on the separator (3 um2); the
    # particle surface also touches the collector (3 um2) and the pore (6 x 0.09 um2).
    assert params.specific_interface_area_1_m == pytest.approx(19.0 / layer * 1e6, rel=1e-10)
    assert params.contact_area_fraction == pytest.approx(19.0 / (19.0 + 3.0 + 6 * 0.09), rel=1e-10)
    assert params.percolating_fraction_electrolyte == 1.0
    assert params.percolating_fraction_active == 1.0


@pytest.mark.mpi
@pytest.mark.parametrize("phi", [0.05, 0.1])
def test_maxwell_array_of_spheres(phi):
    """One insulating sphere in a unit cube (the unit cell of a simple-cubic array; its faces are
    symmetry planes): sigma_eff/sigma0 = 2 eps_m/(3 - eps_m) (Maxwell 1873; Rayleigh's correction
    is O(phi^(10/3)), below 1e-4 here). At an element size of 0.07 um at the sphere (0.14 away) the
    conductivity is 0.41 % (phi 0.05) and 0.56 % (phi 0.1) high, converging with an order rising
    from 1.5 to 1.9: 1.15, 0.67, 0.41, 0.23, 0.12 % at h = 0.2, 0.1, 0.07, 0.05, 0.035 (phi 0.05).
    It is high, never low: the finite-element potential minimises the dissipated power over a
    subspace."""
    radius = (3 * phi / (4 * math.pi)) ** (1 / 3)
    packing = Packing((1.0, 1.0, 1.0), np.array([[0.5, 0.5, 0.5]]), np.array([radius]))
    cellmesh = mesh_from_model(MPI.COMM_WORLD, lambda: build_composite(packing, 0.0, 0.0, 0.07))
    params = effective_parameters(cellmesh, mesh_name="sphere")
    assert params.bounds_um == (0.0, 1.0)
    eps = params.volume_fraction_electrolyte  # of the sphere as meshed
    assert 1 - eps == pytest.approx(phi, rel=0.05)
    maxwell = 2 * eps / (3 - eps)
    relative = np.array(params.relative_conductivity("electrolyte"))
    assert np.all(relative / maxwell - 1 > 0)
    assert np.all(relative / maxwell - 1 < 0.007)
    assert relative == pytest.approx(relative[0], rel=1e-3)  # isotropic
    assert params.tortuosity_factor_electrolyte[0] == pytest.approx((3 - eps) / 2, rel=0.007)
    # The sphere's surface, less the chordal loss of the flat facets; all of it touches electrolyte.
    assert 0.97 < params.specific_interface_area_1_m / (4 * math.pi * radius**2 * 1e6) < 1.0
    assert params.contact_area_fraction == pytest.approx(1.0, abs=1e-12)
    assert params.percolating_fraction_active == 0.0
    assert all(math.isinf(t) for t in params.tortuosity_factor_active)


@pytest.mark.mpi
def test_layers_give_the_series_and_parallel_bounds():
    """Layers normal to x. One conducting phase alone: the parallel bound along the layers
    (sigma_eff = eps sigma0, tau = 1) and nothing across them (the layers do not percolate). Both
    phases conducting (sigma = 1 and 0.1 S/m, :func:`mixed_conductivity`): the harmonic mean across
    the layers, the arithmetic mean along them, exact on any mesh (the potential is piecewise
    linear)."""
    cellmesh = _boxes(LAYERS, 0.5)
    # Without bounds the layer starts at the first active material: the electrolyte layer on the
    # separator is indistinguishable from it.
    assert layer_bounds(cellmesh) == (1.5, 5.0)
    params = effective_parameters(cellmesh, bounds=(1.0, 5.0), mesh_name="layers")
    assert params.volume_fraction_active == pytest.approx(0.5, rel=1e-12)
    assert params.volume_fraction_electrolyte == pytest.approx(0.5, rel=1e-12)
    for phase in ("active", "electrolyte"):
        tau = getattr(params, f"tortuosity_factor_{phase}")
        assert math.isinf(tau[0])
        assert tau[1:] == pytest.approx((1.0, 1.0), abs=1e-8)
    # Only the layer on the separator (0.5 of 2 um of electrolyte) and the one on the collector
    # (1 of 2 um of active material) are joined to their sources.
    assert params.percolating_fraction_electrolyte == pytest.approx(0.25, rel=1e-12)
    assert params.percolating_fraction_active == pytest.approx(0.5, rel=1e-12)
    assert params.specific_interface_area_1_m == pytest.approx(3 * 4.0 / 16.0 * 1e6, rel=1e-10)
    assert params.contact_area_fraction == pytest.approx(12.0 / 16.0, rel=1e-10)

    box = slab_region(cellmesh, 0, (1.0, 5.0))
    sigma = {E: 1.0, P: 0.1}
    across = mixed_conductivity(cellmesh, sigma, axis=0, box=box)
    along = [mixed_conductivity(cellmesh, sigma, axis=k, box=box) for k in (1, 2)]
    assert across == pytest.approx(1 / (0.5 / 1.0 + 0.5 / 0.1), rel=1e-9)
    assert along == pytest.approx([0.5 * 1.0 + 0.5 * 0.1] * 2, rel=1e-9)


def test_bruggeman_of_ren2023():
    """Ren et al. (2023), Table 3 and figure 9d: LLZO (8e-4 S/cm) at eps = 0.25 in a 75 vol%
    NMC811 cathode: 5e-6 S/cm with beta_tort 2.31 and beta_GB 1.39, 3.3e-5 S/cm without the grain
    boundaries, 1e-4 S/cm with beta_tort 1.5."""
    sigma0 = 8e-4
    state_of_the_art = bruggeman_parameters({"electrolyte": 0.25}, beta_tort=2.31, beta_gb=1.39)["electrolyte"]
    assert sigma0 * state_of_the_art.relative_conductivity == pytest.approx(4.737e-6, rel=1e-3)
    assert state_of_the_art.relative_conductivity == pytest.approx(
        0.25 / state_of_the_art.tortuosity_factor * state_of_the_art.grain_boundary_factor, rel=1e-12
    )
    no_gb = bruggeman_parameters({"electrolyte": 0.25}, beta_tort=2.31)["electrolyte"]
    assert sigma0 * no_gb.relative_conductivity == pytest.approx(3.253e-5, rel=1e-3)
    both = bruggeman_parameters({"electrolyte": 0.25, "active": 0.75}, beta_tort={"electrolyte": 1.5, "active": 1.5})
    assert sigma0 * both["electrolyte"].relative_conductivity == pytest.approx(1e-4, rel=1e-12)
    assert both["electrolyte"].tortuosity_factor == pytest.approx(2.0, rel=1e-12)  # 0.25^-0.5
    with pytest.raises(InputError) as info:
        bruggeman_parameters({"active": 1.2})
    assert info.value.key == "volume_fraction_active"


@pytest.mark.mpi
def test_cli_writes_the_parameter_file(tmp_path, capsys):
    """`ssbfem effective MESH -o FILE`: the file read back holds the channel's known values."""
    from ssbfem.cli import main

    comm = MPI.COMM_WORLD
    tmp_path = comm.bcast(tmp_path, root=0)
    msh, out = tmp_path / "channel.msh", tmp_path / "channel.toml"
    if comm.rank == 0:
        write_msh(lambda: _build_boxes(CHANNEL, 0.4), msh)
    comm.barrier()
    assert main(["effective", str(msh), "-o", str(out)]) == 0
    comm.barrier()
    params = read_parameters(out)
    assert params.mesh == "channel.msh"
    assert params.bounds_um == (1.0, 5.0)
    assert params.specific_interface_area_1_m == pytest.approx(19.0 / 16.0 * 1e6, rel=1e-10)
    assert params.tortuosity_factor_electrolyte[0] == pytest.approx(1.0, abs=1e-8)
    assert math.isinf(params.tortuosity_factor_electrolyte[1])
    assert out.read_text().startswith("# Effective parameters of the composite electrode layer of channel.msh")
    if comm.rank == 0:
        printed = capsys.readouterr().out
        assert "contact area fraction 0.8429" in printed
        assert f"wrote {out}" in printed
    assert params == effective_parameters(load_mesh(msh), mesh_name="channel.msh")


VALID = EffectiveParameters(
    mesh="m.msh",
    bounds_um=(10.0, 60.0),
    volume_fraction_active=0.6,
    volume_fraction_electrolyte=0.35,
    volume_fraction_pores=0.05,
    tortuosity_factor_active=(2.5, 2.4, 2.4),
    tortuosity_factor_electrolyte=(3.0, math.inf, 2.8),
    specific_interface_area_1_m=4.2e5,
    contact_area_fraction=0.8,
    percolating_fraction_active=0.98,
    percolating_fraction_electrolyte=0.9,
)


def test_parameter_file_round_trip(tmp_path):
    write_parameters(VALID, tmp_path / "p.toml")
    assert read_parameters(tmp_path / "p.toml") == VALID


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        ({"volume_fraction_active": 1.5}, "volume_fraction_active", "between 0 and 1"),
        ({"specific_interface_area_1_m": None}, "specific_interface_area_1_m", "missing"),
        ({"tortuosity_factor_electrolyte": [1.0, 2.0]}, "tortuosity_factor_electrolyte", "list of 3"),
        ({"tortuosity_factor_active": [0.5, 2.0, 2.0]}, "tortuosity_factor_active", "at least 1"),
        ({"contact_area_fraction": "high"}, "contact_area_fraction", "number"),
        ({"specific_interface_area_1_m": math.inf}, "specific_interface_area_1_m", "finite"),
        ({"porosity": 0.1}, "porosity", "unknown key"),
        ({"volume_fraction_pores": 0.2}, "volume_fraction_pores", "sum to 1.15"),
        ({"bounds_um": [5.0, 1.0]}, "bounds_um", "below"),
    ],
)
def test_bad_parameter_file_names_the_key(tmp_path, change, key, reason):
    data = {**dataclasses.asdict(VALID), **change}
    data = {k: v for k, v in data.items() if v is not None}
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(data))
    with pytest.raises(InputError, match=reason) as info:
        read_parameters(path)
    assert info.value.key == key


def test_unreadable_parameter_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("volume_fraction_active = = 0.5\n")
    with pytest.raises(InputError, match="not TOML") as info:
        read_parameters(path)
    assert info.value.key == str(path)
    with pytest.raises(InputError, match="no such file"):
        read_parameters(tmp_path / "missing.toml")
