"""The material library: literature values, each with its source.

Keys are the config keys of a layer (``[cell.electrolyte]`` and so on), in SI units named by
their suffix, and mean the value at ``reference_temperature_K`` (298.15 K unless a config sets
another). Activation energies are in J/mol (converted from eV where the source gives eV).

Sources (short keys):
    Pang2021       M.-C. Pang et al., Materials Today (2021), Table 1 and text.
    Ren2023        Y. Ren et al., Adv. Energy Mater. (2023), Tables 2-3 (moduli columns corrected).
    Fu2022         Z.-H. Fu, X. Chen, Q. Zhang, WIREs Comput. Mol. Sci. (2022).
    Agne2022       M. T. Agne et al., PRX Energy 1, 031002 (2022).
    Raijmakers2020 L. H. J. Raijmakers et al., Electrochim. Acta 330 (2020) 135147.
    Dualfoil1998   M. Doyle, T. F. Fuller, J. Newman, Dualfoil LiCoO2 parameters.
    Ai2020         W. Ai et al., J. Electrochem. Soc. 167 (2020) 013512.
    Chen2020       C.-H. Chen et al., J. Electrochem. Soc. 167 (2020) 080534.
    CRC            CRC Handbook of Chemistry and Physics, 97th ed., electrical resistivity of
                   the elements at 20-25 C.
"""

from __future__ import annotations

from dataclasses import dataclass

from ssbfem.constants import EV_TO_J_MOL


@dataclass(frozen=True)
class Property:
    """One literature value: value in the unit its key names, and where it comes from."""

    value: float | str
    source: str


@dataclass(frozen=True)
class Material:
    """A material: its role in a cell and its properties by config key."""

    name: str
    role: str  # "electrolyte", "positive", "negative" or "current_collector"
    properties: dict[str, Property]

    def defaults(self) -> dict[str, float | str]:
        return {k: p.value for k, p in self.properties.items()}

    def sources(self) -> dict[str, str]:
        return {k: p.source for k, p in self.properties.items()}


def _ev(x: float) -> float:
    return x * EV_TO_J_MOL


def _electrolyte(name: str, sigma: float, sigma_src: str, ea_ev: float, ea_src: str, **extra: Property) -> Material:
    props = {
        "conductivity_S_m": Property(sigma, sigma_src),
        "conductivity_activation_energy_J_mol": Property(_ev(ea_ev), f"{ea_src}: {ea_ev} eV"),
        "electronic_conductivity_S_m": Property(0.0, "electronic leakage off unless set"),
    }
    props.update(extra)
    return Material(name, "electrolyte", props)


#: Young's modulus (Pa), Poisson's ratio and linear expansion (1/K) of the collector metals, CRC.
_METAL_ELASTICITY = {
    "Cu": (130e9, 0.34, 16.5e-6),
    "Al": (70e9, 0.35, 23.1e-6),
    "Pt": (168e9, 0.38, 8.8e-6),
    "Ni": (200e9, 0.31, 13.4e-6),
    "Au": (79e9, 0.44, 14.2e-6),
}


def _metal(
    name: str, sigma: float, resistivity: str, density: float, cp: float, cp_source: str, k: float, **extra: Property
) -> Material:
    """A current-collector metal: electrical, thermal and elastic data at room temperature."""
    youngs, poisson, expansion = _METAL_ELASTICITY[name]
    props = {
        "electronic_conductivity_S_m": Property(sigma, f"CRC: {resistivity}"),
        "density_kg_m3": Property(density, "CRC"),
        "heat_capacity_J_kg_K": Property(cp, cp_source),
        "thermal_conductivity_W_m_K": Property(k, "CRC"),
        "youngs_modulus_Pa": Property(youngs, "CRC"),
        "poissons_ratio": Property(poisson, "CRC"),
        "thermal_expansion_1_K": Property(expansion, "CRC"),
    }
    props.update(extra)
    return Material(name, "current_collector", props)


