"""Composite cathodes: packing, Gmsh builder, percolation, effective conductivity, and a run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from mpi4py import MPI

from conftest import thin_film
from ssbfem.config import resolve
from ssbfem.constants import FARADAY
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.geometry.composite import build_composite
from ssbfem.geometry.io import mesh_from_model
from ssbfem.geometry.packing import Packing, grid_volume_fraction, pack_spheres, place_voids, violations
from ssbfem.microstructure import cell_volumes, effective_conductivity, utilisations
from ssbfem.runner import run
from ssbfem.simulation import lithium_charge_balance


def _mesh(packing: Packing, size: float, separator: float = 1.0, collector: float = 0.5):
    stats: dict = {}
    cm = mesh_from_model(MPI.COMM_WORLD, lambda: stats.update(build_composite(packing, separator, collector, size)))
    return cm, stats


def test_packing_meets_the_volume_fraction_and_is_reproducible():
    box, target, d = (6.0, 6.0, 6.0), 0.6, 3.0
    first = pack_spheres(box, target, diameter_um=d, seed=4)
    again = pack_spheres(box, target, diameter_um=d, seed=4)
    other = pack_spheres(box, target, diameter_um=d, seed=5)
    np.testing.assert_array_equal(first.centres, again.centres)
    np.testing.assert_array_equal(first.radii, again.radii)
    assert first.centres.shape != other.centres.shape or not np.allclose(first.centres, other.centres)
    assert violations(first, 0.1) == (0, 0)  # no near-tangent pair or sphere-face contact
    assert grid_volume_fraction(box, first.centres, first.radii, points=3e7) == pytest.approx(target, rel=2e-3)
    assert np.mean(first.radii) * 2 == pytest.approx(d, rel=0.1)  # a common scale close to 1

    size = first.radii.min() / 3.0
    (cm1, stats1), (_, stats2) = _mesh(first, size), _mesh(again, size)
    # The exact solids (OpenCASCADE volumes) meet the target; the mesh's flat facets cut the spheres,
    # losing at most (h/r)^2/2 of their volume (twice the (h/r)^2/4 of equilateral inscribed facets).
    assert stats1["geometry_volume_fraction"] == pytest.approx(target, rel=0.01)
    chordal = (size / first.radii.min()) ** 2 / 2
    assert stats1["geometry_volume_fraction"] * (1 - chordal) <= stats1["volume_fraction"]
    assert stats1["volume_fraction"] < stats1["geometry_volume_fraction"]
    assert stats1["positive"] == stats2["positive"]
    assert set(cm1.facet_names) >= {
        tags.POSITIVE_INTERFACE,
        tags.NEGATIVE_TERMINAL,
        tags.POSITIVE_TERMINAL,
        tags.LATERAL,
    }
    assert set(cm1.cell_names) == {tags.POSITIVE, tags.ELECTROLYTE, tags.POSITIVE_CC}


@pytest.mark.parametrize("fraction", [0.6, 0.7])
def test_lognormal_packing_and_unreachable_fraction(fraction):
    """Sizes spread lognormally (d90/d50 = 1.5) pack to 70 vol% (seeds 1-3 tried; monodisperse
    spheres jam near 65 %)."""
    packing = pack_spheres((12.0, 12.0, 12.0), fraction, d50_um=3.0, d90_um=4.5, seed=1)
    assert np.ptp(packing.radii) > 0.2
    assert grid_volume_fraction(packing.box, packing.centres, packing.radii) == pytest.approx(fraction, rel=2e-3)
    assert violations(packing, 0.1) == (0, 0)
    with pytest.raises(InputError, match="volume_fraction"):
        pack_spheres((6.0, 6.0, 6.0), 0.9, diameter_um=3.0, overlap=0.05)


def test_pores_in_the_electrolyte():
    packing = place_voids(pack_spheres((6.0, 6.0, 6.0), 0.5, diameter_um=3.0, seed=2), 0.03, 1.0, seed=2)
    assert len(packing.void_radii) == round(0.03 * 216 / (math.pi / 6))
    size = 0.5
    cm, stats = _mesh(packing, size)
    assert stats["geometry_porosity"] == pytest.approx(0.03, rel=1e-12)
    chordal = (packing.void_radii[0] / 3 / packing.void_radii[0]) ** 2 / 2  # pore walls at r/3
    assert 0.03 * (1 - chordal) < stats["pores"] / stats["box"] < 0.03
    assert utilisations(cm)["utilisation_ionic"] == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(InputError, match="porosity"):
        place_voids(packing, 0.4, 1.0, seed=2)


def _chain(broken: bool) -> Packing:
    """Spheres of radius 1 along x through a 4 x 4 box 8 thick, each overlapping the next by 0.2,
    the first and last cut by the separator and collector faces."""
    xs = [0.5, 2.3, 4.1, 5.9, 7.7]
    if broken:
        xs.remove(4.1)
    centres = np.array([[x, 2.0, 2.0] for x in xs])
    return Packing((8.0, 4.0, 4.0), centres, np.ones(len(xs)))


@pytest.mark.mpi
@pytest.mark.parametrize("broken", [False, True])
def test_percolation_of_a_chain(broken):
    packing = _chain(broken)
    assert violations(packing, 0.25) == (0, 0)
    cm, _ = _mesh(packing, 0.3)
    result = utilisations(cm)
    assert result["utilisation_ionic"] == pytest.approx(1.0, abs=1e-12)
    electronic = effective_conductivity(cm, (tags.POSITIVE,), bounds=(1.0, 9.0))  # across the composite
    if not broken:
        assert result["utilisation_electronic"] == pytest.approx(1.0, abs=1e-12)
        assert 0.0 < electronic["relative_conductivity"] < electronic["volume_fraction"]
        return
    assert electronic["relative_conductivity"] == 0.0
    # Only the particles below the gap (x > 4.1 in the composite) reach the collector.
    comm = cm.mesh.comm
    cells = cm.cells(tags.POSITIVE)
    cells = cells[cells < cm.mesh.topology.index_map(3).size_local]
    from ssbfem._dolfinx import dolfinx

    x = dolfinx.mesh.compute_midpoints(cm.mesh, 3, cells)[:, 0]
    volumes = cell_volumes(cm, cells)
    below = comm.allreduce(volumes[x > 1.0 + 4.1].sum()) / comm.allreduce(volumes.sum())
    assert 0.3 < below < 0.7
    assert result["utilisation_electronic"] == pytest.approx(below, rel=1e-12)


@pytest.mark.mpi
@pytest.mark.parametrize("phi", [0.05, 0.1])
def test_maxwell_conductivity_of_a_cubic_array_of_insulating_spheres(phi):
    """A unit cell of the simple-cubic array (its faces are symmetry planes): sigma_eff/sigma0 =
    (1 - phi)/(1 + phi/2) (Maxwell 1873; Rayleigh's correction is O(phi^(10/3)) < 5e-4 here)."""
    radius = (3 * phi / (4 * math.pi)) ** (1 / 3)
    packing = Packing((1.0, 1.0, 1.0), np.array([[0.5, 0.5, 0.5]]), np.array([radius]))
    cm, _ = _mesh(packing, 0.05, separator=0.0, collector=0.0)
    result = effective_conductivity(cm, (tags.ELECTROLYTE,))
    phi_mesh = 1.0 - result["volume_fraction"]  # the sphere as meshed
    assert phi_mesh == pytest.approx(phi, rel=0.05)
    maxwell = (1 - phi_mesh) / (1 + phi_mesh / 2)
    assert result["relative_conductivity"] == pytest.approx(maxwell, rel=0.02)
    assert result["tortuosity"] == pytest.approx(result["volume_fraction"] / result["relative_conductivity"])


COMPOSITE = {
    "architecture": "composite",
    "dimension": 3,
    "positive": {"thickness_um": 5.0},
    "electrolyte": {"thickness_um": 1.5},
    "positive_current_collector": {"material": "Al", "thickness_um": 0.5},
    "composite": {
        "volume_fraction": 0.5,
        "particle_diameter_um": 2.5,
        "length_um": 5.0,
        "width_um": 5.0,
        "mesh_size_um": 0.7,
        "seed": 3,
    },
}


@pytest.mark.mpi
def test_composite_run_conserves_charge_and_writes_geometry(tmp_path):
    tmp_path = MPI.COMM_WORLD.bcast(tmp_path, root=0)  # one run directory for all ranks
    raw = thin_film(
        cell=COMPOSITE,
        mesh={"degree": 1},
        solver={"initial_step_s": 1.0},
        experiment={"steps": ["Discharge at 1C for 10 seconds"]},
        output={"effective_parameters": True},
    )
    del raw["cell"]["nominal_capacity_mAh_cm2"]  # 1C from the active volume
    result = run(resolve(raw), tmp_path / "run")
    assert result.status == "complete"
    charge, inserted = lithium_charge_balance(result.series.rows)  # verification case K
    assert charge > 0.0
    assert abs(charge - inserted) <= 1e-8 * charge
    geometry = json.loads((tmp_path / "run" / "geometry.json").read_text())
    for key in (
        "aef",
        "volume_fractions",
        "interface_area_m2",
        "utilisation_electronic",
        "utilisation_ionic",
        "num_cells",
        "num_dofs",
    ):
        assert key in geometry
    # the target on the exact solids, less the chordal loss of the coarse mesh (h/r)^2/2 at most
    chordal = (COMPOSITE["composite"]["mesh_size_um"] / 1.25) ** 2 / 2
    assert 0.5 * (1 - chordal) < geometry["electrode_volume_fractions"]["positive"] < 0.5 * 1.01
    assert 0.9 < geometry["utilisation_electronic"] <= 1.0
    # Interface per footprint of spheres of radius r filling phi of a layer L: about 3 phi L/r,
    # less their contacts with each other and the collector.
    aef_spheres = 3 * 0.5 * 5.0 / 1.25
    assert 0.5 * aef_spheres < geometry["aef"] < 1.2 * aef_spheres
    # the parameters a homogenised model takes, measured on the same layer (ssbfem.effective)
    effective = geometry["effective_parameters"]
    fractions = geometry["electrode_volume_fractions"]
    assert effective["volume_fraction_active"] == pytest.approx(fractions["positive"], rel=1e-9)
    assert effective["volume_fraction_electrolyte"] == pytest.approx(fractions["electrolyte"], rel=1e-9)
    area = geometry["specific_interface_area_1_m"]
    assert effective["specific_interface_area_1_m"] == pytest.approx(area, rel=1e-9)
    assert all(t >= 1.0 for t in effective["tortuosity_factor_electrolyte"])
    # 1C: the capacity of the active volume of the mesh from x0 to 1 in an hour.
    pos = resolve(raw)["cell"]["positive"]
    one_c = FARADAY * pos["max_concentration_mol_m3"] * geometry["active_volume_per_footprint_um"] * 1e-6 * 0.49 / 3600
    assert result.series.rows[-1]["current_A_m2"] == pytest.approx(one_c, rel=1e-9)
    recorded = json.loads((tmp_path / "run" / "run.json").read_text())["one_c"]
    assert recorded["definition"].startswith("the positive electrode's capacity")
    assert recorded["current_A_m2"] == pytest.approx(one_c, rel=1e-9)
    assert recorded["capacity_mAh_cm2"] == pytest.approx(one_c * 3600 / 36000, rel=1e-12)  # A s/m2 -> mAh/cm2
    assert recorded["current_A"] == pytest.approx(one_c * raw["cell"]["area_cm2"] * 1e-4, rel=1e-12)


@pytest.mark.parametrize("degree", [1, 2])
def test_iterative_preset_on_a_composite_matches_direct(degree):
    """The field-split preset (GAMG blocks) on tetrahedra with the LiCoO2 | Al contrast."""
    voltages = []
    for solver in ("direct", "iterative"):
        raw = thin_film(
            cell=COMPOSITE,
            mesh={"degree": degree},
            # 1 s steps, all accepted: the two solvers take the same steps
            solver={
                "initial_step_s": 1.0,
                "max_step_s": 1.0,
                "voltage_tolerance_V": 1.0,
                "stoichiometry_tolerance": 1.0,
                "newton_fraction": 0.0,  # Newton converged to the residual tolerance
                "linear_solver": solver,
            },
            experiment={"steps": ["Discharge at 1C for 5 seconds"]},
        )
        del raw["cell"]["nominal_capacity_mAh_cm2"]
        voltages.append(run(resolve(raw), None).series.rows[-1]["voltage_V"])
    assert voltages[1] == pytest.approx(voltages[0], abs=1e-7)


@pytest.mark.parametrize(
    ("cell", "key"),
    [
        ({"dimension": 1}, "cell.dimension"),
        ({"composite": {"d50_um": 3.0, "d90_um": 2.0}}, "cell.composite.d90_um"),
        ({"composite": {"volume_fraction": 0.7, "porosity": 0.4}}, "cell.composite.porosity"),
        ({"positive_current_collector": None}, "cell.positive_current_collector"),
    ],
)
def test_bad_composite_input_names_the_key(cell, key):
    raw = thin_film(cell={**COMPOSITE, **{k: v for k, v in cell.items() if k != "composite"}})
    if "composite" in cell:
        raw["cell"]["composite"] = {**COMPOSITE["composite"], **cell["composite"]}
    if cell.get("positive_current_collector", 0) is None:
        del raw["cell"]["positive_current_collector"]
    with pytest.raises(InputError) as info:
        resolve(raw)
    assert info.value.key == key


def test_mesh_command_writes_the_composite(tmp_path, capsys):
    """`ssbfem mesh` on a composite config: the .msh read back holds the same active volume."""
    from conftest import DEMO_CONFIG
    from ssbfem.cli import main
    from ssbfem.geometry.io import load_mesh
    from ssbfem.microstructure import phase_volumes

    path = tmp_path / "composite.msh"
    sets = [
        "cell.architecture='composite'",
        "cell.dimension=3",
        "cell.positive.thickness_um=5.0",
        "cell.positive_current_collector={material='Al', thickness_um=0.5}",
        "cell.composite={volume_fraction=0.5, particle_diameter_um=2.5, length_um=5.0, width_um=5.0, "
        "mesh_size_um=0.7, seed=3}",
    ]
    assert main(["mesh", str(DEMO_CONFIG), "-o", str(path), *[a for s in sets for a in ("--set", s)]]) == 0
    printed = capsys.readouterr().out
    on_mesh = float(printed.split("active volume fraction ")[1].split()[0])
    volumes = phase_volumes(load_mesh(path))
    assert volumes[tags.POSITIVE] / (5.0 * 5.0 * 5.0) == pytest.approx(on_mesh, abs=1e-4)


def test_lagged_jacobian_gives_newtons_discharge():
    """With the iterative preset, Newton started from an earlier step's Jacobian and
    preconditioner (the default) reaches the voltages of Newton's method with far fewer
    Jacobians: both within three voltage tolerances (0.3 mV) of a reference with tolerances a
    hundred times tighter and Krylov solves to 1e-10 (errors of 0.05-0.22 mV)."""
    times = [10.0, 100.0, 600.0]

    def discharge(lag: int, **solver):
        raw = thin_film(
            cell=COMPOSITE,
            mesh={"degree": 1},
            solver={"linear_solver": "iterative", "jacobian_lag_steps": lag, **solver},
            experiment={"steps": ["Discharge at 1C for 600 seconds"]},
            output={"field_times_s": times},
        )
        del raw["cell"]["nominal_capacity_mAh_cm2"]
        result = run(resolve(raw), None)
        t = result.series["time_s"]
        voltages = result.series["voltage_V"][[int(np.argmin(np.abs(t - x))) for x in times]]
        return voltages, result.simulation.problem.jacobian_callback.assemblies, result.simulation.accepted_steps

    lagged, lagged_jacobians, _ = discharge(20)
    newton, newton_jacobians, newton_steps = discharge(0)
    tight = {"voltage_tolerance_V": 1e-6, "stoichiometry_tolerance": 5e-6, "petsc_options": {"ksp_rtol": 1e-10}}
    reference, _, _ = discharge(0, **tight)
    assert lagged_jacobians < 0.5 * newton_jacobians
    assert newton_jacobians >= newton_steps  # Newton's method: a Jacobian at every iteration
    for voltages in (lagged, newton):
        assert np.abs(voltages - reference).max() <= 3e-4
