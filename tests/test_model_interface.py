"""The model interface: the resolved cell model offers everything the simulation, the integrator,
the solvers, EIS, the observers and the checkpoints use, and nothing else of it is used."""

from __future__ import annotations

import ast
import re

from conftest import REPO, thin_film
from mpi4py import MPI

from ssbfem.config import resolve
from ssbfem.model import CellModel
from ssbfem.model_interface import Model
from ssbfem.runner import build_mesh

#: Modules that take any model through the interface.
CONSUMERS = ("simulation.py", "integrator.py", "impedance.py", "checkpoint.py", "observables.py", "solvers.py")


def test_cell_model_implements_the_interface():
    cfg = resolve(thin_film(mesh={"positive_elements": 4}))
    model = CellModel(build_mesh(cfg, MPI.COMM_WORLD), cfg["cell"], degree=1, thermal=cfg["thermal"])
    assert isinstance(model, Model)


def test_consumers_use_the_interface_only():
    """Every attribute the consumers read of a model (``model.x``, ``m.x``, ``self.model.x``) is a
    member of the interface (or of the insertion stoichiometry's field, ``theta``)."""
    members = {name for name in dir(Model) if not name.startswith("_")} | set(Model.__annotations__) | {"theta"}
    used = set()
    for name in CONSUMERS:
        source = (REPO / "ssbfem" / name).read_text()
        used |= set(re.findall(r"\b(?:model|m|self\.model|sim\.model)\.([a-zA-Z_]\w*)", source))
        ast.parse(source)  # the consumer still parses: the pattern reads real code
    assert used <= members, sorted(used - members)
