"""Run configuration: TOML in, a validated and fully resolved nested dict out.

Every key is SI with its unit in its name (``thickness_um``, ``conductivity_S_m``). A layer's
properties come from the material library unless the config sets them; a value in the config
is the value at ``cell.reference_temperature_K``. Errors name the key and the reason.
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssbfem.errors import InputError
from ssbfem.materials.library import MATERIALS
from ssbfem.materials.ocp import OCP_FUNCTIONS
from ssbfem.physics.kinetics import EXCHANGE_CURRENT_LAWS, KINETICS_LAWS

_REQUIRED = object()


@dataclass(frozen=True)
class Key:
    """One config key: its type, default (or required), the check on its value, and its meaning."""

    kind: type | tuple[type, ...]
    doc: str
    default: Any = None
    check: str | None = None  # "positive", "nonnegative", "fraction" or "open_unit"
    choices: tuple | None = None


def _layer_keys(role: str, thickness_default: Any) -> dict[str, Key]:
    return {
        "material": Key(str, f"material of the layer (library name with role '{role}')", _REQUIRED),
        "thickness_um": Key(float, "thickness, micrometres", thickness_default, "positive"),
        "electronic_conductivity_S_m": Key(float, "electronic conductivity, S/m", None, "nonnegative"),
        "density_kg_m3": Key(float, "density, kg/m3 (thermal models)", None, "positive"),
        "heat_capacity_J_kg_K": Key(float, "specific heat capacity, J/(kg K) (thermal models)", None, "positive"),
        "thermal_conductivity_W_m_K": Key(
            float, "thermal conductivity across the stack (x), W/(m K)", None, "positive"
        ),
        "thermal_conductivity_in_plane_W_m_K": Key(
            float, "thermal conductivity in plane (y, z), W/(m K); default: across", None, "positive"
        ),
        "youngs_modulus_Pa": Key(float, "Young's modulus, Pa (mechanics)", None, "positive"),
        "poissons_ratio": Key(float, "Poisson's ratio (mechanics)", None, "open_unit"),
        "thermal_expansion_1_K": Key(float, "linear thermal expansion coefficient, 1/K (mechanics)", None),
    }


_KINETICS = {
    "kinetics": Key(
        str,
        "charge-transfer law: butler-volmer, linear, tafel, frumkin, mhc or a name registered in "
        "ssbfem.physics.kinetics.KINETICS_LAWS",
        "butler-volmer",
    ),
    "kinetics_parameters": Key(
        dict,
        "parameters of the kinetics law: frumkin {stern_capacitance_F_m2, concentration_mol_m3, "
        "relative_permittivity, zero_charge_overpotential_V}; mhc {reorganization_energy_eV}",
        {},
    ),
    "exchange_current_A_m2": Key(float, "exchange current density, A/m2 (positive: at x = 0.5)", None, "positive"),
    "transfer_coefficient": Key(float, "anodic transfer coefficient", None, "open_unit"),
    "cathodic_transfer_coefficient": Key(
        float, "cathodic transfer coefficient (default 1 - anodic)", None, "open_unit"
    ),
    "exchange_current_activation_energy_J_mol": Key(
        float, "Arrhenius activation energy of i0, J/mol", None, "nonnegative"
    ),
    "double_layer_F_m2": Key(
        float,
        "double-layer capacitance of the interface, F/m2 (0: none; with any, the electrolyte's displacement "
        "current is modelled too)",
        0.0,
        "nonnegative",
    ),
    "film_resistance_ohm_cm2": Key(
        float, "area-specific resistance of an interphase film in series with the kinetics, ohm cm2", 0.0, "nonnegative"
    ),
    "contact_factor": Key(
        float, "gamma_c = A_contact/A_0, scales the exchange current (Pang2021, Tian et al.)", 1.0, "positive"
    ),
}

SCHEMA: dict[str, dict[str, Key]] = {
    "cell": {
        "architecture": Key(
            str,
            "cell architecture: planar layers (thin-film), pillars or plates ([cell.interdigitated]), or "
            "particles of active material in the electrolyte ([cell.composite])",
            "thin-film",
            choices=("thin-film", "interdigitated", "composite"),
        ),
        "dimension": Key(int, "spatial dimension of the mesh", 1, choices=(1, 2, 3)),
        "units": Key(
            int, "unit cells in a stack (mirrored, sharing collectors, joined in parallel through tabs)", 1, "positive"
        ),
        "area_cm2": Key(float, "footprint area, cm2 (converts A to A/m2)", 1.0, "positive"),
        "temperature_K": Key(float, "cell temperature, K", 298.15, "positive"),
        "reference_temperature_K": Key(float, "temperature at which property values hold, K", 298.15, "positive"),
        "nominal_capacity_mAh_cm2": Key(
            float,
            "capacity that defines 1C (default: positive electrode from its initial stoichiometry to 1)",
            None,
            "positive",
        ),
        "series_resistance_ohm_cm2": Key(
            float, "resistance between the positive terminal and the external circuit, ohm cm2", 1.0e-6, "positive"
        ),
    },
    "cell.negative_current_collector": _layer_keys("current_collector", _REQUIRED),
    "cell.negative": {
        **_layer_keys("negative", None),
        "thickness_um": Key(
            float,
            "thickness, micrometres; unset: Li is not meshed and its interface is the negative terminal",
            None,
            "positive",
        ),
        "molar_volume_m3_mol": Key(
            float, "molar volume of Li metal, m3/mol (mechanics.kinetics_feedback)", None, "positive"
        ),
        **_KINETICS,
    },
    "cell.electrolyte": {
        **_layer_keys("electrolyte", _REQUIRED),
        "conductivity_S_m": Key(float, "ionic conductivity, S/m", None, "positive"),
        "conductivity_activation_energy_J_mol": Key(
            float, "Arrhenius activation energy of the conductivity, J/mol", None, "nonnegative"
        ),
        "relative_permittivity": Key(
            float, "relative permittivity (displacement current, with double layers and in impedance)", None, "positive"
        ),
    },
    "cell.positive": {
        **_layer_keys("positive", _REQUIRED),
        "max_concentration_mol_m3": Key(float, "maximum Li concentration, mol/m3", None, "positive"),
        "initial_stoichiometry": Key(float, "initial x = c/c_max", None, "open_unit"),
        "diffusivity_m2_s": Key(float, "chemical diffusivity of Li, m2/s", None, "positive"),
        "diffusivity_activation_energy_J_mol": Key(
            float, "Arrhenius activation energy of D, J/mol", None, "nonnegative"
        ),
        "ocp": Key(str, "open-circuit potential law (a name in ssbfem.materials.OCP_FUNCTIONS)", None),
        "partial_molar_volume_m3_mol": Key(float, "partial molar volume of Li, m3/mol (lithiation strain)", None),
        "entropic_coefficient": Key(str, "dU/dT law for the reversible heat ('Ai2020' for LiCoO2, 'none')", "none"),
        "exchange_current_law": Key(
            str, "'insertion': i0 (x/0.5)^alpha_c ((1-x)/0.5)^alpha_a; 'constant'", "insertion"
        ),
        **_KINETICS,
    },
    "cell.positive_current_collector": _layer_keys("current_collector", _REQUIRED),
    "cell.contact": {
        "spot_radius_um": Key(
            float, "radius a of a contact spot between Li and the electrolyte, micrometres", _REQUIRED, "positive"
        ),
        "area_fraction": Key(
            float,
            "contact area fraction f = pi a^2 / pitch^2 (< pi/4), one spot per square; the rest is void (insulating)",
            _REQUIRED,
            "open_unit",
        ),
        "element_size_um": Key(
            float,
            "element size away from the spot's edge (default: a quarter of the thinnest layer or pitch/2)",
            None,
            "positive",
        ),
        "edge_element_size_um": Key(
            float, "element size at the spot's edge (default: spot radius / 20)", None, "positive"
        ),
    },
    # The interdigitated cell's base film is cell.positive.thickness_um, its conformal coating
    # cell.electrolyte.thickness_um and the Li above the coated tips cell.negative.thickness_um.
    "cell.interdigitated": {
        "shape": Key(
            str,
            "square or round pillars (3D), or plates (fins, 2D or 3D)",
            "square",
            choices=("square", "round", "plate"),
        ),
        "pitch_um": Key(
            float, "distance between neighbouring pillars' (plates') centres, micrometres", _REQUIRED, "positive"
        ),
        "width_um": Key(float, "pillar edge length or diameter (plate thickness), micrometres", _REQUIRED, "positive"),
        "height_um": Key(float, "pillar height above the base film, micrometres (or give aef)", None, "nonnegative"),
        "aef": Key(
            float,
            "target area enhancement factor A(electrolyte|positive)/A(footprint): sets the height",
            None,
            "positive",
        ),
        "coating_top_um": Key(
            float, "electrolyte on the pillar tips, micrometres (graded coating; default: uniform)", None, "positive"
        ),
        "mesh_size_um": Key(float, "largest element size, micrometres (default pitch/4)", None, "positive"),
        "interface_mesh_size_um": Key(
            float,
            "element size at the charge-transfer interfaces, micrometres (default half the coating)",
            None,
            "positive",
        ),
    },
    "cell.composite": {
        "volume_fraction": Key(
            float, "volume fraction of active material in the composite (of its box)", 0.6, "open_unit"
        ),
        "particle_diameter_um": Key(float, "particle diameter (monodisperse), micrometres", 5.0, "positive"),
        "d50_um": Key(
            float, "median diameter of a lognormal size distribution (replaces the diameter)", None, "positive"
        ),
        "d90_um": Key(float, "90th-percentile diameter of the lognormal distribution", None, "positive"),
        "overlap": Key(
            float,
            "largest overlap depth of sintered particle contacts, fraction of the smaller radius",
            0.1,
            "open_unit",
        ),
        "porosity": Key(float, "volume fraction of spherical pores in the composite's electrolyte", 0.0, "fraction"),
        "pore_diameter_um": Key(float, "pore diameter, micrometres (default 0.3 x the particle d50)", None, "positive"),
        "seed": Key(int, "seed of the random packing (same seed, same microstructure)", 0, "nonnegative"),
        "length_um": Key(float, "in-plane size of the composite box along y, micrometres", 20.0, "positive"),
        "width_um": Key(float, "in-plane size of the composite box along z, micrometres", 20.0, "positive"),
        "mesh_size_um": Key(float, "element size at the particle surfaces, um (default d50/8)", None, "positive"),
        "mesh_size_max_um": Key(
            float, "element size away from the particles, um (default 2 x mesh_size_um)", None, "positive"
        ),
    },
    "thermal": {
        "model": Key(
            str,
            "isothermal (T = cell.temperature_K), lumped (one temperature) or full (a field)",
            "isothermal",
            choices=("isothermal", "lumped", "full"),
        ),
        "coupling": Key(
            str,
            "monolithic: one Newton solve for all fields; lagged: the electrochemistry uses the "
            "temperature of the previous step",
            "monolithic",
            choices=("monolithic", "lagged"),
        ),
        "initial_temperature_K": Key(float, "initial temperature (default cell.temperature_K)", None, "positive"),
        "ambient_K": Key(
            float, "ambient temperature of convection and radiation (default cell.temperature_K)", None, "positive"
        ),
        "boundaries": Key(
            dict,
            "per named boundary: {type = convection (h_W_m2K), radiation (emissivity), flux (flux_W_m2, "
            "inwards), fixed (temperature_K) or insulated; ambient_K}",
            {},
        ),
    },
    "mechanics": {
        "enabled": Key(bool, "compute stresses at every field snapshot (mechanics.csv, displacement field)", False),
        "stress_free_temperature_K": Key(
            float,
            "temperature without thermal stress, e.g. of sintering (default cell.temperature_K)",
            None,
            "positive",
        ),
        "degree": Key(int, "polynomial degree of the displacement", 1, choices=(1, 2)),
        "flaw_size_um": Key(float, "critical flaw size a_c of the fracture indicator, micrometres", 1.0, "positive"),
        "flaw_geometry_factor": Key(
            float, "geometry factor Y of the fracture indicator (1.12: surface crack)", 1.12, "positive"
        ),
        "boundaries": Key(
            dict,
            "per named boundary: clamped, roller_x, roller_y, roller_z or {pressure_Pa = p} (a uniform "
            "pressure, e.g. the stack pressure; default: the negative terminal clamped)",
            {},
        ),
        "kinetics_feedback": Key(
            bool,
            "stress acts back on the Li interface: its equilibrium potential shifts by Omega_Li sigma_n / F "
            "(Monroe and Newman), lagged; the mechanics is then solved after every accepted step",
            False,
        ),
    },
    "mesh": {
        "file": Key(str, "a .msh file with the named physical groups, used instead of the builder", None),
        "positive_elements": Key(int, "elements through the positive electrode", 48, "positive"),
        "electrolyte_elements": Key(int, "elements through the electrolyte", 4, "positive"),
        "negative_elements": Key(int, "elements through the negative electrode", 2, "positive"),
        "current_collector_elements": Key(int, "elements through each current collector", 2, "positive"),
        "grading": Key(
            float, "largest/smallest element size in a layer, smallest at the electrolyte", 20.0, "positive"
        ),
        "width_um": Key(float, "in-plane edge length of the 2D/3D mesh, micrometres", 10.0, "positive"),
        "in_plane_elements": Key(int, "elements along each in-plane edge", 1, "positive"),
        "degree": Key(int, "polynomial degree of the fields", 2, choices=(1, 2)),
    },
    "experiment": {
        "steps": Key(list, "experiment steps, e.g. 'Discharge at 1C until 3.0 V'", _REQUIRED),
    },
    "solver": {
        "voltage_tolerance_V": Key(float, "local error tolerance of a time step on the voltage, V", 2.0e-4, "positive"),
        "stoichiometry_tolerance": Key(
            float, "local error tolerance of a time step on the stoichiometry", 1.0e-4, "positive"
        ),
        "temperature_tolerance_K": Key(
            float, "local error tolerance of a time step on the temperature, K", 1.0e-2, "positive"
        ),
        "event_tolerance_V": Key(float, "how close a voltage cut-off is hit, V", 1.0e-4, "positive"),
        "initial_step_s": Key(float, "first time step after every change of step, s", 1.0e-3, "positive"),
        "max_step_s": Key(float, "largest time step, s", 600.0, "positive"),
        "linear_solver": Key(
            str,
            "direct (MUMPS LU), iterative (GMRES, field split with GAMG) or auto (iterative above 200k unknowns)",
            "auto",
            choices=("auto", "direct", "iterative"),
        ),
        "petsc_options": Key(dict, "PETSc options passed to the nonlinear solver", {}),
    },
    "output": {
        "field_times_s": Key(list, "times at which fields are written, s (also the start and end of every step)", []),
        "fields": Key(bool, "write VTX fields", True),
        "plot": Key(bool, "write the plots (voltage, losses, concentration, cycles)", True),
        "checkpoint_every_steps": Key(
            int, "write a checkpoint every this many accepted steps (0: never)", 200, "nonnegative"
        ),
        "checkpoint_every_s": Key(
            float, "write a checkpoint every this many seconds of wall time (0: never)", 300.0, "nonnegative"
        ),
    },
}

_ROLE_OF_SECTION = {
    "cell.negative_current_collector": "current_collector",
    "cell.negative": "negative",
    "cell.electrolyte": "electrolyte",
    "cell.positive": "positive",
    "cell.positive_current_collector": "current_collector",
}
_REQUIRED_SECTIONS = ("cell", "cell.electrolyte", "cell.positive", "experiment")
_OPTIONAL_SECTIONS = (
    "cell.negative_current_collector",
    "cell.positive_current_collector",
    "cell.contact",
    "cell.interdigitated",
    "cell.composite",
)


def read_toml(path: str | Path) -> dict:
    """Read a TOML file; a syntax error becomes an InputError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such config file")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"not valid TOML: {exc}") from None


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``key.path=value`` strings (value in TOML syntax, or a bare string)."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            raise InputError(item, "an override must read key=value")
        key, text = (s.strip() for s in item.split("=", 1))
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        *parents, leaf = key.split(".")
        node = raw
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise InputError(key, f"{p!r} is not a table")
        node[leaf] = value
    return raw


