"""The effective parameters of a homogenised composite electrode, resolved from the settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ssbfem.settings import Settings
from ssbfem.settings.homogenised import composite_fractions


@dataclass(frozen=True)
class HomogenisedParameters:
    """What the homogenised model uses of the composite (SI units unless named).

    Attributes:
        active_fraction: eps_AM, volume fraction of active material.
        electrolyte_fraction: eps_SE = 1 - eps_AM - porosity.
        porosity: Volume fraction of pores.
        particle_radius_m: r, the particles' radius.
        specific_area_1_m: a_s, active|electrolyte interface area per composite volume.
        percolating_fraction: p, share of the active material joined to the collector; the rest
            is inert (its volume and interface area leave the reaction, its lithium stays).
        contact_loss_fraction: Share of a_s without contact.
        ionic_factor: sigma_SE,eff / sigma_SE in the composite: a number, or per direction
            (x, y, z: the diagonal of a tensor).
        electronic_factor: sigma_AM,eff / sigma_AM in the composite (the same).
        radial_elements: N_r, linear elements along a particle's radius.
    """

    active_fraction: float
    electrolyte_fraction: float
    porosity: float
    particle_radius_m: float
    specific_area_1_m: float
    percolating_fraction: float
    contact_loss_fraction: float
    ionic_factor: float | tuple[float, float, float]
    electronic_factor: float | tuple[float, float, float]
    radial_elements: int

    @property
    def connected_active_fraction(self) -> float:
        """p eps_AM, the volume fraction of active material that takes part in the reaction."""
        return self.percolating_fraction * self.active_fraction

    @property
    def reacting_area_1_m(self) -> float:
        """p a_s (1 - contact loss), the interface area that transfers charge per volume, 1/m
        (the inert particles' area taken in proportion to their volume)."""
        return self.percolating_fraction * self.specific_area_1_m * (1.0 - self.contact_loss_fraction)

    def as_dict(self) -> dict:
        derived = ("connected_active_fraction", "reacting_area_1_m")
        return {**asdict(self), **{name: getattr(self, name) for name in derived}}


def homogenised_parameters(settings: Settings) -> HomogenisedParameters:
    """The effective parameters of validated settings with ``model = "homogenised"``."""
    hom = settings.homogenised
    active, porosity, radius_um = composite_fractions(settings)
    electrolyte = 1.0 - active - porosity
    radius = radius_um * 1e-6
    area = hom.specific_interface_area_1_m or 3.0 * active / radius
    return HomogenisedParameters(
        active_fraction=active,
        electrolyte_fraction=electrolyte,
        porosity=porosity,
        particle_radius_m=radius,
        specific_area_1_m=area,
        percolating_fraction=hom.percolating_fraction_active if hom.percolating_fraction_active is not None else 1.0,
        contact_loss_fraction=hom.contact_loss_fraction,
        ionic_factor=hom.conductivity_factor("electrolyte", electrolyte),
        electronic_factor=hom.conductivity_factor("active", active),
        radial_elements=hom.radial_elements,
    )


def macro_dimension(settings: Settings) -> int:
    """The dimension of the homogenised cell's macro mesh: ``homogenised.dimension``, by default 1
    for a composite config (its cell.dimension is its microstructure's) and cell.dimension for a
    thin-film or interdigitated one."""
    if settings.homogenised.dimension is not None:
        return settings.homogenised.dimension
    return 1 if settings.cell.architecture == "composite" else settings.cell.dimension
