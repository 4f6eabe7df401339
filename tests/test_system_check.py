"""scripts/check_system.sh, which `make` runs before it builds the virtual environment: a missing
system library is named with the packages that provide it, never a traceback from gmsh."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import gmsh

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_system.sh"


def _check(tmp_path: Path, listing: str) -> subprocess.CompletedProcess:
    """The check with an ldconfig that lists only `listing`."""
    fake = tmp_path / "ldconfig"
    fake.write_text(f"#!/bin/sh\nprintf '%s' '{listing}'\n")
    fake.chmod(0o755)
    env = {"LDCONFIG": str(fake), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["bash", str(SCRIPT), sys.executable], capture_output=True, text=True, env=env, timeout=60)


def test_missing_libraries_are_named_with_their_packages(tmp_path):
    x11 = "1 libs found\n\tlibX11.so.6 (libc6,x86-64) => /usr/lib/libX11.so.6\n"
    proc = _check(tmp_path, x11)
    assert proc.returncode == 1
    assert "libGLU.so.1" in proc.stderr and "libXinerama.so.1" in proc.stderr
    assert "apt-get install -y libglu1-mesa" in proc.stderr and "libxinerama1" in proc.stderr
    assert "dnf install -y mesa-libGLU" in proc.stderr
    assert "libx11-6" not in proc.stderr  # what is there is not asked for


def test_every_library_gmsh_links_is_checked():
    """The script's list covers the X11, OpenGL and OpenMP libraries the installed gmsh library
    links directly (its ELF NEEDED entries, read from the file), and this machine passes."""
    library = next(Path(sys.prefix).glob("lib/libgmsh.so*"), None) or next(
        Path(gmsh.__file__).parent.glob("**/libgmsh.so*")
    )
    needed = set(re.findall(rb"(lib[A-Za-z0-9_+-]+\.so\.[0-9]+)\x00", library.read_bytes()[:2_000_000]))
    x_and_gl = {n.decode() for n in needed if n.startswith((b"libGL", b"libX", b"libfontconfig", b"libgomp"))}
    checked = set(re.findall(r'"(lib\S+\.so\.\d+) ', SCRIPT.read_text()))
    assert x_and_gl and x_and_gl <= checked, x_and_gl - checked
    assert subprocess.run(["bash", str(SCRIPT), sys.executable], capture_output=True, timeout=60).returncode == 0
