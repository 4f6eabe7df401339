"""Import DOLFINx the way the PyPI wheel wants it, and still work with conda or container builds.

The ``dolfinx-solver-real`` wheel must be imported before dolfinx and petsc4py so that it can
order MPI ahead of the compiled bindings; other installations do not have it.
"""

try:
    import dolfinx_solver  # noqa: F401
except ImportError:  # a conda, container or source DOLFINx
    pass

import dolfinx  # noqa: E402
import dolfinx.fem.petsc  # noqa: E402, F401
import dolfinx.io.gmsh  # noqa: E402, F401
from petsc4py import PETSc  # noqa: E402

__all__ = ["PETSc", "dolfinx"]
