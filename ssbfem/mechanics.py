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

import basix
import basix.ufl
import numpy as np
import ufl
from mpi4py import MPI

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


def held(V: fem.FunctionSpace, cellmesh: CellMesh, name: str, component: int | None = None) -> fem.DirichletBC:
    """Zero displacement on a facet group: every component (clamped) or one (a roller)."""
    dim = cellmesh.dimension
    if component is None:
        zero = fem.Function(V)  # a Function also serves 1D's one-component vectors
        return fem.dirichletbc(zero, fem.locate_dofs_topological(V, dim - 1, cellmesh.facets(name)))
    sub = V.sub(component)
    dofs = fem.locate_dofs_topological(sub, dim - 1, cellmesh.facets(name))
    return fem.dirichletbc(dolfinx.default_scalar_type(0.0), dofs, sub)


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
    bcs = [held(V, cellmesh, name) for name in clamped]
    bcs += [held(V, cellmesh, name, component) for name, component in rollers]
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


class CellMechanics:
    """Stress in a running cell: thermal and chemical eigenstrains from its current state.

    eps* = alpha (T - T_sf) in every layer (T_sf the stress-free, e.g. sintering, temperature)
    plus Omega (c - c_0)/3 in the positive electrode (c_0 its initial concentration). The model
    is linear, so the residual stress of cooling from T_sf and the stress of lithiation add: a
    cycling run starts from the cooled state by construction. One-way coupling: the stress does
    not act back on the electrochemistry. Missing directions are confined (plane strain in 2D, a
    laterally confined stack in 1D, as on a rigid substrate).

    Args:
        model: The cell model (temperature, stoichiometry).
        mechanics: The resolved ``[mechanics]`` config section.
    """

    def __init__(self, model, mechanics: dict):
        self.model = model
        self.flaw_size_um = mechanics["flaw_size_um"]
        self.flaw_factor = mechanics["flaw_geometry_factor"]
        cm = model.cellmesh
        msh = cm.mesh
        dim = msh.geometry.dim
        self.layers = [
            name
            for name in (
                "negative_current_collector",
                "negative",
                "electrolyte",
                "positive",
                "positive_current_collector",
            )
            if name in cm.cell_names
        ]
        V = fem.functionspace(msh, ("Lagrange", mechanics["degree"], (dim,)))
        # the stoichiometry on the parent mesh (zero outside the positive electrode)
        self.theta = fem.Function(fem.functionspace(msh, model.theta.function_space.ufl_element()))
        sub_cells = np.arange(model.positive.mesh.topology.index_map(dim).size_local, dtype=np.int32)
        self._cells = (sub_cells, model.positive.entity_map.sub_topology_to_topology(sub_cells, inverse=False))
        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
        dx = ufl.Measure("dx", domain=msh, subdomain_data=cm.cell_tags)
        T = model.temperature
        pos = model.cell["positive"]
        a, L = 0, 0
        self.stress = {}
        for layer in self.layers:
            props = model.layer_section(layer)
            lam, mu = el.lame(props["youngs_modulus_Pa"], props["poissons_ratio"])
            eigen = props["thermal_expansion_1_K"] * (T - mechanics["stress_free_temperature_K"])
            if layer == "positive":
                c0 = pos["initial_stoichiometry"]
                eigen = (
                    eigen + pos["partial_molar_volume_m3_mol"] * pos["max_concentration_mol_m3"] * (self.theta - c0) / 3
                )
            a += ufl.inner(el.stress(u, lam, mu, 0.0), el.strain(v)) * dx(cm.cell_names[layer])
            L += ufl.inner((3 * lam + 2 * mu) * eigen * ufl.Identity(dim), el.strain(v)) * dx(cm.cell_names[layer])
            self.stress[layer] = (lam, mu, eigen)
        bcs = [
            held(V, cm, name, None if kind == "clamped" else "xyz".index(kind[-1]))
            for name, kind in mechanics["boundaries"].items()
        ]
        options = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
        if not bcs:
            raise ValueError("mechanics.boundaries: hold the stack somewhere (clamped or rollers)")
        self.problem = dolfinx.fem.petsc.LinearProblem(
            a, L, bcs=bcs, petsc_options_prefix="ssbfem_mechanics_", petsc_options=options
        )
        self.displacement = self.problem.u
        self.displacement.name = "displacement_um"
        self._dx = dx
        # stress components at the midpoint of every cell of each layer
        self._points = {layer: cm.cells(layer) for layer in self.layers}
        midpoint = basix.geometry(msh.basix_cell()).mean(axis=0, keepdims=True)
        self._expressions = {
            layer: fem.Expression(el.full_stress(self.displacement, lam, mu, eigen), midpoint)
            for layer, (lam, mu, eigen) in self.stress.items()
        }
        # cell-wise fields for the field output: von Mises and hydrostatic stress, Pa
        cells_space = fem.functionspace(msh, ("DG", 0))
        self.von_mises = fem.Function(cells_space, name="von_mises_Pa")
        self.hydrostatic = fem.Function(cells_space, name="hydrostatic_Pa")
        volume = lambda layer: msh.comm.allreduce(fem.assemble_scalar(fem.form(1.0 * dx(cm.cell_names[layer]))))
        self._hydrostatic = {
            layer: (
                fem.form(ufl.tr(el.full_stress(self.displacement, lam, mu, eigen)) / 3 * dx(cm.cell_names[layer])),
                volume(layer),
            )
            for layer, (lam, mu, eigen) in self.stress.items()
        }

    def close(self) -> None:
        """Free the PETSc objects now on every rank (left to the garbage collector, their
        collective destruction can deadlock under MPI)."""
        p = self.problem
        for obj in (p.solver, p.A, p.b, p.x):
            obj.destroy()

    def solve(self) -> dict[str, float]:
        """Solve for the current state; per layer the largest von Mises and principal stress and
        the mean hydrostatic stress, Pa (the columns of mechanics.csv)."""
        m = self.model
        self.theta.interpolate(m.theta, cells0=self._cells[0], cells1=self._cells[1])
        self.problem.solve()
        comm = m.cellmesh.mesh.comm
        row = {}
        for layer in self.layers:
            cells = self._points[layer]
            sigma = self._expressions[layer].eval(m.cellmesh.mesh, cells).reshape(-1, 3, 3)
            mean = np.trace(sigma, axis1=1, axis2=2) / 3
            dev = sigma - mean[:, None, None] * np.eye(3)
            cell_mises = np.sqrt(1.5 * np.einsum("kij,kij->k", dev, dev))
            dofs = self.von_mises.function_space.dofmap.list[cells, 0]  # DG0: one dof per cell
            self.von_mises.x.array[dofs] = cell_mises
            self.hydrostatic.x.array[dofs] = mean
            mises = cell_mises.max(initial=-np.inf)
            principal = np.linalg.eigvalsh(sigma).max(initial=-np.inf) if sigma.size else -np.inf
            form, volume = self._hydrostatic[layer]
            row[f"von_mises_max_Pa[{layer}]"] = comm.allreduce(mises, op=MPI.MAX)
            row[f"principal_max_Pa[{layer}]"] = comm.allreduce(principal, op=MPI.MAX)
            row[f"hydrostatic_mean_Pa[{layer}]"] = comm.allreduce(fem.assemble_scalar(form)) / volume
            row.update(self._failure(layer, row[f"principal_max_Pa[{layer}]"]))
        return row

    def _failure(self, layer: str, principal: float) -> dict[str, float]:
        """Failure indicators where the library (or config) has the data: the tensile margin
        (strength minus the largest principal stress, Pa) and the flaw-based indicator
        sigma Y sqrt(pi a_c)/K_Ic (Pang et al. 2021, eq. 7: fracture from a flaw of size a_c
        when >= 1)."""
        props, out = self.model.layer_section(layer), {}
        if "fracture_strength_Pa" in props:
            out[f"tensile_margin_Pa[{layer}]"] = props["fracture_strength_Pa"] - principal
        if "fracture_toughness_Pa_m05" in props:
            flaw = self.flaw_size_um * 1e-6
            out[f"fracture_indicator[{layer}]"] = (
                max(principal, 0.0) * self.flaw_factor * np.sqrt(np.pi * flaw) / props["fracture_toughness_Pa_m05"]
            )
        return out

    def monroe_newman_ratio(self) -> float | None:
        """Shear modulus of the electrolyte over that of Li (Monroe and Newman: filaments are
        suppressed when it is at least about 2), or None without the data."""
        cell = self.model.cell
        try:
            g = [
                cell[s]["youngs_modulus_Pa"] / (2 * (1 + cell[s]["poissons_ratio"]))
                for s in ("electrolyte", "negative")
            ]
        except KeyError:
            return None
        return g[0] / g[1]
