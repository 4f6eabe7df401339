"""The layers of a cell: ``[cell.negative_current_collector]``, ``[cell.negative]``,
``[cell.electrolyte]``, ``[cell.positive]``, ``[cell.positive_current_collector]``.

A layer names its material; every property it does not set comes from the material library
(:mod:`ssbfem.materials.library`), and ``sources`` records where each value came from (the
config, a literature citation, or the key's default). A value is the one at
``cell.reference_temperature_K``. Every material property (conductivities, diffusivity,
exchange current, thermal and elastic data) takes the same forms: a number, an Arrhenius table
``{value, activation_energy_J_mol}`` or a law f(T) / f(x, T) (:mod:`ssbfem.materials.property`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from ssbfem.errors import InputError
from ssbfem.materials.library import MATERIALS
from ssbfem.materials.ocp import ENTROPIC_COEFFICIENTS, OCP_FUNCTIONS
from ssbfem.physics.kinetics import EXCHANGE_CURRENT_LAWS, KINETICS_LAWS
from ssbfem.settings.types import (
    AnyProperty,
    NonNegative,
    NonNegativeProperty,
    OpenUnit,
    OpenUnitProperty,
    Positive,
    PositiveProperty,
    Section,
    SectionKeyError,
)


class Layer(Section):
    """Properties every layer has (thermal and elastic ones are needed by those models only)."""

    ROLE: ClassVar[str] = ""
    #: The default material of a layer whose section does not name one (None: required).
    DEFAULT_MATERIAL: ClassVar[str | None] = None

    material: str = Field(description="material of the layer (library name with the layer's role)")
    thickness_um: Positive = Field(description="thickness, micrometres")
    electronic_conductivity_S_m: NonNegativeProperty | None = Field(None, description="electronic conductivity, S/m")
    density_kg_m3: PositiveProperty | None = Field(None, description="density, kg/m3 (thermal models)")
    heat_capacity_J_kg_K: PositiveProperty | None = Field(
        None, description="specific heat capacity, J/(kg K) (thermal models)"
    )
    thermal_conductivity_W_m_K: PositiveProperty | None = Field(
        None, description="thermal conductivity across the stack (x), W/(m K)"
    )
    thermal_conductivity_in_plane_W_m_K: PositiveProperty | None = Field(
        None, description="thermal conductivity in plane (y, z), W/(m K); default: across"
    )
    youngs_modulus_Pa: PositiveProperty | None = Field(None, description="Young's modulus, Pa (mechanics)")
    poissons_ratio: OpenUnitProperty | None = Field(None, description="Poisson's ratio (mechanics)")
    thermal_expansion_1_K: AnyProperty | None = Field(
        None, description="linear thermal expansion coefficient, 1/K (mechanics)"
    )
    fracture_toughness_Pa_m05: Positive | None = Field(
        None, description="fracture toughness K_Ic, Pa m^0.5 (fracture indicator)"
    )
    sources: dict[str, str] = Field(
        default_factory=dict, description="where each value came from (written by ssbfem; not read)"
    )

    @model_validator(mode="before")
    @classmethod
    def _library_values(cls, data: Any) -> Any:
        """Fill what the section does not set from its material's library entry."""
        if not isinstance(data, dict):
            return data
        given = {k: v for k, v in data.items() if k != "sources"}
        record = data.get("sources") if isinstance(data.get("sources"), dict) else {}  # a resolved config's
        material = given.get("material", cls.DEFAULT_MATERIAL)
        if material is None:
            return given  # "required key is missing" from the field
        if not isinstance(material, str) or material not in MATERIALS:
            raise SectionKeyError("material", f"unknown material {material!r}; known: {', '.join(MATERIALS)}")
        entry = MATERIALS[material]
        if entry.role != cls.ROLE:
            raise SectionKeyError("material", f"{material!r} is a {entry.role} material, not a {cls.ROLE}")
        library = {k: v for k, v in entry.defaults().items() if k in cls.model_fields}
        sources = {k: record.get(k, "config") for k in given}
        sources.update({k: s for k, s in entry.sources().items() if k in library and k not in given})
        return {**library, **given, "material": material, "sources": sources}

    @model_validator(mode="after")
    def _complete_sources(self) -> Layer:
        for key, value in self:
            if key != "sources" and value is not None:
                self.sources.setdefault(key, "default")
        return self


class CurrentCollector(Layer):
    """A metal current collector."""

    ROLE: ClassVar[str] = "current_collector"


