"""``[homogenised]``: what the homogenised (P2D) composite electrode needs beyond ``[cell]``.

The composite positive electrode is a continuum of active material (volume fraction eps_AM,
spherical particles of radius r), electrolyte (eps_SE = 1 - eps_AM - porosity) and pores. Each
conducting phase's effective conductivity is sigma_eff = f sigma, the factor f chosen per phase,
first given wins:

1. ``conductivity_ratio_<phase>`` = f directly;
2. ``tortuosity_factor_<phase>`` = tau: f = eps / tau; or [tau_x, tau_y, tau_z]: the diagonal
   tensor f_k = eps / tau_k on a 2D/3D macro mesh (x through the stack, :mod:`ssbfem.geometry.tags`;
   tau_k = inf: no conduction along y or z; refused along x), f_x on a 1D mesh;
3. ``tortuosity_exponent_<phase>`` (+ ``grain_boundary_exponent_<phase>``, Ren et al. 2023):
   f = eps^(beta_tort + beta_GB);
4. ``bruggeman_<phase>`` = beta: f = eps^beta (default 1.5).

The keys are those of the parameter file that ``ssbfem effective`` measures on a resolved
microstructure (``volume_fraction_active``, ``volume_fraction_pores``, ``tortuosity_factor_<phase>``
through the layer, ``specific_interface_area_1_m``, ``percolating_fraction_active``):
``parameter_file`` names such a file, whose values fill every one of these keys the section leaves
unset (a phase's tortuosity factors along x, y and z only where no other rule is given for it),
and ``particle_radius_um`` with the radius of spheres of the measured volume-to-surface
ratio, r = 3 eps_AM / a_s (the surface counted is the one in contact with the electrolyte: a
particle cut by the collector keeps its radius, a particle half in contact has its diffusion
length doubled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from ssbfem.errors import InputError
from ssbfem.settings.types import (
    AtLeastOneOrPerAxis,
    BelowOne,
    Fraction,
    NonNegative,
    OpenUnit,
    Positive,
    PositiveInt,
    Section,
    UnitInterval,
)

if TYPE_CHECKING:
    from ssbfem.settings.schema import Settings

#: The two conducting phases of the composite and the volume fraction each conducts through.
PHASES = ("electrolyte", "active")


class Homogenised(Section):
    """The homogenised composite electrode (``model = "homogenised"``): volume fractions, particle
    size, effective transport, interface area and radial discretisation."""

    dimension: Literal[1, 2, 3] | None = Field(
        None,
        description="dimension of the macro mesh: 1 (P2D), 2 (P3D), 3 (P4D); default 1 for a composite config (whose "
        "cell.dimension describes its resolved microstructure), cell.dimension for a thin-film config",
    )
    volume_fraction_active: OpenUnit | None = Field(
        None, description="volume fraction eps_AM of active material in the composite (default cell.composite's)"
    )
    volume_fraction_pores: Fraction | None = Field(
        None, description="volume fraction of pores in the composite (default cell.composite's, else 0)"
    )
    particle_radius_um: Positive | None = Field(
        None, description="radius r of the active particles, um (default: half cell.composite's d50 or diameter)"
    )
    specific_interface_area_1_m: Positive | None = Field(
        None, description="active|electrolyte interface area per composite volume a_s, 1/m (default 3 eps_AM / r)"
    )
    percolating_fraction_active: UnitInterval | None = Field(
        None,
        description="share of the active material joined electronically to the collector (default 1); the rest is "
        "inert: it keeps its lithium and takes no current",
    )
    contact_loss_fraction: BelowOne = Field(
        0.0, description="fraction of the interface area that has lost contact (no charge transfer there)"
    )
    parameter_file: str | None = Field(
        None,
        description="effective parameters measured on a microstructure (`ssbfem effective MESH -o FILE`); they fill "
        "the keys below that are unset (relative to the config file's folder; given with --set: to the working "
        "directory)",
    )
    radial_elements: PositiveInt = Field(10, description="linear elements N_r along each particle's radius")
    bruggeman_electrolyte: Positive = Field(1.5, description="Bruggeman exponent of the electrolyte phase")
    bruggeman_active: Positive = Field(1.5, description="Bruggeman exponent of the active (electronic) phase")
    tortuosity_exponent_electrolyte: Positive | None = Field(
        None, description="tortuosity exponent beta_tort of the electrolyte (Ren et al. 2023; replaces Bruggeman)"
    )
    grain_boundary_exponent_electrolyte: NonNegative | None = Field(
        None, description="grain-boundary exponent beta_GB of the electrolyte, added to beta_tort (default 0)"
    )
    tortuosity_exponent_active: Positive | None = Field(
        None, description="tortuosity exponent beta_tort of the active phase (replaces Bruggeman)"
    )
    grain_boundary_exponent_active: NonNegative | None = Field(
        None, description="grain-boundary exponent beta_GB of the active phase, added to beta_tort (default 0)"
    )
    tortuosity_factor_electrolyte: AtLeastOneOrPerAxis | None = Field(
        None,
        description="electrolyte's tortuosity factor tau, or [tau_x, tau_y, tau_z]: sigma_eff = eps_SE / tau sigma, "
        "a diagonal tensor on a 2D/3D macro mesh (x through the stack; inf: no conduction along y or z; a 1D mesh "
        "takes tau_x); replaces the exponents",
    )
    tortuosity_factor_active: AtLeastOneOrPerAxis | None = Field(
        None,
        description="tortuosity factor tau, or [tau_x, tau_y, tau_z], of the active phase: sigma_eff = eps_AM / tau "
        "sigma (as for the electrolyte)",
    )
    conductivity_ratio_electrolyte: UnitInterval | None = Field(
        None, description="effective to bulk conductivity ratio of the electrolyte (replaces everything above)"
    )
    conductivity_ratio_active: UnitInterval | None = Field(
        None, description="effective to bulk electronic conductivity ratio of the active phase"
    )

    @model_validator(mode="after")
    def _from_parameter_file(self) -> Homogenised:
        """Fill the unset keys from the parameter file (before the rules are checked)."""
        if self.parameter_file is None:
            return self
        from ssbfem.effective import read_parameters  # measuring needs DOLFINx; reading does not use it

        try:
            measured = read_parameters(self.parameter_file)
        except InputError as exc:
            raise InputError("homogenised.parameter_file", f"{exc.key}: {exc.reason}") from None
        if measured.specific_interface_area_1_m <= 0.0:
            raise InputError("homogenised.parameter_file", f"{measured.mesh} has no active|electrolyte interface")
        keys = ("volume_fraction_active", "volume_fraction_pores", "specific_interface_area_1_m")
        for key in (*keys, "percolating_fraction_active"):
            if getattr(self, key) is None:
                setattr(self, key, getattr(measured, key))
        if self.percolating_fraction_active == 0.0:
            reason = f"none of the active material of {measured.mesh} reaches the collector"
            raise InputError("homogenised.parameter_file", reason)
        if self.particle_radius_um is None:
            self.particle_radius_um = 3e6 * measured.volume_fraction_active / measured.specific_interface_area_1_m
        for phase in PHASES:
            rules = ("conductivity_ratio", "tortuosity_factor", "tortuosity_exponent")
            if all(getattr(self, f"{rule}_{phase}") is None for rule in rules):
                tau = list(getattr(measured, f"tortuosity_factor_{phase}"))
                if tau[0] == float("inf"):
                    raise InputError(
                        "homogenised.parameter_file",
                        f"the {phase} phase of {measured.mesh} does not span the layer (tortuosity factor inf)",
                    )
                setattr(self, f"tortuosity_factor_{phase}", tau)
        return self

    @model_validator(mode="after")
    def _one_rule_per_phase(self) -> Homogenised:
        for phase in PHASES:
            tau = getattr(self, f"tortuosity_factor_{phase}")
            if isinstance(tau, list) and tau[0] == float("inf"):
                raise InputError(
                    f"homogenised.tortuosity_factor_{phase}",
                    "tau_x must be finite: the current crosses the layer along x (inf is allowed along y and z)",
                )
            given = [
                key
                for key in (f"conductivity_ratio_{phase}", f"tortuosity_factor_{phase}", f"tortuosity_exponent_{phase}")
                if getattr(self, key) is not None
            ]
            if len(given) > 1:
                raise InputError(f"homogenised.{given[1]}", f"give one of {' or '.join(given)} for the {phase} phase")
            if getattr(self, f"grain_boundary_exponent_{phase}") is not None and not given[-1:] == [
                f"tortuosity_exponent_{phase}"
            ]:
                raise InputError(
                    f"homogenised.grain_boundary_exponent_{phase}", f"needs homogenised.tortuosity_exponent_{phase}"
                )
        return self

    def conductivity_factor(self, phase: str, fraction: float) -> float | tuple[float, float, float]:
        """sigma_eff / sigma of a phase of volume fraction `fraction` (see the module's rules): a
        number, or per direction (x, y, z) when the tortuosity factor is given per direction (0
        where it is inf)."""
        ratio = getattr(self, f"conductivity_ratio_{phase}")
        if ratio is not None:
            return ratio
        tau = getattr(self, f"tortuosity_factor_{phase}")
        if isinstance(tau, list):
            return tuple(fraction / t for t in tau)
        if tau is not None:
            return fraction / tau
        beta = getattr(self, f"tortuosity_exponent_{phase}")
        if beta is not None:
            return fraction ** (beta + (getattr(self, f"grain_boundary_exponent_{phase}") or 0.0))
        return fraction ** getattr(self, f"bruggeman_{phase}")


def check_homogenised(settings: Settings) -> None:
    """What the homogenised model takes.

    The rule: a single cell Li | electrolyte | composite positive [| collector]. A ``composite``
    config is homogenised as it is (its [cell.composite] gives the volume fractions and particle
    size), on a planar stack with Li unmeshed; a ``thin-film`` config is read as the same stack
    with the positive layer a composite, and an ``interdigitated`` one keeps its meshed geometry
    (pillars or plates, coating, Li meshed in the trenches) with the positive region (base film
    and pillars) a composite; for both [homogenised] must give the active volume fraction and
    particle radius. Any thermal model (the composite's heat capacity and conductivity mix its
    phases'); without mechanics, double layers or stacks in this version.
    """
    cell, hom = settings.cell, settings.homogenised
    if cell.architecture not in ("composite", "thin-film", "interdigitated"):
        raise InputError(
            "cell.architecture",
            f"the homogenised model takes composite, thin-film or interdigitated cells, not {cell.architecture!r}",
        )
    if cell.architecture != "composite":
        for key in ("volume_fraction_active", "particle_radius_um"):
            if getattr(hom, key) is None:
                raise InputError(
                    f"homogenised.{key}", f"required for a {cell.architecture} config (it has no [cell.composite])"
                )
        if cell.units != 1:
            raise InputError("cell.units", "the homogenised model is a single cell")
    if cell.architecture == "thin-film":
        if cell.contact is not None:
            raise InputError("cell.contact", "patchy Li contact is not part of the homogenised model")
        if cell.negative.thickness_um or cell.negative_current_collector is not None:
            raise InputError(
                "cell.negative.thickness_um", "Li is not meshed in a homogenised thin-film cell: leave it unset"
            )
    if cell.architecture == "interdigitated" and hom.dimension not in (None, cell.dimension):
        raise InputError(
            "homogenised.dimension",
            f"an interdigitated cell's macro mesh is its own geometry, of cell.dimension = {cell.dimension}: "
            "leave homogenised.dimension unset",
        )
    if cell.composite is not None and cell.composite.contact_loss_fraction > 0.0:
        raise InputError(
            "cell.composite.contact_loss_fraction",
            "detaches caps of the resolved particles; the homogenised model takes homogenised.contact_loss_fraction "
            "(or a parameter file measured on the mesh with the caps detached)",
        )
    fractions = composite_fractions(settings)
    if fractions[0] + fractions[1] >= 1.0:
        raise InputError("homogenised.volume_fraction_pores", "the active and pore volume fractions must sum below 1")
    if settings.mechanics.enabled:
        raise InputError("mechanics.enabled", "the homogenised model has no mechanics in this version")
    for side in ("positive", "negative"):
        if getattr(cell, side).double_layer_F_m2 > 0.0:
            raise InputError(f"cell.{side}.double_layer_F_m2", "the homogenised model has no double layers: set 0")
    if settings.mesh.file:
        raise InputError("mesh.file", "the homogenised model builds its own macro mesh: leave mesh.file out")


def composite_fractions(settings: Settings) -> tuple[float, float, float]:
    """(eps_AM, porosity, particle radius in um) of the homogenised composite."""
    hom, comp = settings.homogenised, settings.cell.composite
    active = hom.volume_fraction_active if hom.volume_fraction_active is not None else comp.volume_fraction
    porosity = hom.volume_fraction_pores
    if porosity is None:
        porosity = comp.porosity if comp is not None else 0.0
    radius = hom.particle_radius_um
    if radius is None:
        radius = 0.5 * (comp.d50_um or comp.particle_diameter_um)
    return active, porosity, radius
