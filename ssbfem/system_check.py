"""The system packages that ssbfem needs beside its Python wheels, checked before ``make venv``.

Every wheel ssbfem installs (DOLFINx, PETSc, MPICH, ADIOS2, NumPy, ...) brings its own shared
libraries, except Gmsh's: ``libgmsh.so`` links against the system's OpenGL and X11 libraries
(even when it only meshes, headless) and GCC's OpenMP runtime, and ``import gmsh`` fails with an
``OSError`` naming the first one missing. The list below is what ``ldd`` shows for the Gmsh 4.15
wheel's ``libgmsh.so``, less the C and C++ runtimes every system has (tests/test_system_check.py
compares it with the installed wheel). ``python -m venv`` needs ``ensurepip``, which Debian and
Ubuntu ship apart, in ``python3-venv``.

Run as a script with the interpreter that will make the venv (standard library only, so it
works before anything is installed)::

    python3 -I ssbfem/system_check.py

It prints what is missing and the apt-get and dnf lines that install it, and exits with 1; with
nothing missing it is silent and exits with 0. ``SSBFEM_ASSUME_MISSING`` (space- or
comma-separated library names or ``ensurepip``) makes it treat those as missing, to see its
message on a machine that has everything. ``ssbfem`` gives the same message when ``import gmsh``
fails on a missing library.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    """A shared library (or Python's ``ensurepip``) and the packages that provide it."""

    name: str  # the library's soname, or "ensurepip"
    debian: str  # Debian / Ubuntu package
    fedora: str  # Fedora / RHEL package ("" where the distribution's python3 already has it)


# libgmsh.so's NEEDED entries beyond glibc, libstdc++ and libgcc_s.
GMSH_LIBRARIES = (
    Requirement("libGLU.so.1", "libglu1-mesa", "mesa-libGLU"),
    Requirement("libGL.so.1", "libgl1", "libglvnd-glx"),
    Requirement("libXrender.so.1", "libxrender1", "libXrender"),
    Requirement("libXcursor.so.1", "libxcursor1", "libXcursor"),
    Requirement("libXfixes.so.3", "libxfixes3", "libXfixes"),
    Requirement("libXext.so.6", "libxext6", "libXext"),
    Requirement("libXft.so.2", "libxft2", "libXft"),
    Requirement("libfontconfig.so.1", "libfontconfig1", "fontconfig"),
    Requirement("libXinerama.so.1", "libxinerama1", "libXinerama"),
    Requirement("libX11.so.6", "libx11-6", "libX11"),
    Requirement("libgomp.so.1", "libgomp1", "libgomp"),
    Requirement("libz.so.1", "zlib1g", "zlib"),
)
VENV = Requirement("ensurepip", "python3-venv", "")
REQUIREMENTS = (VENV, *GMSH_LIBRARIES)


def _assumed_missing() -> set[str]:
    return set(os.environ.get("SSBFEM_ASSUME_MISSING", "").replace(",", " ").split())


def _present(requirement: Requirement) -> bool:
    if requirement.name in _assumed_missing():
        return False
    if requirement is VENV:
        return importlib.util.find_spec("ensurepip") is not None
    try:
        ctypes.CDLL(requirement.name)
    except OSError:
        return False
    return True


def missing() -> list[Requirement]:
    """The requirements this interpreter's system lacks."""
    return [r for r in REQUIREMENTS if not _present(r)]


def message(lacking: list[Requirement]) -> str:
    """What is missing and the commands that install it."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    debian = [r.debian for r in lacking]
    if VENV in lacking:
        debian[debian.index(VENV.debian)] = f"python{version}-venv"
    fedora = [r.fedora for r in lacking if r.fedora]
    lines = ["error: system packages that ssbfem needs are missing:"]
    for r in lacking:
        what = f"python{version} -m venv (ensurepip)" if r is VENV else f"{r.name} (Gmsh's libgmsh.so)"
        lines.append(f"  {what}: Debian/Ubuntu {r.debian}, Fedora/RHEL {r.fedora or '(part of python3)'}")
    lines += ["Install them with", f"  sudo apt-get install {' '.join(debian)}"]
    if fedora:
        lines.append(f"  sudo dnf install {' '.join(fedora)}")
    lines.append("then try again.")
    return "\n".join(lines)


def explain(error: OSError) -> str | None:
    """The message for an ``OSError`` that names a library of the list (as ``import gmsh`` raises
    it: ``libGLU.so.1: cannot open shared object file``), else None."""
    lacking = [r for r in GMSH_LIBRARIES if r.name in str(error)]
    return message(lacking) if lacking else None


def main() -> int:
    lacking = missing()
    if lacking:
        print(message(lacking), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