_MATERIALS = [
    _electrolyte(
        "LiPON",
        1.0e-4,
        "Pang2021 T1: 1e-6 S/cm",
        0.51,
        "Pang2021 T1 (0.45-0.55)",
        electronic_conductivity_S_m=Property(0.0, "leakage off by default; Pang2021: 1e-14 S/cm"),
        density_kg_m3=Property(2680.0, "Pang2021 T1: 2.68 g/cm3"),
        heat_capacity_J_kg_K=Property(1400.0, "Pang2021 T1"),
        thermal_conductivity_W_m_K=Property(1.4, "Pang2021 (cross-plane)"),
        relative_permittivity=Property(19.98, "Pang2021 T1 (film)"),
        youngs_modulus_Pa=Property(77e9, "Pang2021 T1"),
        poissons_ratio=Property(0.25, "Pang2021 T1"),
    ),
    _electrolyte(
        "LLZO",
        1.0e-2,
        "Pang2021 T1: 1e-4 S/cm (doped up to 1-2e-3 S/cm)",
        0.42,
        "Pang2021 T1",
        density_kg_m3=Property(5077.0, "Ren2023: 5.077 g/cm3"),
        heat_capacity_J_kg_K=Property(553.0, "Pang2021 T1"),
        thermal_conductivity_W_m_K=Property(0.47, "Agne2022 refs (sintered)"),
        thermal_expansion_1_K=Property(1.55e-5, "Pang2021 T1, Ren2023"),
        relative_permittivity=Property(40.0, "Pang2021 T1 (bulk)"),
        youngs_modulus_Pa=Property(150e9, "Ren2023 T2 (147-150 GPa)"),
        poissons_ratio=Property(0.26, "Ren2023 T2"),
        fracture_toughness_Pa_m05=Property(1.25e6, "Pang2021 T1"),
        fracture_strength_Pa=Property(100e6, "Ren2023 (100-150 MPa, lower bound)"),
    ),
    _electrolyte(
        "Li2S-P2S5",
        1.0e-2,
        "Pang2021 T1: 1e-4 to 1e-3 S/cm (lower bound)",
        0.45,
        "Pang2021 T1 (0.39-0.52, mid)",
        density_kg_m3=Property(1910.0, "Pang2021 T1 (1.45-1.91 g/cm3)"),
        thermal_conductivity_W_m_K=Property(0.45, "Agne2022 refs (sulfides 0.45-0.70)"),
        youngs_modulus_Pa=Property(18.5e9, "Ren2023 T2 (8.8-25 GPa)"),
        poissons_ratio=Property(0.3, "Ren2023 T2 (0.27-0.33)"),
        fracture_toughness_Pa_m05=Property(0.23e6, "Pang2021 T1"),
    ),
    _electrolyte(
        "Li6PS5Cl",
        0.062,
        "Fu2022: 0.62e-3 S/cm (to 2.4e-3)",
        0.33,
        "Fu2022",
        youngs_modulus_Pa=Property(22e9, "Ren2023 T2"),
        poissons_ratio=Property(0.37, "Ren2023 T2"),
    ),
    _electrolyte("LGPS", 1.2, "Fu2022: 1.2e-2 S/cm", 0.22, "Fu2022 (0.21-0.24)"),
    Material(
        "LiCoO2",
        "positive",
        {
            "max_concentration_mol_m3": Property(49943.0, "Ai2020 (bulk); thin films: 3.22e4, Raijmakers2020"),
            "initial_stoichiometry": Property(0.51, "Raijmakers2020 (after charge to 4.2 V)"),
            "diffusivity_m2_s": Property(5.387e-15, "Dualfoil1998"),
            "diffusivity_activation_energy_J_mol": Property(5000.0, "Dualfoil1998"),
            "electronic_conductivity_S_m": Property(
                1.0e2, "Ren2023: 1e-3 to 10 S/cm, rising with Li deficiency; 1 S/cm taken"
            ),
            "ocp": Property("Dualfoil1998", "Dualfoil1998; 'Raijmakers2020' for the thin-film EMF table"),
            "exchange_current_A_m2": Property(4.70, "Raijmakers2020: 0.470 mA/cm2 at x = 0.51"),
            "transfer_coefficient": Property(0.5, "Raijmakers2020"),
            "exchange_current_activation_energy_J_mol": Property(0.0, "not in the sources: isothermal unless set"),
            "thermal_conductivity_W_m_K": Property(8.4, "Pang2021 (cross-plane, first principles)"),
            "thermal_conductivity_in_plane_W_m_K": Property(53.6, "Pang2021 (in-plane, first principles)"),
            "entropic_coefficient": Property("Ai2020", "Ai2020 (fit for 0.43 < x < 0.9936)"),
            "thermal_expansion_1_K": Property(1.25e-5, "Ren2023"),
            "youngs_modulus_Pa": Property(375e9, "Ai2020"),
            "poissons_ratio": Property(0.2, "Ai2020"),
            "partial_molar_volume_m3_mol": Property(-7.28e-7, "Ai2020"),
        },
    ),
    Material(
        "NMC811",
        "positive",
        {
            "max_concentration_mol_m3": Property(50060.0, "Ren2023 T3 (4.87 g/cm3, 97.28 g/mol)"),
            "initial_stoichiometry": Property(0.27, "Chen2020: about 0.27 at full charge of the LG M50 cell"),
            "diffusivity_m2_s": Property(2.54e-16, "Ren2023 T3 (polycrystal; 2.54e-15 single crystal)"),
            "diffusivity_activation_energy_J_mol": Property(0.0, "not in the sources: isothermal unless set"),
            "electronic_conductivity_S_m": Property(4.54, "Ren2023 T3: 4.54e-2 S/cm"),
            "ocp": Property("Chen2020", "Chen2020"),
            "exchange_current_A_m2": Property(1.0, "no source: set it for your cell"),
            "transfer_coefficient": Property(0.5, "symmetric default"),
            "exchange_current_activation_energy_J_mol": Property(0.0, "not in the sources: isothermal unless set"),
            "density_kg_m3": Property(4870.0, "Ren2023 T3"),
            "thermal_expansion_1_K": Property(1.3e-5, "Ren2023"),
            "youngs_modulus_Pa": Property(199e9, "Ren2023 T2"),
            "poissons_ratio": Property(0.253, "Ren2023 T2 (NCM111)"),
        },
    ),
    Material(
        "Li",
        "negative",
        {
            "exchange_current_A_m2": Property(5.75, "Raijmakers2020: 0.575 mA/cm2 (Li | LiPON)"),
            "transfer_coefficient": Property(0.5, "Raijmakers2020"),
            "exchange_current_activation_energy_J_mol": Property(0.0, "not in the sources: isothermal unless set"),
            "electronic_conductivity_S_m": Property(1.08e7, "CRC: 92.8 nOhm m"),
            "molar_concentration_mol_m3": Property(7.64e4, "Raijmakers2020"),
            "molar_volume_m3_mol": Property(1.30e-5, "CRC: 6.94 g/mol over 534 kg/m3"),
            "youngs_modulus_Pa": Property(7.8e9, "Pang2021 (1.9-7.8 GPa)"),
            "shear_modulus_Pa": Property(4.25e9, "Pang2021"),
            "poissons_ratio": Property(0.36, "CRC"),
            "thermal_expansion_1_K": Property(46e-6, "CRC"),
            "thermal_conductivity_W_m_K": Property(81.8, "Pang2021"),
            "density_kg_m3": Property(534.0, "CRC"),
            "heat_capacity_J_kg_K": Property(3582.0, "CRC"),
        },
    ),
    _metal("Cu", 5.96e7, "16.8 nOhm m", 8960.0, 390.0, "Pang2021", 401.0),
    _metal(
        "Al",
        3.77e7,
        "26.5 nOhm m",
        2700.0,
        897.0,
        "CRC",
        237.0,
        fracture_toughness_Pa_m05=Property(30e6, "Pang2021 (25-35 MPa m^0.5)"),
    ),
    _metal("Pt", 9.43e6, "106 nOhm m", 21450.0, 133.0, "CRC", 71.6),
    _metal("Ni", 1.43e7, "69.3 nOhm m", 8908.0, 444.0, "CRC", 90.9),
    _metal("Au", 4.10e7, "24.4 nOhm m", 19300.0, 129.0, "CRC", 318.0),
]

MATERIALS: dict[str, Material] = {m.name: m for m in _MATERIALS}


def get_material(name: str) -> Material:
    """Look up a material by name (KeyError lists the known names)."""
    try:
        return MATERIALS[name]
    except KeyError:
        raise KeyError(f"unknown material {name!r}; known: {', '.join(MATERIALS)}") from None