class Interface(Layer):
    """An electrode with its charge-transfer interface to the electrolyte."""

    kinetics: str = Field(
        "butler-volmer",
        description="charge-transfer law: butler-volmer, linear, tafel, frumkin, mhc or a name registered in "
        "ssbfem.physics.kinetics.KINETICS_LAWS",
    )
    kinetics_parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="parameters of the kinetics law: frumkin {stern_capacitance_F_m2, concentration_mol_m3, "
        "relative_permittivity, zero_charge_overpotential_V}; mhc {reorganization_energy_eV}",
    )
    exchange_current_A_m2: PositiveProperty | None = Field(
        None, description="exchange current density, A/m2 (positive: at x = 0.5)"
    )
    transfer_coefficient: OpenUnit | None = Field(None, description="anodic transfer coefficient")
    cathodic_transfer_coefficient: OpenUnit | None = Field(
        None, description="cathodic transfer coefficient (default 1 - anodic)"
    )
    exchange_current_activation_energy_J_mol: NonNegative | None = Field(
        None, description="Arrhenius activation energy of i0, J/mol"
    )
    double_layer_F_m2: NonNegative = Field(
        0.0,
        description="double-layer capacitance of the interface, F/m2 (0: none; with any, the electrolyte's "
        "displacement current is modelled too)",
    )
    film_resistance_ohm_cm2: NonNegative = Field(
        0.0, description="area-specific resistance of an interphase film in series with the kinetics, ohm cm2"
    )
    contact_factor: Positive = Field(
        1.0, description="gamma_c = A_contact/A_0, scales the exchange current (Pang2021, Tian et al.)"
    )

    @model_validator(mode="after")
    def _kinetics(self) -> Interface:
        if self.kinetics not in KINETICS_LAWS:
            raise InputError(
                f"cell.{self.ROLE}.kinetics", f"unknown law {self.kinetics!r}; known: {', '.join(KINETICS_LAWS)}"
            )
        if self.cathodic_transfer_coefficient is None and self.transfer_coefficient is not None:
            self.cathodic_transfer_coefficient = 1.0 - self.transfer_coefficient
            self.sources["cathodic_transfer_coefficient"] = "default: 1 - transfer_coefficient"
        return self


class NegativeElectrode(Interface):
    """Li metal: meshed when its thickness is set, else its interface is the negative terminal."""

    ROLE: ClassVar[str] = "negative"
    DEFAULT_MATERIAL: ClassVar[str | None] = "Li"

    thickness_um: Positive | None = Field(
        None, description="thickness, micrometres; unset: Li is not meshed and its interface is the negative terminal"
    )
    molar_volume_m3_mol: Positive | None = Field(
        None, description="molar volume of Li metal, m3/mol (mechanics.kinetics_feedback)"
    )
    molar_concentration_mol_m3: Positive | None = Field(None, description="Li atoms per volume of metal, mol/m3")
    shear_modulus_Pa: Positive | None = Field(None, description="shear modulus, Pa (Monroe-Newman ratio)")


class Electrolyte(Layer):
    """A single-ion solid electrolyte."""

    ROLE: ClassVar[str] = "electrolyte"

    conductivity_S_m: PositiveProperty | None = Field(None, description="ionic conductivity, S/m")
    conductivity_activation_energy_J_mol: NonNegative | None = Field(
        None, description="Arrhenius activation energy of the conductivity, J/mol"
    )
    relative_permittivity: Positive | None = Field(
        None, description="relative permittivity (displacement current, with double layers and in impedance)"
    )
    fracture_strength_Pa: Positive | None = Field(None, description="tensile fracture strength, Pa")


class PositiveElectrode(Interface):
    """The positive electrode: an insertion material whose stoichiometry diffuses."""

    ROLE: ClassVar[str] = "positive"

    max_concentration_mol_m3: Positive | None = Field(None, description="maximum Li concentration, mol/m3")
    initial_stoichiometry: OpenUnit | None = Field(None, description="initial x = c/c_max")
    diffusivity_m2_s: PositiveProperty | None = Field(None, description="chemical diffusivity of Li, m2/s")
    diffusivity_activation_energy_J_mol: NonNegative | None = Field(
        None, description="Arrhenius activation energy of D, J/mol"
    )
    ocp: str | None = Field(None, description="open-circuit potential law (a name in ssbfem.materials.OCP_FUNCTIONS)")
    partial_molar_volume_m3_mol: float | None = Field(
        None, description="partial molar volume of Li, m3/mol (lithiation strain)"
    )
    entropic_coefficient: str = Field(
        "none", description="dU/dT law for the reversible heat ('Ai2020' for LiCoO2, 'none')"
    )
    exchange_current_law: str = Field(
        "insertion", description="'insertion': i0 (x/0.5)^alpha_c ((1-x)/0.5)^alpha_a; 'constant'"
    )

    @model_validator(mode="after")
    def _laws(self) -> PositiveElectrode:
        for key, registry in (
            ("ocp", OCP_FUNCTIONS),
            ("exchange_current_law", EXCHANGE_CURRENT_LAWS),
            ("entropic_coefficient", ENTROPIC_COEFFICIENTS),
        ):
            value = getattr(self, key)
            if value not in registry:
                raise InputError(f"cell.positive.{key}", f"unknown law {value!r}; known: {', '.join(registry)}")
        return self
