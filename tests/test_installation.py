"""What docs/installation.md says about importing DOLFINx from the PyPI wheel."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("dolfinx_solver") is None, reason="DOLFINx is not the dolfinx-solver wheel"
)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_dolfinx_alone_fails_on_the_mpi_library():
    proc = _python("import dolfinx")
    assert proc.returncode != 0
    assert "libmpi.so.12" in proc.stderr


@pytest.mark.parametrize("first", ["import dolfinx_solver", "from mpi4py import MPI", "import ssbfem.runner"])
def test_dolfinx_after_what_the_docs_name(first):
    proc = _python(f"{first}\nimport dolfinx\nprint(dolfinx.__version__)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("0.11")