def _section(raw: dict, dotted: str) -> dict | None:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if not isinstance(node, dict):
        raise InputError(dotted, "must be a table")
    return node


def _coerce(key: str, value: Any, spec: Key) -> Any:
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = "/".join(k.__name__ for k in kinds)
        raise InputError(key, f"must be of type {names}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(key, f"must be finite, got {value!r}")
    checks = {
        "positive": (lambda v: v > 0, "must be positive"),
        "nonnegative": (lambda v: v >= 0, "must not be negative"),
        "fraction": (lambda v: 0 <= v <= 1, "must lie in [0, 1]"),
        "open_unit": (lambda v: 0 < v < 1, "must lie strictly between 0 and 1"),
    }
    if spec.check is not None:
        ok, reason = checks[spec.check]
        if not ok(value):
            raise InputError(key, f"{reason}, got {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise InputError(key, f"must be one of {', '.join(map(repr, spec.choices))}, got {value!r}")
    return value


def resolve(raw: dict) -> dict:
    """Validate a raw config and fill in defaults and library values.

    Returns a nested dict with every key set; layer sections also carry ``sources`` (where
    each value came from: the config or a library citation).
    """
    known_top = {name.split(".")[0] for name in SCHEMA}
    for top in raw:
        if top not in known_top:
            raise InputError(top, f"unknown section; known: {', '.join(sorted(known_top))}")
    for name in _REQUIRED_SECTIONS:
        if _section(raw, name) is None:
            raise InputError(name, "required section is missing")
    resolved: dict[str, Any] = {}
    for name, keys in SCHEMA.items():
        given = _section(raw, name)
        if name == "cell.composite" and resolved["cell"]["architecture"] == "composite":
            given = given or {}
        if given is None:
            if name in _OPTIONAL_SECTIONS:
                continue
            given = {}
        role = _ROLE_OF_SECTION.get(name)
        library: dict[str, Any] = {}
        sources: dict[str, str] = {}
        if role is not None:
            material = given.get("material")
            if material is None:
                if role != "negative":
                    raise InputError(f"{name}.material", "required key is missing")
                material = "Li"
            if material not in MATERIALS:
                raise InputError(f"{name}.material", f"unknown material {material!r}; known: {', '.join(MATERIALS)}")
            if MATERIALS[material].role != role:
                raise InputError(
                    f"{name}.material", f"{material!r} is a {MATERIALS[material].role} material, not a {role}"
                )
            library = MATERIALS[material].defaults()
            sources = MATERIALS[material].sources()
        subsections = {k for k in SCHEMA if k.startswith(name + ".")}
        out: dict[str, Any] = {"material": material} if role is not None else {}
        for key, value in given.items():
            dotted = f"{name}.{key}"
            if dotted in subsections or (key == "sources" and role is not None):  # a resolved config's record
                continue
            if key in keys:
                out[key] = _coerce(dotted, value, keys[key])
            elif key in library:
                spec = Key(type(library[key]), "")
                out[key] = _coerce(dotted, value, spec)
            else:
                raise InputError(dotted, f"unknown key; known: {', '.join(sorted(set(keys) | set(library)))}")
            sources[key] = "config"
        for key, spec in keys.items():
            if key in out:
                continue
            if key in library:
                out[key] = library[key]
            elif spec.default is _REQUIRED:
                raise InputError(f"{name}.{key}", "required key is missing")
            elif spec.default is not None:
                out[key] = copy.deepcopy(spec.default)
        for key, value in library.items():
            out.setdefault(key, value)
        if role is not None:
            out["sources"] = {k: sources.get(k, "default") for k in out}
        _store(resolved, name, out)
    for kinetic in ("cell.negative", "cell.positive"):
        sec = _section(resolved, kinetic)
        if sec is not None:
            sec.setdefault("cathodic_transfer_coefficient", 1.0 - sec["transfer_coefficient"])
    _resolve_thermal(resolved)
    _resolve_mechanics(resolved)
    _resolve_contact(resolved)
    _resolve_composite(resolved)
    if resolved["cell"]["units"] > 1:
        for needed in ("negative_current_collector", "positive_current_collector"):
            if needed not in resolved["cell"]:
                raise InputError(f"cell.{needed}", "a stack of unit cells needs both current collectors")
    if "interdigitated" in resolved["cell"] and resolved["cell"]["architecture"] != "interdigitated":
        raise InputError("cell.interdigitated", "applies to architecture = 'interdigitated' only")
    if "negative_current_collector" in resolved["cell"] and not resolved["cell"]["negative"].get("thickness_um"):
        raise InputError(
            "cell.negative.thickness_um", "required with a negative current collector (the Li layer must be meshed)"
        )
    for side in ("negative", "positive"):
        law = resolved["cell"][side]["kinetics"]
        if law not in KINETICS_LAWS:
            raise InputError(f"cell.{side}.kinetics", f"unknown law {law!r}; known: {', '.join(KINETICS_LAWS)}")
    registries = (("ocp", OCP_FUNCTIONS), ("exchange_current_law", EXCHANGE_CURRENT_LAWS))
    for key, registry in registries:
        value = resolved["cell"]["positive"][key]
        if value not in registry:
            raise InputError(f"cell.positive.{key}", f"unknown law {value!r}; known: {', '.join(registry)}")
    if not resolved["experiment"]["steps"]:
        raise InputError("experiment.steps", "the experiment has no steps")
    return resolved


_THERMAL_PROPERTIES = ("density_kg_m3", "heat_capacity_J_kg_K", "thermal_conductivity_W_m_K")
_BOUNDARY_KEYS = {
    "convection": ("h_W_m2K",),
    "radiation": ("emissivity",),
    "flux": ("flux_W_m2",),
    "fixed": ("temperature_K",),
    "insulated": (),
}


def _resolve_thermal(resolved: dict) -> None:
    """Defaults from the cell temperature; a thermal model needs every layer's thermal properties."""
    th, cell = resolved["thermal"], resolved["cell"]
    th.setdefault("initial_temperature_K", cell["temperature_K"])
    th.setdefault("ambient_K", cell["temperature_K"])
    for name, bc in th["boundaries"].items():
        key = f"thermal.boundaries.{name}"
        if not isinstance(bc, dict) or bc.get("type") not in _BOUNDARY_KEYS:
            raise InputError(key, f"needs type = one of {', '.join(_BOUNDARY_KEYS)}")
        for needed in _BOUNDARY_KEYS[bc["type"]]:
            if not isinstance(bc.get(needed), (int, float)):
                raise InputError(f"{key}.{needed}", f"a number is required for a {bc['type']} boundary")
        unknown = set(bc) - {"type", "ambient_K", *_BOUNDARY_KEYS[bc["type"]]}
        if unknown:
            raise InputError(f"{key}.{sorted(unknown)[0]}", f"unknown key for a {bc['type']} boundary")
    if th["model"] == "isothermal":
        return
    for section, layer in cell.items():
        if not isinstance(layer, dict) or "material" not in layer:
            continue
        if section == "negative" and not layer.get("thickness_um"):
            continue
        for prop in _THERMAL_PROPERTIES:
            if not isinstance(layer.get(prop), (int, float)):
                raise InputError(
                    f"cell.{section}.{prop}",
                    f"required by the {th['model']} thermal model (not in the library for {layer['material']})",
                )


def _resolve_contact(resolved: dict) -> None:
    """Patchy Li contact is a 3D geometry of the builder: one spot inside each square."""
    contact, cell = resolved["cell"].get("contact"), resolved["cell"]
    if contact is None:
        return
    if cell["dimension"] != 3:
        raise InputError("cell.contact", f"patchy contact needs cell.dimension = 3, got {cell['dimension']}")
    if cell["units"] > 1:
        raise InputError("cell.contact", "patchy contact is built for a single unit cell (cell.units = 1)")
    if resolved["mesh"].get("file"):
        raise InputError("cell.contact", "a mesh.file is used as it is; leave out [cell.contact] or the file")
    if contact["area_fraction"] >= math.pi / 4:
        raise InputError(
            "cell.contact.area_fraction",
            f"must be below pi/4 = {math.pi / 4:.4f} (the spot inside its square), got {contact['area_fraction']}",
        )


_MECHANICAL_PROPERTIES = ("youngs_modulus_Pa", "poissons_ratio", "thermal_expansion_1_K")


def _resolve_mechanics(resolved: dict) -> None:
    """Defaults, boundary kinds, and every layer's elastic data when mechanics is on."""
    mech, cell = resolved["mechanics"], resolved["cell"]
    mech.setdefault("stress_free_temperature_K", cell["temperature_K"])
    if not mech["boundaries"]:
        mech["boundaries"] = {"bottom" if cell["units"] > 1 else "negative_terminal": "clamped"}
    kinds = ("clamped", "roller_x", "roller_y", "roller_z")
    for name, kind in mech["boundaries"].items():
        if isinstance(kind, dict):
            if set(kind) != {"pressure_Pa"} or not isinstance(kind["pressure_Pa"], (int, float)):
                raise InputError(f"mechanics.boundaries.{name}", f"must be {{pressure_Pa = <Pa>}}, got {kind!r}")
        elif kind not in kinds:
            raise InputError(
                f"mechanics.boundaries.{name}", f"must be one of {', '.join(kinds)} or {{pressure_Pa}}, got {kind!r}"
            )
    if all(isinstance(kind, dict) for kind in mech["boundaries"].values()):
        raise InputError("mechanics.boundaries", "hold the stack somewhere (clamped or a roller), not only pressed")
    if mech["kinetics_feedback"]:
        if not mech["enabled"]:
            raise InputError("mechanics.kinetics_feedback", "needs mechanics.enabled = true")
        if not isinstance(cell["negative"].get("molar_volume_m3_mol"), (int, float)):
            raise InputError(
                "cell.negative.molar_volume_m3_mol", "required by mechanics.kinetics_feedback (not in the library)"
            )
    if not mech["enabled"]:
        return
    for section, layer in cell.items():
        if (
            not isinstance(layer, dict)
            or "material" not in layer
            or (section == "negative" and not layer.get("thickness_um"))
        ):
            continue
        needed = _MECHANICAL_PROPERTIES + (("partial_molar_volume_m3_mol",) if section == "positive" else ())
        for prop in needed:
            if not isinstance(layer.get(prop), (int, float)):
                raise InputError(
                    f"cell.{section}.{prop}", f"required by mechanics (not in the library for {layer['material']})"
                )


def _resolve_composite(resolved: dict) -> None:
    """A composite cathode is a 3D single cell on a positive collector, Li not meshed."""
    cell = resolved["cell"]
    if cell["architecture"] != "composite":
        if "composite" in cell:
            raise InputError("cell.composite", "only used with cell.architecture = 'composite'")
        return
    comp = cell["composite"]
    if cell["dimension"] != 3:
        raise InputError("cell.dimension", f"a composite cathode is meshed in 3D: set 3, got {cell['dimension']}")
    if cell["units"] != 1:
        raise InputError("cell.units", "a composite cathode is a single cell")
    if "positive_current_collector" not in cell:
        raise InputError("cell.positive_current_collector", "a composite cathode needs a current collector")
    if cell["negative"].get("thickness_um") or "negative_current_collector" in cell:
        raise InputError("cell.negative.thickness_um", "Li is not meshed in a composite cell: leave it unset")
    if comp.get("d50_um") is not None and (comp.get("d90_um") or 0.0) <= comp["d50_um"]:
        raise InputError("cell.composite.d90_um", f"must be larger than d50_um = {comp['d50_um']}")
    if comp["volume_fraction"] + comp["porosity"] >= 1.0:
        raise InputError("cell.composite.porosity", "volume_fraction + porosity must stay below 1")


def _store(root: dict, dotted: str, value: dict) -> None:
    *parents, leaf = dotted.split(".")
    node = root
    for p in parents:
        node = node.setdefault(p, {})
    node.setdefault(leaf, {}).update(value)


def load_config(path: str | Path, overrides: list[str] | None = None) -> dict:
    """Read, override, validate and resolve a config file.

    A relative ``mesh.file`` is taken relative to the config file's folder.
    """
    cfg = resolve(apply_overrides(read_toml(path), overrides or []))
    mesh_file = cfg["mesh"].get("file")
    if mesh_file and not Path(mesh_file).is_absolute():
        cfg["mesh"]["file"] = str((Path(path).parent / mesh_file).resolve())
    return cfg


def to_toml(data: dict, prefix: str = "") -> str:
    """Write a nested dict of scalars, lists and tables as TOML (enough for resolved configs)."""
    lines: list[str] = []
    tables = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    out = ""
    if lines:
        out += (f"[{prefix}]\n" if prefix else "") + "\n".join(lines) + "\n\n"
    for key, value in tables:
        out += to_toml(value, f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key))
    return out


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else f'"{key}"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table inside an array
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def reference_markdown() -> str:
    """The config reference (docs/config-reference.md), generated from SCHEMA."""
    lines = [
        "# Config reference",
        "",
        "Generated from `ssbfem.config.SCHEMA` by `python -m ssbfem.config`. Units are in the key names.",
        "A layer section also accepts any property its material has in the library",
        "(`ssbfem/materials/library.py`); values not given come from the library.",
        "",
    ]
    for section, keys in SCHEMA.items():
        lines += [f"## [{section}]", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for key, spec in keys.items():
            kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
            if spec.default is _REQUIRED:
                default = "required"
            elif spec.default is None:
                in_library = any(key in m.properties for m in MATERIALS.values())
                default = "library" if section in _ROLE_OF_SECTION and in_library else "unset"
            else:
                default = f"`{_toml_value(spec.default)}`" if not isinstance(spec.default, dict) else "`{}`"
            doc = spec.doc + (f" ({', '.join(map(str, spec.choices))})" if spec.choices else "")
            lines.append(f"| `{key}` | {'/'.join(k.__name__ for k in kinds)} | {default} | {doc} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_markdown(), end="")
