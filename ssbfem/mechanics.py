"""Stress from eigenstrains on a cell mesh: one linear-elastic solve for a given state.

The displacement (micrometres, like the mesh) is continuous over the whole mesh; each tagged
region has its own Young's modulus and Poisson's ratio and its own eigenstrain (thermal,
chemical or both, any UFL expression). Boundaries are clamped (u = 0), rollers (zero normal
displacement on a face normal to a coordinate axis) or free. Without any Dirichlet condition
the rigid-body modes are removed by Lagrange multipliers (the mean translation and rotation
vanish), which constrains nothing else: a free body with a uniform eigenstrain is stress free.
"""

from __future__ import annotations

from dataclasses import dataclass

import basix.ufl
import numpy as np
import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.geometry.io import CellMesh
from ssbfem.physics import elasticity as el

fem = dolfinx.fem


@dataclass
class Region:
    """Elastic data of one named region: E (Pa), nu, and its eigenstrain (UFL or number)."""

    youngs_modulus: float
    poissons_ratio: float
    eigenstrain: object = 0.0


@dataclass
class StressState:
    """A solved displacement and the stress of each region (UFL expressions, Pa)."""

    displacement: fem.Function
    stress: dict[str, ufl.core.expr.Expr]
    cellmesh: CellMesh

    def mean(self, name: str, expression) -> float:
        """Volume mean of a scalar expression over a region."""
        cm = self.cellmesh
        dx = ufl.Measure("dx", domain=cm.mesh, subdomain_data=cm.cell_tags)(cm.cell_names[name])
        comm = cm.mesh.comm
        volume = comm.allreduce(fem.assemble_scalar(fem.form(1.0 * dx)))
        return comm.allreduce(fem.assemble_scalar(fem.form(expression * dx))) / volume


def solve_elasticity(
    cellmesh: CellMesh,
    regions: dict[str, Region],
    clamped: tuple[str, ...] = (),
    rollers: tuple[tuple[str, int], ...] = (),
    plane_stress: bool = False,
    degree: int = 1,
) -> StressState:
    """Solve div(sigma) = 0 with the regions' eigenstrains.

    Args:
        cellmesh: The mesh with named cell and facet groups.
        regions: Elastic data by cell-group name (every cell must belong to one).
        clamped: Facet groups where u = 0.
        rollers: (facet group, component) pairs: that displacement component is zero there.
        plane_stress: In 2D, plane stress instead of plane strain.
        degree: Polynomial degree of the displacement.
    """
    msh = cellmesh.mesh
    dim = msh.geometry.dim
    V = fem.functionspace(msh, ("Lagrange", degree, (dim,)))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    dx = ufl.Measure("dx", domain=msh, subdomain_data=cellmesh.cell_tags)
    a, L = 0, 0
    for name, region in regions.items():
        lam, mu = el.lame(region.youngs_modulus, region.poissons_ratio, plane_stress)
        # sigma = C : eps(u) - C : eps*: the eigenstrain's stress goes to the right-hand side
        # (its trace counts the out-of-plane direction unless in plane stress)
        eigen_stress = ((2 if plane_stress else 3) * lam + 2 * mu) * region.eigenstrain * ufl.Identity(dim)
        a += ufl.inner(el.stress(u, lam, mu, 0.0, plane_stress), el.strain(v)) * dx(cellmesh.cell_names[name])
        L += ufl.inner(eigen_stress, el.strain(v)) * dx(cellmesh.cell_names[name])
    bcs = []
    zero = np.zeros(dim, dtype=dolfinx.default_scalar_type)
    for name in clamped:
        dofs = fem.locate_dofs_topological(V, dim - 1, cellmesh.facets(name))
        bcs.append(fem.dirichletbc(zero, dofs, V))
    for name, component in rollers:
        sub = V.sub(component)
        dofs = fem.locate_dofs_topological(sub, dim - 1, cellmesh.facets(name))
        bcs.append(fem.dirichletbc(dolfinx.default_scalar_type(0.0), dofs, sub))
    options = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
    if bcs:
        problem = dolfinx.fem.petsc.LinearProblem(
            a, L, bcs=bcs, petsc_options_prefix="ssbfem_elasticity_", petsc_options=options
        )
        uh = problem.solve()
    else:  # a free body: Lagrange multipliers for the rigid-body modes
        modes = el.rigid_body_modes(ufl.SpatialCoordinate(msh), dim)
        R = fem.functionspace(
            msh, basix.ufl.real_element(msh.basix_cell(), (len(modes),), dtype=dolfinx.default_real_type)
        )
        lm, mv = ufl.TrialFunction(R), ufl.TestFunction(R)
        a01 = sum(lm[i] * ufl.inner(r, v) for i, r in enumerate(modes)) * ufl.dx
        a10 = sum(mv[i] * ufl.inner(r, u) for i, r in enumerate(modes)) * ufl.dx
        L1 = ufl.inner(fem.Constant(msh, np.zeros(len(modes))), mv) * ufl.dx
        problem = dolfinx.fem.petsc.LinearProblem(
            [[a, a01], [a10, None]],
            [L, L1],
            kind="mpi",
            petsc_options_prefix="ssbfem_elasticity_",
            petsc_options=options,
        )
        uh, _ = problem.solve()
    stresses = {}
    for name, region in regions.items():
        lam, mu = el.lame(region.youngs_modulus, region.poissons_ratio, plane_stress)
        stresses[name] = el.stress(uh, lam, mu, region.eigenstrain, plane_stress)
    return StressState(uh, stresses, cellmesh)
