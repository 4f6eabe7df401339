"""The command line: a full run's outputs, overrides, and clear errors for bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from conftest import DEMO_CONFIG, REPO

from ssbfem.cli import main


def test_run_writes_outputs(tmp_path):
    out = tmp_path / "run"
    code = main(
        ["run", str(DEMO_CONFIG), "--output", str(out), "--set", "experiment.steps=['Discharge at 4C until 3.5 V']"]
    )
    assert code == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "complete"
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    for column in ("time_s", "current_A_m2", "voltage_V", "capacity_mAh_cm2"):
        assert column in rows[0]
    assert float(rows[-1]["voltage_V"]) == pytest.approx(3.5, abs=1e-3)
    # 4C of the nominal 0.208333 mAh/cm2, discharge positive
    assert float(rows[-1]["current_A_m2"]) == pytest.approx(4 * 2.08333, rel=1e-6)
    assert (out / "voltage.png").stat().st_size > 10_000
    for field in ("phi_e", "phi_s_positive", "c"):
        assert (out / "fields" / f"{field}.bp").is_dir()
    assert "diffusivity_m2_s = 5.387e-15" in (out / "config.toml").read_text()


def test_set_overrides_a_value(tmp_path):
    """A faster diffusivity delays the cut-off: more capacity than the default film."""
    base, fast = tmp_path / "base", tmp_path / "fast"
    steps = "experiment.steps=['Discharge at 4C until 3.5 V']"
    assert main(["run", str(DEMO_CONFIG), "-o", str(base), "--set", steps, "--set", "output.fields=false"]) == 0
    assert (
        main(
            [
                "run",
                str(DEMO_CONFIG),
                "-o",
                str(fast),
                "--set",
                steps,
                "--set",
                "output.fields=false",
                "--set",
                "cell.positive.diffusivity_m2_s=1e-13",
            ]
        )
        == 0
    )
    q = [json.loads((d / "run.json").read_text())["final_capacity_mAh_cm2"] for d in (base, fast)]
    assert q[1] > 2 * q[0]


BAD_INPUT = [
    ("cell.electrolyte.thickness_um=0", "cell.electrolyte.thickness_um", "must be positive"),
    ("cell.positive.thickness_um=-3", "cell.positive.thickness_um", "must be positive"),
    ("cell.electrolyte.material='Unobtainium'", "cell.electrolyte.material", "unknown material"),
    ("cell.positive.material='LiPON'", "cell.positive.material", "not a positive"),
    ("experiment.steps=['Discharge at 1C until 4.5 V']", "experiment.steps[0]", "open-circuit voltage"),
    ("experiment.steps=['Discharge at 1 parsec until 3 V']", "experiment.steps[0]", "unknown unit"),
    ("cell.positive.initial_stoichiometry=1.2", "cell.positive.initial_stoichiometry", "between 0 and 1"),
    ("cell.positive.diffusivty_m2_s=1e-14", "cell.positive.diffusivty_m2_s", "unknown key"),
    ("mesh.file='missing.msh'", "mesh.file", "no such file"),
]


@pytest.mark.parametrize("override,key,reason", BAD_INPUT)
def test_bad_input_exit_2_and_no_output(tmp_path, capsys, override, key, reason):
    out = tmp_path / "never"
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), "--set", override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, "one line"
    assert key in err and reason in err
    assert not out.exists()


def test_mesh_missing_physical_group(tmp_path, capsys):
    """A user mesh without the positive terminal is refused, naming the group."""
    import gmsh

    from ssbfem.geometry.thin_film import Layer, build_thin_film

    path = tmp_path / "bad.msh"
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    build_thin_film([Layer("electrolyte", 3.62, 4, True, True), Layer("positive", 8.08, 8, True)], 1)
    group = [t for d, t in gmsh.model.getPhysicalGroups(0) if gmsh.model.getPhysicalName(d, t) == "positive_terminal"]
    gmsh.model.removePhysicalGroups([(0, group[0])])
    gmsh.write(str(path))
    gmsh.finalize()
    out = tmp_path / "never"
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), "--set", f"mesh.file='{path}'"]) == 2
    err = capsys.readouterr().err
    assert "positive_terminal" in err and "mesh" in err
    assert not out.exists()


def test_exit_status_from_a_fresh_process(tmp_path):
    """The installed entry point: exit 2 on bad input, without a traceback."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ssbfem.cli",
            "run",
            str(DEMO_CONFIG),
            "-o",
            str(tmp_path / "x"),
            "--set",
            "cell.electrolyte.thickness_um=0",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cell.electrolyte.thickness_um: must be positive" in proc.stderr


def test_mesh_command_writes_msh(tmp_path):
    path = tmp_path / "cell.msh"
    assert main(["mesh", str(DEMO_CONFIG), "-o", str(path), "--set", "cell.dimension=2"]) == 0
    text = path.read_text()
    for name in (
        "electrolyte",
        "positive",
        "negative_terminal",
        "positive_terminal",
        "electrolyte|positive",
        "lateral",
    ):
        assert f'"{name}"' in text


def test_shipped_mesh_reproduces_the_builder(reference_discharge, tmp_path):
    """meshes/thin_film_1d.msh (written by `ssbfem mesh`) gives the builder's result."""
    from conftest import simulate, thin_film

    result = simulate(thin_film(mesh={"file": str(REPO / "meshes" / "thin_film_1d.msh")}))
    assert result.series.rows[-1]["capacity_mAh_cm2"] == pytest.approx(
        reference_discharge.series.rows[-1]["capacity_mAh_cm2"], rel=1e-9
    )


