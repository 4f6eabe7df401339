"""Import DOLFINx the way the PyPI wheel wants it, and still work with conda or container builds.

The ``dolfinx-solver-real`` wheel must be imported before dolfinx and petsc4py so that it can
order MPI ahead of the compiled bindings; other installations do not have it.
"""

import contextlib

with contextlib.suppress(ImportError):  # absent with a conda, container or source DOLFINx
    import dolfinx_solver  # noqa: F401

import dolfinx
import dolfinx.fem.petsc
import dolfinx.io.gmsh
from petsc4py import PETSc

__all__ = ["PETSc", "dolfinx"]
