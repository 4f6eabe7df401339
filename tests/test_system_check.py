"""The system packages check (ssbfem/system_check.py) that `make venv` runs before making the venv:
it names the Debian/Ubuntu and Fedora/RHEL package of what is missing, and its list is what
Gmsh's libgmsh.so links against."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from ssbfem import system_check

# The C and C++ runtimes of every Linux system with a compiler-built Python.
BASE = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libstdc++.so.6", "libgcc_s.so.1"}


def _needed(path: Path) -> list[str]:
    """DT_NEEDED entries of a 64-bit little-endian ELF file (its .dynamic section)."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, path
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC
    strtab = sections[dynamic[6]][4]  # sh_link: the string table, at its file offset
    names = []
    for offset in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, offset)
        if tag == 0:
            break
        if tag == 1:  # DT_NEEDED
            start = strtab + value
            names.append(data[start : data.index(b"\0", start)].decode())
    return names


def _wheel_libgmsh() -> list[Path]:
    """libgmsh.so of the PyPI wheel (in the environment's lib/), none for a conda or system Gmsh."""
    spec = importlib.util.find_spec("gmsh")
    assert spec is not None and spec.origin is not None
    return sorted(Path(sys.prefix).glob("lib*/libgmsh.so*")) + sorted(Path(spec.origin).parent.glob("libgmsh.so*"))


def test_the_list_is_what_libgmsh_links_against():
    libraries = _wheel_libgmsh()
    if not libraries:
        pytest.skip("Gmsh is not the PyPI wheel (no libgmsh.so beside it)")
    needed = set(_needed(libraries[0])) - BASE - {n for n in _needed(libraries[0]) if n.startswith("ld-linux")}
    assert needed == {r.name for r in system_check.GMSH_LIBRARIES}


def test_nothing_is_missing_on_a_machine_that_runs_the_tests():
    """Where the tests run with Gmsh's wheel, its libraries are there (the suite meshes with it):
    the check finds them all and says nothing."""
    if not _wheel_libgmsh():
        pytest.skip("Gmsh is not the PyPI wheel: its libraries need not be the system's")
    env = {k: v for k, v in os.environ.items() if k != "SSBFEM_ASSUME_MISSING"}
    result = subprocess.run(
        [sys.executable, "-I", str(REPO / "ssbfem" / "system_check.py")], capture_output=True, text=True, env=env
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_venv_names_the_missing_packages_and_makes_no_venv(tmp_path):
    """A fresh clone (the Makefile and what it reads) on a machine without libGLU and ensurepip
    (SSBFEM_ASSUME_MISSING): make stops before `python -m venv` with the apt-get and dnf lines."""
    (tmp_path / "ssbfem").mkdir()
    for name in ("Makefile", "pyproject.toml", "ssbfem/system_check.py"):
        shutil.copy(REPO / name, tmp_path / name)
    env = dict(os.environ, SSBFEM_ASSUME_MISSING="libGLU.so.1,ensurepip")
    result = subprocess.run(
        ["make", "venv", f"PYTHON={sys.executable}"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode != 0
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"sudo apt-get install python{version}-venv libglu1-mesa\n" in result.stderr
    assert "sudo dnf install mesa-libGLU\n" in result.stderr
    assert "libGLU.so.1 (Gmsh's libgmsh.so): Debian/Ubuntu libglu1-mesa, Fedora/RHEL mesa-libGLU" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_the_container_recipes_install_every_debian_package():
    for recipe in ("Dockerfile", "Dockerfile.pypi", "ssbfem.def"):
        text = (REPO / "docker" / recipe).read_text()
        # zlib1g is an essential package of every Debian system
        absent = [r.debian for r in system_check.GMSH_LIBRARIES if r.debian not in {*text.split(), "zlib1g"}]
        assert absent == [], f"docker/{recipe} does not install {absent}"


def test_the_docs_name_every_package():
    """README and docs/installation.md give the install lines for everything the check looks for."""
    debian = " ".join(["python3-venv", *(r.debian for r in system_check.GMSH_LIBRARIES if r.debian != "zlib1g")])
    fedora = " ".join(r.fedora for r in system_check.GMSH_LIBRARIES if r.fedora != "zlib")
    for doc in ("README.md", "docs/installation.md"):
        text = " ".join((REPO / doc).read_text().replace("\\\n", " ").split())
        assert f"sudo apt-get install {debian}" in text, doc
    installation = " ".join((REPO / "docs/installation.md").read_text().replace("\\\n", " ").split())
    assert f"sudo dnf install {fedora}" in installation
    for r in system_check.REQUIREMENTS:
        assert f"`{r.name}`" in installation and f"`{r.debian}`" in installation, r


def test_ssbfem_names_the_package_when_import_gmsh_fails(tmp_path):
    """Installed without make: `import gmsh` raises the loader's OSError for a missing libGLU (a
    stand-in gmsh module first on the path raises it); `ssbfem mesh` says which package to install
    instead of a traceback, exits with 2 and writes nothing."""
    (tmp_path / "gmsh.py").write_text(
        'raise OSError("libGLU.so.1: cannot open shared object file: No such file or directory")\n'
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    code = "import sys\nfrom ssbfem.cli import main\nsys.exit(main(sys.argv[1:]))"
    config = REPO / "demos" / "configs" / "thin_film.toml"
    result = subprocess.run(
        [sys.executable, "-c", code, "mesh", str(config), "-o", str(tmp_path / "cell.msh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "libGLU.so.1" in result.stderr and "sudo apt-get install libglu1-mesa\n" in result.stderr
    assert "sudo dnf install mesa-libGLU\n" in result.stderr
    assert not (tmp_path / "cell.msh").exists()


def test_other_os_errors_are_not_explained():
    assert system_check.explain(OSError("results: Permission denied")) is None
