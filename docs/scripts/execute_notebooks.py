"""Write demos/notebooks/*.ipynb from their jupytext sources (demos/notebooks/*.py), executed.

The percent scripts are the source of truth; each .ipynb is paired with its script (jupytext
``formats: ipynb,py:percent``) and holds the outputs of one execution, which the documentation
site shows. ``make notebooks`` runs this script; tests/test_notebooks.py checks that every pair
holds the same cells.

    python docs/scripts/execute_notebooks.py [NAME ...] [--no-execute]

The notebooks run from demos/notebooks/ with ``SSBFEM_QUICK=1`` (small meshes, fewer cases;
``SSBFEM_QUICK=0`` in the environment runs them in full) and their results in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import jupytext
import nbclient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "demos" / "notebooks"
PAIRING = "ipynb,py:percent"


def write_notebook(source: Path, execute: bool = True, timeout_s: int = 1800) -> Path:
    """The .ipynb beside `source` (a percent script), executed unless `execute` is False."""
    notebook = jupytext.read(source)
    notebook.metadata.setdefault("jupytext", {})["formats"] = PAIRING
    if execute:
        with tempfile.TemporaryDirectory(prefix="ssbfem-notebook-") as output:
            os.environ["SSBFEM_OUTPUT"] = output
            client = nbclient.NotebookClient(
                notebook, timeout=timeout_s, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
            )
            client.execute()
    target = source.with_suffix(".ipynb")
    jupytext.write(notebook, target, fmt="ipynb")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write the cells only, without outputs")
    args = parser.parse_args(argv)
    os.environ.setdefault("SSBFEM_QUICK", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    sources = [NOTEBOOKS / f"{n}.py" for n in args.names] or sorted(NOTEBOOKS.glob("*.py"))
    for source in sources:
        print(f"{source.stem} ...", flush=True)
        print(f"  -> {write_notebook(source, execute=not args.no_execute)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