def test_info_reports_the_stack(capsys):
    from ssbfem._dolfinx import dolfinx

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"dolfinx: {dolfinx.__version__}" in out and "mumps" in out and "ranks: 1" in out


SHORT = [
    "--set",
    "experiment.steps=['Discharge at 4C until 3.5 V', 'Rest for 10 minutes']",
    "--set",
    "output.plot=false",
]


def test_earlier_run_is_kept_unless_overwrite(tmp_path, capsys):
    """A second run into the same folder is refused (exit 2, the folder and --overwrite named,
    the earlier run untouched); --overwrite replaces it."""
    out = tmp_path / "run"
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), *SHORT]) == 0
    started = json.loads((out / "run.json").read_text())["started"]
    (out / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), *SHORT]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--overwrite" in err
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "run.json").read_text())["started"] == started
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), "--overwrite", *SHORT]) == 0
    assert not (out / "notes.txt").exists()
    assert json.loads((out / "run.json").read_text())["status"] == "complete"


def test_run_log_accounts_for_every_step(tmp_path):
    """run.log: one line per experiment step whose counts add up to the run's totals in
    run.json; a summary and the wall time per phase at the end."""
    out = tmp_path / "run"
    assert main(["run", str(DEMO_CONFIG), "-o", str(out), *SHORT]) == 0
    meta = json.loads((out / "run.json").read_text())
    steps = list(csv.DictReader((out / "steps.csv").open()))
    log = (out / "run.log").read_text()
    for name, total in (("time_steps", "accepted_steps"), ("rejected_steps", "rejected_steps")):
        assert sum(int(s[name]) for s in steps) == meta[total]
    for name in ("newton_iterations", "linear_iterations"):
        assert sum(int(s[name]) for s in steps) == meta[name]
    # a factorisation: one linear solve per Newton iteration, at least one per time step
    assert meta["linear_iterations"] == meta["newton_iterations"] >= meta["accepted_steps"] > 0
    for s in steps:
        line = next(x for x in log.splitlines() if f"step {s['step']} " in x)
        assert f"{s['time_steps']} time steps, {s['rejected_steps']} rejected" in line
        assert f"{s['newton_iterations']} Newton iterations, {s['linear_iterations']} linear iterations" in line
    assert f"summary: 2 of 2 steps finished; {meta['accepted_steps']} time steps" in log
    phases = meta["wall_time_per_phase_s"]
    assert set(phases) == {"mesh_s", "forms_s", "solve_s", "fields_s", "tables_and_plots_s"}
    assert "wall time: mesh" in log and "forms" in log


def test_version_names_the_package_and_dolfinx(capsys):
    from ssbfem import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"ssbfem {__version__}")
    assert "DOLFINx 0.11" in text


def test_compile_notice_on_the_terminal(tmp_path, capsys):
    """With progress shown (a terminal), rank 0 says that the forms are compiling."""
    from ssbfem.runner import COMPILE_NOTICE, run
    from ssbfem.settings import load_settings

    cfg = load_settings(DEMO_CONFIG, ["experiment.steps=['Rest for 1 second']", "output.plot=false"])
    run(cfg, tmp_path / "run", progress=True)
    assert COMPILE_NOTICE in capsys.readouterr().err


def test_relative_paths_from_another_working_directory(tmp_path, monkeypatch):
    """Run from a working directory that is neither the repository nor the config's folder: the
    config and --output paths and a --set mesh.file are the working directory's; a mesh.file
    written in the config is the config's folder's."""
    configs, work = tmp_path / "configs", tmp_path / "work"
    (configs / "meshes").mkdir(parents=True)
    (work / "meshes").mkdir(parents=True)
    mesh = (REPO / "meshes" / "thin_film_1d.msh").read_text()
    (configs / "meshes" / "film.msh").write_text(mesh)
    (work / "meshes" / "other.msh").write_text(mesh)
    text = DEMO_CONFIG.read_text() + '\n[mesh]\nfile = "meshes/film.msh"\n'
    (configs / "cell.toml").write_text(text)
    monkeypatch.chdir(work)
    steps = ["--set", "experiment.steps=['Discharge at 1C for 20 s']", "--set", "output.fields=false"]
    assert main(["run", "../configs/cell.toml", "-o", "out/a", *steps]) == 0
    assert main(["run", "../configs/cell.toml", "-o", "out/b", *steps, "--set", "mesh.file=meshes/other.msh"]) == 0
    recorded = {d: json.loads((work / "out" / d / "run.json").read_text()) for d in ("a", "b")}
    assert recorded["a"]["status"] == recorded["b"]["status"] == "complete"
    mesh_of = {d: (work / "out" / d / "config.toml").read_text() for d in ("a", "b")}
    assert str(configs / "meshes" / "film.msh") in mesh_of["a"]
    assert str(work / "meshes" / "other.msh") in mesh_of["b"]
    assert not (configs / "out").exists() and not (REPO / "out").exists()


@pytest.mark.parametrize("command", [[], ["run"], ["sweep"], ["mesh"]])
def test_help_says_where_relative_paths_start(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "relative to the working directory" in text and "relative to that file's folder" in text
