"""``[cell]``: the architecture, its layers and the geometry of its architecture.

The interdigitated cell's base film is ``cell.positive.thickness_um``, its conformal coating
``cell.electrolyte.thickness_um`` and the Li above the coated tips ``cell.negative.thickness_um``.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from ssbfem.errors import InputError
from ssbfem.settings.layers import CurrentCollector, Electrolyte, NegativeElectrode, PositiveElectrode
from ssbfem.settings.types import (
    BelowOne,
    CellTemperature,
    Fraction,
    NonNegative,
    NonNegativeInt,
    OpenUnit,
    Positive,
    PositiveInt,
    Section,
)


class Contact(Section):
    """Patchy Li contact: one circular spot per square of the 3D thin film, the rest void."""

    spot_radius_um: Positive = Field(
        description="radius a of a contact spot between Li and the electrolyte, micrometres"
    )
    area_fraction: OpenUnit = Field(
        description="contact area fraction f = pi a^2 / pitch^2 (< pi/4), one spot per square; the rest is void "
        "(insulating)"
    )
    element_size_um: Positive | None = Field(
        None, description="element size away from the spot's edge (default: a quarter of the thinnest layer or pitch/2)"
    )
    edge_element_size_um: Positive | None = Field(
        None, description="element size at the spot's edge (default: spot radius / 20)"
    )

    @model_validator(mode="after")
    def _spot_inside_square(self) -> Contact:
        if self.area_fraction >= math.pi / 4:
            raise InputError(
                "cell.contact.area_fraction",
                f"must be below pi/4 = {math.pi / 4:.4f} (the spot inside its square), got {self.area_fraction}",
            )
        return self


class Interdigitated(Section):
    """Pillars or plates of the positive electrode, coated by the electrolyte, in Li."""

    shape: Literal["square", "round", "plate"] = Field(
        "square", description="square or round pillars (3D), or plates (fins, 2D or 3D)"
    )
    pitch_um: Positive = Field(description="distance between neighbouring pillars' (plates') centres, micrometres")
    width_um: Positive = Field(description="pillar edge length or diameter (plate thickness), micrometres")
    height_um: NonNegative | None = Field(
        None, description="pillar height above the base film, micrometres (or give aef)"
    )
    aef: Positive | None = Field(
        None, description="target area enhancement factor A(electrolyte|positive)/A(footprint): sets the height"
    )
    coating_top_um: Positive | None = Field(
        None, description="electrolyte on the pillar tips, micrometres (graded coating; default: uniform)"
    )
    mesh_size_um: Positive | None = Field(None, description="largest element size, micrometres (default pitch/4)")
    interface_mesh_size_um: Positive | None = Field(
        None,
        description="element size at the charge-transfer interfaces, micrometres (default half the coating)",
    )


class Composite(Section):
    """Spherical particles of active material packed in the electrolyte (a composite cathode)."""

    volume_fraction: OpenUnit = Field(
        0.6, description="volume fraction of active material in the composite (of its box)"
    )
    particle_diameter_um: Positive = Field(5.0, description="particle diameter (monodisperse), micrometres")
    d50_um: Positive | None = Field(
        None, description="median diameter of a lognormal size distribution (replaces the diameter)"
    )
    d90_um: Positive | None = Field(None, description="90th-percentile diameter of the lognormal distribution")
    overlap: OpenUnit = Field(
        0.1, description="largest overlap depth of sintered particle contacts, fraction of the smaller radius"
    )
    porosity: Fraction = Field(0.0, description="volume fraction of spherical pores in the composite's electrolyte")
    pore_diameter_um: Positive | None = Field(
        None, description="pore diameter, micrometres (default 0.3 x the particle d50)"
    )
    seed: NonNegativeInt = Field(0, description="seed of the random packing (same seed, same microstructure)")
    length_um: Positive = Field(20.0, description="in-plane size of the composite box along y, micrometres")
    width_um: Positive = Field(20.0, description="in-plane size of the composite box along z, micrometres")
    mesh_size_um: Positive | None = Field(None, description="element size at the particle surfaces, um (default d50/8)")
    mesh_size_max_um: Positive | None = Field(
        None, description="element size away from the particles, um (default 2 x mesh_size_um)"
    )
    contact_loss_fraction: BelowOne = Field(
        0.0,
        description="share f of each particle's electrolyte contact that is lost: a spherical cap about a random "
        "axis per particle leaves the charge-transfer interface (a gap: no charge transfer, insulating)",
    )
    contact_loss_seed: NonNegativeInt | None = Field(
        None, description="seed of the caps' random axes (default: seed); the mesh does not depend on it"
    )

    @model_validator(mode="after")
    def _distribution(self) -> Composite:
        if self.d50_um is not None and (self.d90_um or 0.0) <= self.d50_um:
            raise InputError("cell.composite.d90_um", f"must be larger than d50_um = {self.d50_um}")
        if self.volume_fraction + self.porosity >= 1.0:
            raise InputError("cell.composite.porosity", "volume_fraction + porosity must stay below 1")
        return self


class Cell(Section):
    """The cell: architecture, operating temperature, its layers."""

    architecture: Literal["thin-film", "interdigitated", "composite"] = Field(
        "thin-film",
        description="cell architecture: planar layers (thin-film), pillars or plates ([cell.interdigitated]), or "
        "particles of active material in the electrolyte ([cell.composite])",
    )
    dimension: Literal[1, 2, 3] = Field(1, description="spatial dimension of the mesh")
    units: PositiveInt = Field(
        1, description="unit cells in a stack (mirrored, sharing collectors, joined in parallel through tabs)"
    )
    area_cm2: Positive = Field(1.0, description="footprint area, cm2 (converts A to A/m2)")
    temperature_K: CellTemperature = Field(298.15, description="cell temperature, K")
    reference_temperature_K: CellTemperature = Field(298.15, description="temperature at which property values hold, K")
    nominal_capacity_mAh_cm2: Positive | None = Field(
        None,
        description="capacity that defines 1C (default: positive electrode from its initial stoichiometry to 1)",
    )
    series_resistance_ohm_cm2: Positive = Field(
        1.0e-6, description="resistance between the positive terminal and the external circuit, ohm cm2"
    )
    negative_current_collector: CurrentCollector | None = None
    negative: NegativeElectrode = Field(default_factory=lambda: NegativeElectrode.model_validate({}))
    electrolyte: Electrolyte
    positive: PositiveElectrode
    positive_current_collector: CurrentCollector | None = None
    contact: Contact | None = None
    interdigitated: Interdigitated | None = None
    composite: Composite | None = None

    @model_validator(mode="before")
    @classmethod
    def _composite_defaults(cls, data: object) -> object:
        """A composite cell has a [cell.composite] section even when the config leaves it out."""
        if isinstance(data, dict) and data.get("architecture") == "composite" and data.get("composite") is None:
            return {**data, "composite": {}}
        return data

    @model_validator(mode="after")
    def _architecture(self) -> Cell:
        """Every section given acts in the chosen architecture, or is refused with the reason."""
        if self.units > 1 and (self.negative_current_collector is None or self.positive_current_collector is None):
            missing = "negative" if self.negative_current_collector is None else "positive"
            raise InputError(f"cell.{missing}_current_collector", "a stack of unit cells needs both current collectors")
        if self.negative_current_collector is not None and not self.negative.thickness_um:
            raise InputError(
                "cell.negative.thickness_um", "required with a negative current collector (the Li layer must be meshed)"
            )
        if self.interdigitated is not None and self.architecture != "interdigitated":
            raise InputError("cell.interdigitated", "applies to architecture = 'interdigitated' only")
        if self.composite is not None and self.architecture != "composite":
            raise InputError("cell.composite", "only used with cell.architecture = 'composite'")
        if self.contact is not None:
            self._check_contact()
        if self.architecture == "composite":
            self._check_composite()
        return self

    def _check_contact(self) -> None:
        """Patchy Li contact is a geometry of the thin-film builder: one 3D unit cell."""
        if self.architecture != "thin-film":
            raise InputError(
                "cell.contact",
                f"patchy contact is built for thin-film cells only; {self.architecture} cells would ignore it",
            )
        if self.dimension != 3:
            raise InputError("cell.contact", f"patchy contact needs cell.dimension = 3, got {self.dimension}")
        if self.units > 1:
            raise InputError("cell.contact", "patchy contact is built for a single unit cell (cell.units = 1)")

    def _check_composite(self) -> None:
        """A composite cathode is a 3D single cell on a positive collector, Li not meshed."""
        if self.dimension != 3:
            raise InputError("cell.dimension", f"a composite cathode is meshed in 3D: set 3, got {self.dimension}")
        if self.units != 1:
            raise InputError("cell.units", "a composite cathode is a single cell")
        if self.positive_current_collector is None:
            raise InputError("cell.positive_current_collector", "a composite cathode needs a current collector")
        if self.negative.thickness_um or self.negative_current_collector is not None:
            raise InputError("cell.negative.thickness_um", "Li is not meshed in a composite cell: leave it unset")
