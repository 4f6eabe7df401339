"""Effective parameters of a composite electrode layer, measured on its resolved mesh.

A homogenised (P2D-type) model of a composite electrode replaces the particles and the electrolyte
between them by two interpenetrating continua. It needs, per composite layer, what this module
measures on a resolved mesh (:mod:`ssbfem.geometry.composite`):

- volume fractions eps_k = V_k / V_layer of the active material (cell group ``positive``), the
  electrolyte and the pores (the layer's volume that no cell fills);
- tortuosity factors tau_k = eps_k sigma0/sigma_eff,k of the conducting phases (active: electrons,
  electrolyte: ions) along x, y and z, from steady conduction through the phase alone
  (:func:`ssbfem.microstructure.effective_conductivity`); tau >= 1 (sigma_eff <= eps sigma0, the
  parallel bound), inf when no cluster of the phase spans the layer in that direction. The
  homogenised model takes sigma_eff = (eps/tau) sigma0;
- the specific interface area a_s = A_(electrolyte|positive) / V_layer, 1/m;
- the contact area fraction A_(electrolyte|positive) / (A_(electrolyte|positive) + A_detached +
  A_collector + A_pores): of the particle surface that is not fused to another particle, the part
  in contact with the electrolyte (A_detached: facets that have lost contact, group ``detached``);
- percolating fractions: of a phase's volume in the layer, the part joined through the phase to
  the face it draws its current from (electrolyte: the separator side x0, ions; active: the
  collector side x1, electrons).

The layer spans x0 <= x <= x1 (x through the cell, micrometres as the mesh) and the mesh's extent
in y and z. Without a resolved mesh, :func:`bruggeman_parameters` gives the correlation of
Ren et al. (2023). The parameters go to a TOML file (:func:`write_parameters`,
:func:`read_parameters`) with the units in the key names.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import tomli_w
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import dolfinx
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.geometry.io import CellMesh
from ssbfem.geometry.tags import MESH_UNIT_M
from ssbfem.microstructure import cell_volumes, cells_in_region, connected_to, effective_conductivity, slab_region

fem = dolfinx.fem

#: The conducting phases: role in the homogenised model -> cell group.
PHASES = {"active": tags.POSITIVE, "electrolyte": tags.ELECTROLYTE}
_DIRECTIONS = "xyz"


@dataclass(frozen=True)
class EffectiveParameters:
    """Effective parameters of a composite electrode layer (the keys of the parameter file).

    Attributes:
        mesh: Where they were measured (a file name, or a description).
        bounds_um: The layer's x0, x1 (mesh coordinates, micrometres).
        volume_fraction_active: eps_s = V_positive / V_layer.
        volume_fraction_electrolyte: eps_e = V_electrolyte / V_layer.
        volume_fraction_pores: 1 - eps_s - eps_e (the layer's volume that no cell fills).
        tortuosity_factor_active: tau_s = eps_s sigma_s/sigma_s,eff along x, y, z (electronic; inf:
            the active material does not span the layer that way).
        tortuosity_factor_electrolyte: tau_e = eps_e sigma_e/sigma_e,eff along x, y, z (ionic).
        specific_interface_area_1_m: a_s = A_(electrolyte|positive) / V_layer, 1/m.
        contact_area_fraction: A_(electrolyte|positive) over the particle surface that touches the
            electrolyte (in contact or detached), the collector or a pore (particle-particle contacts
            are left out).
        percolating_fraction_active: Of the active volume, the part joined to the collector side.
        percolating_fraction_electrolyte: Of the electrolyte volume, the part joined to the
            separator side.
    """

    mesh: str
    bounds_um: tuple[float, float]
    volume_fraction_active: float
    volume_fraction_electrolyte: float
    volume_fraction_pores: float
    tortuosity_factor_active: tuple[float, float, float]
    tortuosity_factor_electrolyte: tuple[float, float, float]
    specific_interface_area_1_m: float
    contact_area_fraction: float
    percolating_fraction_active: float
    percolating_fraction_electrolyte: float

    def volume_fraction(self, phase: str) -> float:
        """eps of ``"active"``, ``"electrolyte"`` or ``"pores"``."""
        return getattr(self, f"volume_fraction_{phase}")

    def relative_conductivity(self, phase: str) -> tuple[float, float, float]:
        """sigma_eff/sigma0 = eps/tau of a conducting phase along x, y, z."""
        eps = self.volume_fraction(phase)
        return tuple(eps / t for t in getattr(self, f"tortuosity_factor_{phase}"))

    def bruggeman_exponent(self, phase: str) -> tuple[float, float, float]:
        """The exponent beta with eps^beta = sigma_eff/sigma0 along x, y, z (the Bruggeman-type
        exponent these microstructures follow; inf where the phase does not conduct, nan for eps 0 or 1)."""
        eps = self.volume_fraction(phase)
        if not 0.0 < eps < 1.0:
            return (math.nan,) * 3
        return tuple(math.log(r) / math.log(eps) if r > 0 else math.inf for r in self.relative_conductivity(phase))


def effective_parameters(
    cellmesh: CellMesh, bounds: tuple[float, float] | None = None, mesh_name: str = "mesh"
) -> EffectiveParameters:
    """Measure the effective parameters of the composite layer bounds[0] <= x <= bounds[1].

    Collective (every rank calls it; every rank gets the result).

    Args:
        cellmesh: A 3D mesh with the cell groups ``positive`` and ``electrolyte`` and the facet
            group ``electrolyte|positive`` (coordinates in micrometres).
        bounds: x0, x1 of the layer, micrometres; default :func:`layer_bounds`. The layer may hold
            only active material, electrolyte and pores.
        mesh_name: Recorded as the parameters' ``mesh``.
    """
    cellmesh.require(cells=tuple(PHASES.values()), facets=(tags.POSITIVE_INTERFACE,), source=mesh_name)
    if cellmesh.dimension != 3:
        raise InputError("mesh", f"{mesh_name} is {cellmesh.dimension}D; effective parameters need a 3D mesh")
    x0, x1 = bounds if bounds is not None else layer_bounds(cellmesh)
    if not x1 > x0:
        raise InputError("bounds", f"x0 = {x0} must lie below x1 = {x1}")
    region = slab_region(cellmesh, 0, (x0, x1))
    eps = _volume_fractions(cellmesh, region)
    tortuosity = {
        phase: tuple(effective_conductivity(cellmesh, (group,), axis=k, box=region)["tortuosity"] for k in range(3))
        for phase, group in PHASES.items()
    }
    areas = _particle_surface(cellmesh, region)
    exposed = sum(areas.values())
    volume = float(np.prod(np.diff(region, axis=1))) * MESH_UNIT_M**3
    return EffectiveParameters(
        mesh=mesh_name,
        bounds_um=(float(x0), float(x1)),
        volume_fraction_active=eps["active"],
        volume_fraction_electrolyte=eps["electrolyte"],
        volume_fraction_pores=eps["pores"],
        tortuosity_factor_active=tortuosity["active"],
        tortuosity_factor_electrolyte=tortuosity["electrolyte"],
        specific_interface_area_1_m=float(areas["interface"] / volume),
        contact_area_fraction=float(areas["interface"] / exposed) if exposed > 0 else 0.0,
        percolating_fraction_active=_percolating(cellmesh, PHASES["active"], region, face=x1),
        percolating_fraction_electrolyte=_percolating(cellmesh, PHASES["electrolyte"], region, face=x0),
    )


def layer_bounds(cellmesh: CellMesh) -> tuple[float, float]:
    """x0, x1 of the positive electrode layer: the planes x = const next to the active material
    (at or outside it) that no cell crosses. In a composite mesh those are the separator's and the
    collector's faces (or the mesh's ends), whether or not a particle touches them: the
    unstructured mesh conforms to these faces and to no other plane. Collective."""
    msh, comm = cellmesh.mesh, cellmesh.mesh.comm
    owned = msh.topology.index_map(cellmesh.dimension).size_local
    x = msh.geometry.x[msh.geometry.dofmaps[0][:owned], 0]  # a single cell type
    spans = np.column_stack([x.min(axis=1, initial=np.inf), x.max(axis=1, initial=-np.inf)])
    active = cellmesh.cells(tags.POSITIVE)
    active = active[active < owned]
    p0 = comm.allreduce(spans[active, 0].min(initial=np.inf), op=MPI.MIN)
    p1 = comm.allreduce(spans[active, 1].max(initial=-np.inf), op=MPI.MAX)
    if not p1 > p0:
        raise InputError("mesh", "it has no cells of the positive electrode")
    width = comm.allreduce(float(np.ptp(msh.geometry.x[:, 0])) if len(msh.geometry.x) else 0.0, op=MPI.MAX)
    tol = 1e-9 * width
    gathered = comm.gather(_merged(spans, tol), root=0)
    planes = None
    if comm.rank == 0:
        merged = _merged(np.concatenate(gathered), tol)  # maximal runs of x covered by crossing cells
        planes = np.unique(merged.ravel())
    planes = comm.bcast(planes, root=0)
    return float(planes[planes <= p0 + tol].max()), float(planes[planes >= p1 - tol].min())


def _merged(spans: np.ndarray, tol: float) -> np.ndarray:
    """The union of open intervals (a, b), as sorted disjoint intervals; intervals that only touch
    (overlap by less than tol) stay apart, so their common end is a plane no interval crosses."""
    if not len(spans):
        return np.zeros((0, 2))
    a, b = spans[np.argsort(spans[:, 0])].T
    reach = np.maximum.accumulate(b)  # the furthest end of the intervals so far
    starts = np.flatnonzero(np.r_[True, a[1:] >= reach[:-1] - tol])
    return np.column_stack([a[starts], np.maximum.reduceat(b, starts)])


def _volume_fractions(cellmesh: CellMesh, region: np.ndarray) -> dict[str, float]:
    """eps of the active material, electrolyte and pores in the region; InputError when cells of
    another group (a collector, the separator of another stack) lie in it."""
    comm = cellmesh.mesh.comm
    volume = float(np.prod(np.diff(region, axis=1)))
    eps = {}
    for name in cellmesh.cell_names:
        cells = cells_in_region(cellmesh, (name,), region)
        eps[name] = comm.allreduce(cell_volumes(cellmesh, cells).sum()) / volume
    intruders = [n for n, e in eps.items() if e > 0 and n not in PHASES.values()]
    if intruders:
        raise InputError("bounds", f"the layer x = {region[0, 0]:g} to {region[0, 1]:g} um holds {intruders} cells")
    fractions = {phase: float(eps[group]) for phase, group in PHASES.items()}
    fractions["pores"] = max(1.0 - sum(fractions.values()), 0.0)
    return fractions


def _percolating(cellmesh: CellMesh, group: str, region: np.ndarray, face: float) -> float:
    """Volume fraction of the group's cells in the region joined through the group to the plane
    x = face."""
    msh, comm = cellmesh.mesh, cellmesh.mesh.comm
    cells = cells_in_region(cellmesh, (group,), region)
    tol = 1e-8 * float(np.max(np.ptp(region, axis=1)))
    sources = dolfinx.mesh.locate_entities(msh, 2, lambda p: np.isclose(p[0], face, atol=tol))
    reached = connected_to(cellmesh, cells, sources)
    volumes = cell_volumes(cellmesh, cells)
    total = comm.allreduce(volumes.sum())
    return float(comm.allreduce(volumes[reached].sum()) / total) if total > 0 else 0.0


def _particle_surface(cellmesh: CellMesh, region: np.ndarray) -> dict[str, float]:
    """Areas (m2) of the active material's surface in the region: ``interface`` (facet group
    electrolyte|positive), ``detached`` (facet group detached: lost contact), ``collector``
    (positive|positive_current_collector, or without a meshed collector the positive_terminal's
    cuts through particles), ``pores`` (boundary facets of
    active cells off the mesh's bounding box: walls of unmeshed voids). Cuts by the lateral faces
    are no surface, fused particle-particle contacts are inner facets of one group: neither counts."""
    msh = cellmesh.mesh
    fdim = cellmesh.dimension - 1
    msh.topology.create_connectivity(fdim, fdim + 1)
    f2c = msh.topology.connectivity(fdim, fdim + 1)
    index_map = msh.topology.index_map(cellmesh.dimension)
    is_active = np.zeros(index_map.size_local + index_map.num_ghosts, dtype=bool)
    is_active[cellmesh.cells(tags.POSITIVE)] = True
    touches_active = np.add.reduceat(is_active[f2c.array].astype(int), f2c.offsets[:-1]) > 0  # per local facet
    group = lambda name: cellmesh.facets(name) if name in cellmesh.facet_names else np.zeros(0, np.int32)
    collector = np.union1d(group(tags.interface_name(tags.POSITIVE, tags.POSITIVE_CC)), group(tags.POSITIVE_TERMINAL))
    exterior = dolfinx.mesh.exterior_facet_indices(msh.topology)
    bbox = slab_region(cellmesh, 0)
    tol = 1e-8 * float(np.max(np.ptp(bbox, axis=1)))
    if len(exterior):
        mid = dolfinx.mesh.compute_midpoints(msh, fdim, exterior)
        on_box = np.any(np.isclose(mid[:, :, None], bbox[None], atol=tol), axis=(1, 2))
        exterior = exterior[~on_box]
    selected = {
        "interface": group(tags.POSITIVE_INTERFACE),
        "detached": group(tags.DETACHED),
        "collector": collector,
        "pores": exterior,
    }
    areas = {}
    for name, facets in selected.items():
        facets = facets[touches_active[facets]]
        areas[name] = _area(cellmesh, facets[_in_region(msh, facets, region, tol)]) * MESH_UNIT_M**2
    return areas


def _in_region(msh, facets: np.ndarray, region: np.ndarray, tol: float) -> np.ndarray:
    """Which facets have their midpoints in the closed region."""
    if not len(facets):
        return np.zeros(0, dtype=bool)
    mid = dolfinx.mesh.compute_midpoints(msh, msh.topology.dim - 1, facets)
    return np.all((mid >= region[:, 0] - tol) & (mid <= region[:, 1] + tol), axis=1)


def _area(cellmesh: CellMesh, facets: np.ndarray) -> float:
    """Area of local facets (interior or exterior; each counted once over the ranks), mesh units."""
    msh = cellmesh.mesh
    facets = np.unique(facets).astype(np.int32)
    marker = dolfinx.mesh.meshtags(msh, msh.topology.dim - 1, facets, np.ones(len(facets), dtype=np.int32))
    dS = ufl.Measure("dS", domain=msh, subdomain_data=marker)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=marker)
    local = fem.assemble_scalar(fem.form(1.0 * dS(1) + 1.0 * ds(1)))
    return float(msh.comm.allreduce(local))


def summary_table(params: EffectiveParameters) -> str:
    """A short human-readable table of the parameters."""
    x0, x1 = params.bounds_um
    fmt = lambda values: " ".join(f"{v:8.4g}" for v in values)
    lines = [
        f"composite layer of {params.mesh}: x = {x0:g} to {x1:g} um ({x1 - x0:g} um)",
        f"{'phase':<12}{'eps':>8}{'percol.':>9}   {'tortuosity factor x y z':<27}   sigma_eff/sigma0 x y z",
    ]
    for phase in PHASES:
        lines.append(
            f"{phase:<12}{params.volume_fraction(phase):8.4f}{getattr(params, f'percolating_fraction_{phase}'):9.4f}"
            f"   {fmt(getattr(params, f'tortuosity_factor_{phase}'))}   {fmt(params.relative_conductivity(phase))}"
        )
    lines.append(f"{'pores':<12}{params.volume_fraction_pores:8.4f}")
    lines.append(
        f"specific interface area {params.specific_interface_area_1_m:.4g} 1/m, "
        f"contact area fraction {params.contact_area_fraction:.4f}"
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class Bruggeman:
    """Bruggeman-type effective transport of one phase, split as in Ren et al. (2023), Table 3:
    sigma_eff = eps^(beta_tort + beta_GB) sigma0 = (eps/tau) f_GB sigma0, with the geometric
    tortuosity factor tau = eps^(1 - beta_tort) and the grain-boundary factor f_GB = eps^beta_GB
    (the extra resistance of the grain boundaries between sintered electrolyte particles; a mesh
    measures tau alone, as if f_GB = 1).

    Attributes:
        volume_fraction: eps of the phase.
        beta_tort: Tortuosity exponent (1.5: Bruggeman's spheres; Ren2023: 2.31 state of the art,
            1.5 improved).
        beta_gb: Grain-boundary exponent (Ren2023: 1.39 state of the art, 0 improved).
    """

    volume_fraction: float
    beta_tort: float
    beta_gb: float = 0.0

    @property
    def relative_conductivity(self) -> float:
        """sigma_eff/sigma0 = eps^(beta_tort + beta_GB)."""
        return self.volume_fraction ** (self.beta_tort + self.beta_gb)

    @property
    def tortuosity_factor(self) -> float:
        """tau = eps^(1 - beta_tort) (inf for eps = 0)."""
        return self.volume_fraction ** (1.0 - self.beta_tort) if self.volume_fraction > 0 else math.inf

    @property
    def grain_boundary_factor(self) -> float:
        """f_GB = eps^beta_GB."""
        return self.volume_fraction**self.beta_gb


def bruggeman_parameters(
    volume_fractions: dict[str, float],
    beta_tort: dict[str, float] | float = 1.5,
    beta_gb: dict[str, float] | float = 0.0,
) -> dict[str, Bruggeman]:
    """The Bruggeman fallback when no resolved mesh is at hand: per phase (keys of
    `volume_fractions`, e.g. ``"electrolyte"``, ``"active"``) sigma_eff/sigma0 = eps^(beta_tort +
    beta_GB) (Ren et al. 2023, Table 3: LLZO in a 75 vol% NMC811 cathode, eps = 0.25, beta_tort =
    2.31, beta_GB = 1.39, sigma0 = 8e-4 S/cm give sigma_eff = 4.7e-6 S/cm, their "5e-6").

    Args:
        volume_fractions: eps per phase, 0 to 1.
        beta_tort: Tortuosity exponent, one for all phases or per phase.
        beta_gb: Grain-boundary exponent, one for all phases or per phase.
    """
    per_phase = lambda value, phase: value[phase] if isinstance(value, dict) else value
    out = {}
    for phase, eps in volume_fractions.items():
        if not 0.0 <= eps <= 1.0:
            raise InputError(f"volume_fraction_{phase}", f"must lie between 0 and 1, not {eps}")
        out[phase] = Bruggeman(eps, per_phase(beta_tort, phase), per_phase(beta_gb, phase))
    return out


def write_parameters(params: EffectiveParameters, path: str | Path) -> None:
    """Write the parameters as TOML, units in the key names, under a comment naming the mesh
    (serial: under MPI call it on one rank)."""
    data = asdict(params)
    header = (
        f"# Effective parameters of the composite electrode layer of {params.mesh}\n"
        f"# (x = {params.bounds_um[0]:g} to {params.bounds_um[1]:g} um), written by ssbfem.effective.\n"
        "# Tortuosity factors tau = eps sigma0/sigma_eff along [x, y, z]; inf: the phase does not span the layer.\n"
    )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(header + tomli_w.dumps(data))


def read_parameters(path: str | Path) -> EffectiveParameters:
    """Read and check a parameter file written by :func:`write_parameters`.

    Raises:
        InputError: naming the file (missing, not TOML) or the offending key (missing, unknown,
            of the wrong type or out of range) and the reason.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"not TOML: {exc}") from None
    names = [f.name for f in fields(EffectiveParameters)]
    for key in data:
        if key not in names:
            raise InputError(key, f"unknown key in {path} (known: {', '.join(names)})")
    values = {}
    for key in names:
        if key not in data:
            raise InputError(key, f"missing from {path}")
        try:
            values[key] = _CHECKS[key](data[key])
        except ValueError as exc:
            raise InputError(key, f"{exc} in {path}") from None
    total = sum(values[f"volume_fraction_{p}"] for p in ("active", "electrolyte", "pores"))
    if abs(total - 1.0) > 1e-6:
        raise InputError("volume_fraction_pores", f"the volume fractions in {path} sum to {total:.8g}, not 1")
    return EffectiveParameters(**values)


