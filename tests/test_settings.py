"""Typed settings: defaults and library values resolved once, every bad input refused before a
run writes anything, with the dotted key and the reason."""

from __future__ import annotations

import tomllib
import warnings

import numpy as np
import pytest
from conftest import REPO, thin_film

from ssbfem.config import load_config, resolve
from ssbfem.errors import InputError
from ssbfem.experiment import Units, parse_step
from ssbfem.materials.library import MATERIALS
from ssbfem.runner import parse_steps
from ssbfem.settings import load_settings, to_toml, validate
from ssbfem.settings.layers import CurrentCollector, Electrolyte, NegativeElectrode, PositiveElectrode

CONFIGS = sorted((REPO / "demos" / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_resolved_config_round_trips(path):
    """What a run directory records (config.toml) reads back to the same settings."""
    cfg = load_config(path)
    assert resolve(tomllib.loads(to_toml(cfg))) == cfg


def test_every_library_property_is_a_settings_key():
    """A library value is never dropped: each property of a material is a key of its layer."""
    layer_of_role = {
        "current_collector": CurrentCollector,
        "negative": NegativeElectrode,
        "electrolyte": Electrolyte,
        "positive": PositiveElectrode,
    }
    for material in MATERIALS.values():
        missing = set(material.properties) - set(layer_of_role[material.role].model_fields)
        assert not missing, f"{material.name}: {missing}"


def test_library_values_carry_their_sources():
    cfg = resolve(thin_film(cell={"electrolyte": {"material": "LLZO", "conductivity_S_m": 0.05}}))
    ely = cfg["cell"]["electrolyte"]
    assert ely["sources"]["conductivity_S_m"] == "config"
    assert ely["youngs_modulus_Pa"] == MATERIALS["LLZO"].properties["youngs_modulus_Pa"].value
    assert ely["sources"]["youngs_modulus_Pa"] == MATERIALS["LLZO"].properties["youngs_modulus_Pa"].source
    assert cfg["cell"]["positive"]["cathodic_transfer_coefficient"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "sections,key,reason",
    [
        ({"cell": {"temperature_K": 25.0}}, "cell.temperature_K", "between 200 and 600 K"),
        ({"cell": {"temperature_K": 5000.0}}, "cell.temperature_K", "between 200 and 600 K"),
        ({"thermal": {"model": "lumped", "ambient_K": 20.0}}, "thermal.ambient_K", "between 200 and 600 K"),
        ({"mechanics": {"stress_free_temperature_K": 4000.0}}, "mechanics.stress_free_temperature_K", "2000 K"),
        ({"cell": {"positive": {"diffusivty_m2_s": 1e-14}}}, "cell.positive.diffusivty_m2_s", "'diffusivity_m2_s'"),
        ({"cell": {"area_cm2": "1"}}, "cell.area_cm2", "type float"),
        ({"cell": {"units": True}}, "cell.units", "type int"),
        ({"cell": {"dimension": 4}}, "cell.dimension", "must be one of"),
        ({"cell": {"positive": {"ocp": "nope"}}}, "cell.positive.ocp", "unknown law"),
        ({"cell": {"negative": {"kinetics": "nope"}}}, "cell.negative.kinetics", "unknown law"),
        ({"cell": {"electrolyte": {"material": "Cu"}}}, "cell.electrolyte.material", "not a electrolyte"),
        ({"thermal": {"boundaries": {"top": {"type": "conv"}}}}, "thermal.boundaries.top", "needs type"),
        (
            {"thermal": {"boundaries": {"top": {"type": "fixed", "temperature_K": 300.0, "ambient_K": 300.0}}}},
            "thermal.boundaries.top.ambient_K",
            "unknown key for a fixed boundary",
        ),
        ({"thermal": {"boundaries": {"top": {"type": "convection"}}}}, "thermal.boundaries.top.h_W_m2K", "missing"),
        ({"mechanics": {"boundaries": {"top": "glued"}}}, "mechanics.boundaries.top", "must be one of"),
        ({"experiment": {"steps": []}}, "experiment.steps", "no steps"),
        ({"solver": {"petsc_option": {}}}, "solver.petsc_option", "did you mean 'petsc_options'"),
        ({"cell": {"positive": 3}}, "cell.positive", "must be a table"),
    ],
)
def test_bad_input_names_key_and_reason(sections, key, reason):
    with pytest.raises(InputError) as info:
        resolve(thin_film(**sections))
    assert info.value.key == key
    assert reason in info.value.reason
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("architecture", ["composite", "interdigitated"])
def test_contact_refused_where_it_would_be_ignored(architecture):
    """[cell.contact] shapes the thin-film builder only: elsewhere it is refused, not ignored."""
    cell = {
        "architecture": architecture,
        "dimension": 3,
        "contact": {"spot_radius_um": 1.0, "area_fraction": 0.3},
        "positive_current_collector": {"material": "Al", "thickness_um": 1.0},
    }
    if architecture == "interdigitated":
        cell["interdigitated"] = {"pitch_um": 10.0, "width_um": 4.0, "height_um": 5.0}
        cell["negative"] = {"thickness_um": 2.0}
    with pytest.raises(InputError) as info:
        resolve(thin_film(cell=cell))
    assert info.value.key == "cell.contact" and architecture in info.value.reason


def test_celsius_and_c_rate_have_one_reading_each():
    """'C' is the C-rate in every step; degC is Celsius; a C-rate cannot end a constant-current step."""
    units = Units(area_m2=1e-4, one_c_A_m2=2.0)
    with pytest.raises(InputError, match="degC"):
        parse_step("Discharge at 1C until 60 C", units)
    assert parse_step("Hold at 4.1 V until C/20", units).events[0].value == pytest.approx(0.1)
    step = parse_step("Discharge at 1C until 60 degC", units)
    assert step.events[0].quantity == "temperature" and step.events[0].value == pytest.approx(333.15)
    new = parse_step("Cool from 750 degC to 25 degC over 1 hour", units)
    with pytest.warns(FutureWarning, match="degC"):
        old = parse_step("Cool from 750 C to 25 C over 1 hour", units)
    assert old.temperature_ramp == new.temperature_ramp == pytest.approx((1023.15, 298.15))
    with pytest.raises(InputError, match="2000 K"):
        parse_step("Cool from 5000 K to 300 K over 1 hour", units)


def test_temperature_limit_needs_a_thermal_model():
    steps = "experiment.steps=['Discharge at 1C until 60 degC or 3.0 V']"
    with pytest.raises(InputError, match=r"thermal\.model"):
        parse_steps(resolve(thin_film(experiment={"steps": ["Discharge at 1C until 60 degC or 3.0 V"]})))
    thermal = load_config(REPO / "demos" / "configs" / "thin_film_thermal.toml", [steps])
    events = parse_steps(thermal).steps[0].events
    assert {e.quantity: e.value for e in events} == pytest.approx({"temperature": 333.15, "voltage": 3.0})


def test_values_set_in_python_are_recorded():
    """A law given in Python and numpy numbers are written to config.toml as readable TOML."""
    cfg = resolve(thin_film())
    cfg["cell"]["positive"]["diffusivity_m2_s"] = lambda theta, T: 1e-14 + 0 * theta
    cfg["cell"]["area_cm2"] = np.float64(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = to_toml(cfg)
    back = tomllib.loads(text)
    assert back["cell"]["area_cm2"] == 2.0
    law = back["cell"]["positive"]["diffusivity_m2_s"]
    assert law == "test_settings:test_values_set_in_python_are_recorded.<locals>.<lambda>"
    with pytest.raises(InputError, match=r"cell\.positive\.diffusivity_m2_s: cannot import the law"):
        validate(back)  # a lambda cannot be imported again: the record says so


def test_relative_paths_from_the_file_and_from_the_command_line(tmp_path, monkeypatch):
    """A relative mesh.file written in a config is its folder's; given with --set it is the
    working directory's (as any shell command's argument)."""
    folder, work = tmp_path / "configs", tmp_path / "work"
    folder.mkdir()
    work.mkdir()
    config = folder / "cell.toml"
    config.write_text((REPO / "demos" / "configs" / "thin_film.toml").read_text() + '\n[mesh]\nfile = "cell.msh"\n')
    monkeypatch.chdir(work)
    assert load_settings(config).mesh.file == str(folder / "cell.msh")
    assert load_settings(config, ["mesh.file=meshes/other.msh"]).mesh.file == str(work / "meshes" / "other.msh")
    assert load_settings(config, [f"mesh.file={tmp_path / 'x.msh'}"]).mesh.file == str(tmp_path / "x.msh")
