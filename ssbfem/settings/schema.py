"""The settings of a run: one typed tree, the single source of defaults, units and validation.

``Settings.model_validate(raw)`` checks a raw config (TOML as a dict) and fills in defaults and
library values; ``to_resolved_dict()`` gives the resolved nested dict that a run directory's
``config.toml`` records. Checks that join sections (a thermal model needs every layer's thermal
data) live here; checks within a section live with the section.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ssbfem.errors import InputError
from ssbfem.settings.cell import Cell
from ssbfem.settings.homogenised import Homogenised, check_homogenised
from ssbfem.settings.layers import Layer
from ssbfem.settings.run import Experiment, Mechanics, Mesh, Output, Pressure, Solver, Thermal
from ssbfem.settings.types import Section

_THERMAL_PROPERTIES = ("density_kg_m3", "heat_capacity_J_kg_K", "thermal_conductivity_W_m_K")
_MECHANICAL_PROPERTIES = ("youngs_modulus_Pa", "poissons_ratio", "thermal_expansion_1_K")


class Settings(Section):
    """A run's settings: the ``model``, ``[cell]``, ``[homogenised]``, ``[thermal]``, ``[mechanics]``,
    ``[mesh]``, ``[experiment]``, ``[solver]``, ``[output]``."""

    model: Literal["resolved", "homogenised"] = Field(
        "resolved",
        description="the cell model: resolved (the meshed geometry of the architecture) or homogenised (a planar "
        "stack whose positive electrode is a homogenised composite of particles, P2D; see [homogenised])",
    )
    cell: Cell
    homogenised: Homogenised | None = None
    thermal: Thermal = Field(default_factory=Thermal)
    mechanics: Mechanics = Field(default_factory=Mechanics)
    mesh: Mesh = Field(default_factory=Mesh)
    experiment: Experiment
    solver: Solver = Field(default_factory=Solver)
    output: Output = Field(default_factory=Output)

    def meshed_layers(self) -> dict[str, Layer]:
        """The layers that are meshed, by section name (Li only when its thickness is set)."""
        cell = self.cell
        layers = {
            "negative_current_collector": cell.negative_current_collector,
            "negative": cell.negative if cell.negative.thickness_um else None,
            "electrolyte": cell.electrolyte,
            "positive": cell.positive,
            "positive_current_collector": cell.positive_current_collector,
        }
        return {name: layer for name, layer in layers.items() if layer is not None}

    @model_validator(mode="before")
    @classmethod
    def _homogenised_defaults(cls, data: object) -> object:
        """The homogenised model has a [homogenised] section even when the config leaves it out."""
        if isinstance(data, dict) and data.get("model") == "homogenised" and data.get("homogenised") is None:
            return {**data, "homogenised": {}}
        return data

    @model_validator(mode="after")
    def _join_sections(self) -> Settings:
        if self.homogenised is not None and self.model != "homogenised":
            raise InputError("homogenised", "only used with model = 'homogenised'")
        if self.model == "homogenised":
            check_homogenised(self)
        self._thermal_defaults()
        self._mechanics_defaults()
        if self.cell.contact is not None and self.mesh.file:
            raise InputError("cell.contact", "a mesh.file is used as it is; leave out [cell.contact] or the file")
        return self

    def _thermal_defaults(self) -> None:
        """Temperatures default to the cell's; a thermal model needs every layer's thermal data."""
        thermal = self.thermal
        if thermal.initial_temperature_K is None:
            thermal.initial_temperature_K = self.cell.temperature_K
        if thermal.ambient_K is None:
            thermal.ambient_K = self.cell.temperature_K
        for name, bc in thermal.boundaries.items():
            if bc.type == "fixed" and thermal.model == "lumped":
                raise InputError(f"thermal.boundaries.{name}", "a fixed temperature needs the full thermal model")
        if thermal.model == "isothermal":
            return
        self._require(_THERMAL_PROPERTIES, f"the {thermal.model} thermal model")

    def _mechanics_defaults(self) -> None:
        """Default boundary (the negative terminal clamped); every layer's elastic data when on."""
        mech, cell = self.mechanics, self.cell
        if mech.stress_free_temperature_K is None:
            mech.stress_free_temperature_K = cell.temperature_K
        if not mech.boundaries:
            mech.boundaries = {"bottom" if cell.units > 1 else "negative_terminal": "clamped"}
        if all(isinstance(kind, Pressure) for kind in mech.boundaries.values()):
            raise InputError("mechanics.boundaries", "hold the stack somewhere (clamped or a roller), not only pressed")
        if mech.substrate_thermal_expansion_1_K is not None and (cell.architecture, cell.dimension) != ("thin-film", 1):
            raise InputError(
                "mechanics.substrate_thermal_expansion_1_K",
                "applies to a 1D thin film (in 2D and 3D, mesh the substrate)",
            )
        if mech.kinetics_feedback:
            if not mech.enabled:
                raise InputError("mechanics.kinetics_feedback", "needs mechanics.enabled = true")
            if cell.negative.molar_volume_m3_mol is None:
                raise InputError(
                    "cell.negative.molar_volume_m3_mol", "required by mechanics.kinetics_feedback (not in the library)"
                )
        if mech.enabled:
            self._require(_MECHANICAL_PROPERTIES, "mechanics", positive_extra=("partial_molar_volume_m3_mol",))

    def _require(self, properties: tuple[str, ...], by: str, positive_extra: tuple[str, ...] = ()) -> None:
        for section, layer in self.meshed_layers().items():
            for prop in properties + (positive_extra if section == "positive" else ()):
                if getattr(layer, prop) is None:
                    raise InputError(
                        f"cell.{section}.{prop}", f"required by {by} (not in the library for {layer.material})"
                    )

    def to_resolved_dict(self) -> dict[str, Any]:
        """The resolved config as a nested dict: every key set (unset optional keys left out),
        layer sections with their ``sources``."""
        return self.model_dump(exclude_none=True)