def _number(value, low: float = 0.0, high: float = math.inf, finite: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"must be a number, not {value!r}")
    if finite and math.isinf(value):
        raise ValueError(f"must be finite, not {value}")
    if not low <= value <= high:
        raise ValueError(f"must lie between {low:g} and {high:g}, not {value}")
    return float(value)


def _fraction(value) -> float:
    return _number(value, 0.0, 1.0)


def _tortuosity(value) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"must be a list of 3 numbers [x, y, z], not {value!r}")
    # tau >= 1: sigma_eff never exceeds eps sigma0 (the parallel bound), up to the solver's tolerance
    if any(isinstance(v, int | float) and not isinstance(v, bool) and v < 1.0 - 1e-6 for v in value):
        raise ValueError(f"must be at least 1 (sigma_eff <= eps sigma0; inf: no path), not {value}")
    return tuple(_number(v, finite=False) for v in value)


def _bounds(value) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"must be [x0, x1], not {value!r}")
    x0, x1 = (_number(v, -math.inf) for v in value)
    if not x1 > x0:
        raise ValueError(f"x0 = {x0} must lie below x1 = {x1}")
    return x0, x1


def _text(value) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {value!r}")
    return value


#: The check of each key of a parameter file; a ValueError names the reason.
_CHECKS = {
    "mesh": _text,
    "bounds_um": _bounds,
    "volume_fraction_active": _fraction,
    "volume_fraction_electrolyte": _fraction,
    "volume_fraction_pores": _fraction,
    "tortuosity_factor_active": _tortuosity,
    "tortuosity_factor_electrolyte": _tortuosity,
    "specific_interface_area_1_m": _number,
    "contact_area_fraction": _fraction,
    "percolating_fraction_active": _fraction,
    "percolating_fraction_electrolyte": _fraction,
}
