"""Every demo notebook (jupytext percent sources in demos/notebooks/, each paired with the
executed .ipynb that the documentation shows) executes without error.

Each is converted to .ipynb and run by a Jupyter kernel in its own folder, with SSBFEM_QUICK=1
(small meshes, fewer cases) and its results in a temporary folder. The notebooks assert their
own checks against closed forms and conservation laws, so a wrong number fails here too.
"""

from __future__ import annotations

import os

# The test extra (pip install -e '.[test]') holds these: a missing one fails here, as it fails a
# user running the notebooks, rather than skipping. ipykernel is the kernel that runs them;
# the notebooks import IPython for their displays.
import IPython  # noqa: F401
import ipykernel  # noqa: F401
import jupytext
import nbclient
import pytest
from conftest import REPO

NOTEBOOKS = sorted((REPO / "demos" / "notebooks").glob("*.py"))


def test_there_are_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {
        "thin_film_discharge",
        "stack_thermal",
        "cooling_cycling_stress",
        "extend_weak_form",
        "interfaces_impedance",
        "interdigitated_aef",
        "composite_cathode",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("SSBFEM_QUICK", "1")
    monkeypatch.setenv("SSBFEM_OUTPUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # the kernel imports ssbfem from this checkout, like the test process
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "display_data" for o in outputs), "a notebook shows the package's plots"


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_pair_in_sync(path):
    """Each percent script has its .ipynb (jupytext pairing ``ipynb,py:percent``) with the same
    cells: an edit of one without the other (``make notebooks`` rewrites the .ipynb) fails here."""
    ipynb = path.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} is missing: run make notebooks"
    script, notebook = jupytext.read(path), jupytext.read(ipynb)
    assert script.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert _cells(notebook) == _cells(script), f"{ipynb.name} differs from {path.name}: run make notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_holds_its_outputs(path):
    """The .ipynb the documentation shows was executed in full: every code cell ran, in order,
    without an error, and the figures are in it."""
    notebook = jupytext.read(path.with_suffix(".ipynb"))
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    outputs = [o for cell in code for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    # a figure that reached the page as text ("<Figure size 640x480 with 1 Axes>") was not shown
    shown_as_text = [o for o in outputs if o.get("data", {}).get("text/plain", "").startswith("<Figure size")]
    assert not shown_as_text, f"{len(shown_as_text)} figure(s) shown as text"
