"""Stress from eigenstrains on a cell mesh: one linear-elastic solve for a given state.

The displacement (micrometres, like the mesh) is continuous over the whole mesh; each tagged
region has its own Young's modulus and Poisson's ratio and its own eigenstrain (thermal,
chemical or both, any UFL expression). Boundaries are clamped (u = 0), rollers (zero normal
displacement on a face normal to a coordinate axis), pressed (a uniform pressure, the traction
-p n) or free.

Linear solver: a direct LU factorisation (MUMPS) up to :data:`ITERATIVE_ABOVE_DOFS` unknowns,
conjugate gradients with PETSc's smoothed-aggregation multigrid (GAMG) above, its near-null
space the rigid-body modes; any PETSc option overrides the preset, and a ``pc_type`` other than
LU or Cholesky selects the iterative path. Without any Dirichlet condition the rigid-body modes
are fixed by the condition that the body's mean translation and rotation vanish (int r_i . u = 0
for every rigid-body mode r_i), which constrains nothing else: a free body with a uniform
eigenstrain is stress free. The direct path imposes it with Lagrange multipliers; the iterative
path cannot (the saddle-point system is indefinite, which neither CG nor GAMG handle), so there
the singular system is solved with the modes as the matrix's null space (PETSc MatNullSpace:
the right-hand side is projected onto its range) and the modes are then removed from the
solution by the same L2 condition: both paths return the same displacement.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import basix
import basix.ufl
import numpy as np
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.constants import FARADAY
from ssbfem.geometry import tags
from ssbfem.geometry.io import CellMesh
from ssbfem.materials.property import reference_value
from ssbfem.model import interface_measure
from ssbfem.physics import elasticity as el
from ssbfem.settings.run import Mechanics, Pressure
from ssbfem.solvers import ELASTICITY_ITERATIVE_ABOVE_DOFS as ITERATIVE_ABOVE_DOFS

fem = dolfinx.fem

DIRECT = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
ITERATIVE = {
    "ksp_type": "cg",
    "ksp_rtol": 1e-8,
    "ksp_max_it": 1000,
    "pc_type": "gamg",
    "pc_gamg_coarse_eq_limit": 1000,
    "mg_levels_ksp_type": "chebyshev",
    "mg_levels_pc_type": "jacobi",
}


@dataclass
class Region:
    """Elastic data of one named region: E (Pa), nu, and its eigenstrain (UFL or number)."""

    youngs_modulus: float
    poissons_ratio: float
    eigenstrain: object = 0.0


@dataclass
class StressState:
    """A solved displacement and the stress of each region (UFL expressions, Pa).

    Attributes:
        iterations: Krylov iterations of the solve (1 for LU).
    """

    displacement: fem.Function
    stress: dict[str, ufl.core.expr.Expr]
    cellmesh: CellMesh
    formulation: str = "plane_strain"
    iterations: int = 1

    def mean(self, name: str, expression) -> float:
        """Volume mean of a scalar expression over a region (of the body of revolution if
        axisymmetric)."""
        cm = self.cellmesh
        dx = ufl.Measure("dx", domain=cm.mesh, subdomain_data=cm.cell_tags)(cm.cell_names[name])
        w = el.weight(cm.mesh, self.formulation)
        comm = cm.mesh.comm
        volume = comm.allreduce(fem.assemble_scalar(fem.form(w * dx)))
        return comm.allreduce(fem.assemble_scalar(fem.form(expression * w * dx))) / volume

    def interface_tractions(self) -> dict[str, float]:
        """Largest normal (tensile positive) and shear traction on every interface, Pa."""
        return InterfaceTractions(self.cellmesh, self.stress).evaluate()


class InterfaceTractions:
    """Normal and shear traction on the interfaces between regions: the delamination risk.

    On a facet group ``"a|b"`` whose two regions have stresses, the traction t = sigma n (n the
    unit normal from a to b) is evaluated at every facet's midpoint from both sides and averaged
    (the discrete stress jumps across the interface, the exact traction does not); its normal
    part t.n (positive when the interface is pulled apart) and the length of its tangential
    part. The in-plane block of a 3x3 stress (1D, plane strain, axisymmetric) is used.

    Args:
        cellmesh: The mesh with named cell and facet groups.
        stresses: Stress (UFL, Pa) by cell-group name.
    """

    def __init__(self, cellmesh: CellMesh, stresses: dict[str, ufl.core.expr.Expr]):
        msh = cellmesh.mesh
        tdim = msh.topology.dim
        msh.topology.create_connectivity(tdim - 1, tdim)
        msh.topology.create_connectivity(tdim, tdim - 1)
        f_to_c = msh.topology.connectivity(tdim - 1, tdim)
        c_to_f = msh.topology.connectivity(tdim, tdim - 1)
        facet_type = basix.cell.sub_entity_type(msh.basix_cell(), tdim - 1, 0)
        midpoint = basix.geometry(facet_type).mean(axis=0, keepdims=True) if tdim > 1 else np.zeros((1, 0))
        n = ufl.FacetNormal(msh)
        self._mesh = msh
        self._expressions, self._sides = {}, {}
        for name in (g for g in cellmesh.facet_names if "|" in g):
            regions = name.split("|")
            if not all(r in stresses for r in regions):
                continue
            facets = cellmesh.facets(name)
            sides = []
            for sign, region in zip((1.0, -1.0), regions, strict=True):
                if region not in self._expressions:
                    s = stresses[region]
                    traction = [sum(s[i, j] * n[j] for j in range(tdim)) for i in range(tdim)]
                    self._expressions[region] = fem.Expression(ufl.as_vector([*traction, *n]), midpoint)
                cells = set(cellmesh.cells(region))
                rows, entities = [], []
                for k, f in enumerate(facets):
                    for c in f_to_c.links(f):
                        if c in cells:
                            rows.append(k)
                            entities.append((c, int(np.flatnonzero(c_to_f.links(c) == f)[0])))
                sides.append((region, sign, np.array(rows, dtype=np.int64), np.array(entities, dtype=np.int32)))
            self._sides[name] = (len(facets), sides)

    def evaluate(self) -> dict[str, float]:
        """``interface_normal_traction_max_Pa[<interface>]`` and
        ``interface_shear_traction_max_Pa[<interface>]`` of every interface, Pa."""
        tdim = self._mesh.topology.dim
        comm = self._mesh.comm
        row = {}
        for name, (count, sides) in self._sides.items():
            traction, normal, seen = np.zeros((count, tdim)), np.zeros((count, tdim)), np.zeros(count)
            for region, sign, rows, entities in sides:
                if len(rows):
                    values = self._expressions[region].eval(self._mesh, entities).reshape(len(rows), 2 * tdim)
                    np.add.at(traction, rows, sign * values[:, :tdim])
                    normal[rows] = sign * values[:, tdim:]
                    np.add.at(seen, rows, 1.0)
            here = seen > 0
            traction, normal = traction[here] / seen[here, None], normal[here]
            t_n = np.einsum("ki,ki->k", traction, normal)
            t_s = np.linalg.norm(traction - t_n[:, None] * normal, axis=1)
            row[f"interface_normal_traction_max_Pa[{name}]"] = comm.allreduce(t_n.max(initial=-np.inf), op=MPI.MAX)
            row[f"interface_shear_traction_max_Pa[{name}]"] = comm.allreduce(t_s.max(initial=-np.inf), op=MPI.MAX)
        return row


def held(V: fem.FunctionSpace, cellmesh: CellMesh, name: str, component: int | None = None) -> fem.DirichletBC:
    """Zero displacement on a facet group: every component (clamped) or one (a roller)."""
    dim = cellmesh.dimension
    if component is None:
        zero = fem.Function(V)  # a Function also serves 1D's one-component vectors
        return fem.dirichletbc(zero, fem.locate_dofs_topological(V, dim - 1, cellmesh.facets(name)))
    sub = V.sub(component)
    dofs = fem.locate_dofs_topological(sub, dim - 1, cellmesh.facets(name))
    return fem.dirichletbc(dolfinx.default_scalar_type(0.0), dofs, sub)


def pressure_load(
    v,
    cellmesh: CellMesh,
    pressures: dict[str, float],
    formulation: str = "plane_strain",
    key: str = "mechanics.boundaries",
):
    """Work of uniform pressures on facet groups, -int p n . v ds (Pa times mesh-unit area).

    Each group must lie on the mesh's boundary (InputError naming ``key.<group>`` otherwise): ds
    over an interface would silently apply no load.
    """
    for name in pressures:
        cellmesh.require_boundary(name, f"{key}.{name}")
    msh = cellmesh.mesh
    ds = ufl.Measure("ds", domain=msh, subdomain_data=cellmesh.facet_tags)
    n, w = ufl.FacetNormal(msh), el.weight(msh, formulation)
    return sum(-p * ufl.inner(n, v) * w * ds(cellmesh.facet_names[name]) for name, p in pressures.items())


def rigid_body_functions(V: fem.FunctionSpace, formulation: str = "plane_strain") -> list[fem.Function]:
    """The rigid-body modes of :func:`ssbfem.physics.elasticity.rigid_body_modes` in V."""
    dim = V.mesh.geometry.dim
    out = []
    for i in range(len(el.rigid_body_modes(np.zeros(3), dim, formulation))):
        f = fem.Function(V)
        # the modes are linear in x: interpolation is exact in any Lagrange space
        f.interpolate(lambda x, i=i: _broadcast(el.rigid_body_modes(x, dim, formulation)[i], x.shape[1]))
        out.append(f)
    return out


def _broadcast(mode, n: int) -> np.ndarray:
    return np.stack([np.broadcast_to(np.asarray(c, dtype=float), (n,)) for c in mode])


def solve_elasticity(
    cellmesh: CellMesh,
    regions: dict[str, Region],
    clamped: tuple[str, ...] = (),
    rollers: tuple[tuple[str, int], ...] = (),
    pressures: dict[str, float] | None = None,
    formulation: str = "plane_strain",
    degree: int = 1,
    petsc_options: dict | None = None,
) -> StressState:
    """Solve div(sigma) = 0 with the regions' eigenstrains.

    Args:
        cellmesh: The mesh with named cell and facet groups.
        regions: Elastic data by cell-group name (every cell must belong to one).
        clamped: Facet groups where u = 0.
        rollers: (facet group, component) pairs: that displacement component is zero there.
        pressures: Uniform pressure (Pa, compressive positive) by facet group.
        formulation: In 2D, one of :data:`ssbfem.physics.elasticity.FORMULATIONS`.
        degree: Polynomial degree of the displacement.
        petsc_options: PETSc options over the size-dependent preset (see the module doc).
    """
    if formulation not in el.FORMULATIONS:
        raise ValueError(f"formulation must be one of {el.FORMULATIONS}, got {formulation!r}")
    msh = cellmesh.mesh
    dim = msh.geometry.dim
    V = fem.functionspace(msh, ("Lagrange", degree, (dim,)))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    dx = ufl.Measure("dx", domain=msh, subdomain_data=cellmesh.cell_tags)
    w = el.weight(msh, formulation)
    a, L = 0, pressure_load(v, cellmesh, pressures or {}, formulation, key="pressures")
    for name, region in regions.items():
        lam, mu = el.lame(region.youngs_modulus, region.poissons_ratio, formulation)
        # sigma = C : eps(u) - C : eps*: the eigenstrain's stress goes to the right-hand side
        eps_v = el.strain(v, formulation)
        eigen_stress = el.eigenstress(lam, mu, region.eigenstrain, eps_v.ufl_shape[0], formulation)
        a += ufl.inner(el.stress(u, lam, mu, 0.0, formulation), eps_v) * w * dx(cellmesh.cell_names[name])
        L += ufl.inner(eigen_stress, eps_v) * w * dx(cellmesh.cell_names[name])
    bcs = [held(V, cellmesh, name) for name in clamped]
    bcs += [held(V, cellmesh, name, component) for name, component in rollers]
    options, iterative = solver_options(V, petsc_options)
    prefix = "ssbfem_elasticity_"
    if iterative or bcs:
        problem = dolfinx.fem.petsc.LinearProblem(a, L, bcs=bcs, petsc_options_prefix=prefix, petsc_options=options)
        modes = rigid_body_functions(V, formulation) if iterative else []
        space = set_rigid_body_modes(problem.A, modes, singular=not bcs) if iterative else None
        with options_while_set_up(problem.solver, options):
            uh = problem.solve()
        iterations = _checked(problem.solver)
        if not bcs:  # the null space's component of the solution is arbitrary: fix it as below
            _remove_rigid_motion(uh, modes, formulation)
    else:  # a free body: Lagrange multipliers for the rigid-body modes
        modes = [ufl.as_vector(r) for r in el.rigid_body_modes(ufl.SpatialCoordinate(msh), dim, formulation)]
        R = fem.functionspace(
            msh, basix.ufl.real_element(msh.basix_cell(), (len(modes),), dtype=dolfinx.default_real_type)
        )
        lm, mv = ufl.TrialFunction(R), ufl.TestFunction(R)
        a01 = sum(lm[i] * ufl.inner(r, v) for i, r in enumerate(modes)) * w * ufl.dx
        a10 = sum(mv[i] * ufl.inner(r, u) for i, r in enumerate(modes)) * w * ufl.dx
        L1 = ufl.inner(fem.Constant(msh, np.zeros(len(modes))), mv) * ufl.dx
        problem = dolfinx.fem.petsc.LinearProblem(
            [[a, a01], [a10, None]], [L, L1], kind="mpi", petsc_options_prefix=prefix, petsc_options=options
        )
        (uh, _), iterations, space = problem.solve(), 1, None
    # free the PETSc objects now on every rank (collective destruction by the garbage
    # collector can deadlock under MPI); uh owns its own array
    for obj in (problem.solver, problem.A, problem.b, problem.x, space):
        if obj is not None:
            obj.destroy()
    stresses = {}
    for name, region in regions.items():
        lam, mu = el.lame(region.youngs_modulus, region.poissons_ratio, formulation)
        stresses[name] = el.stress(uh, lam, mu, region.eigenstrain, formulation)
    return StressState(uh, stresses, cellmesh, formulation, iterations)


def solver_options(V: fem.FunctionSpace, petsc_options: dict | None = None) -> tuple[dict, bool]:
    """PETSc options for an elasticity solve in V, and whether they are iterative: the preset by
    size (see the module doc) under the given options."""
    user = petsc_options or {}
    dofs = V.dofmap.index_map.size_global * V.dofmap.index_map_bs
    iterative = user.get("pc_type", "gamg" if dofs > ITERATIVE_ABOVE_DOFS else "lu") not in ("lu", "cholesky")
    return {**(ITERATIVE if iterative else DIRECT), **user}, iterative


def set_rigid_body_modes(A: PETSc.Mat, modes: list[fem.Function], singular: bool) -> PETSc.NullSpace:
    """The rigid-body modes as the near-null space of A (GAMG builds its coarse spaces from
    them), and as its null space when nothing holds the body (the KSP then projects the
    right-hand side onto the range; CG converges on the consistent singular system)."""
    basis = [f.copy() for f in modes]
    dolfinx.la.orthonormalize([b.x for b in basis])
    # copies: a Function's petsc_vec only wraps its array, which dies with the Function
    space = PETSc.NullSpace().create(vectors=[b.x.petsc_vec.copy() for b in basis], comm=A.getComm())
    A.setNearNullSpace(space)
    if singular:
        A.setNullSpace(space)
    return space


@contextlib.contextmanager
def options_while_set_up(ksp: PETSc.KSP, options: dict):
    """Keep the options in PETSc's database during a first solve: LinearProblem removes them
    after configuring the KSP, but the multigrid levels (``mg_levels_*``) exist, and read their
    options, only once the preconditioner is set up."""
    database = PETSc.Options(ksp.getOptionsPrefix())
    for key, value in options.items():
        database[key] = value
    try:
        yield
    finally:
        for key in options:
            database.delValue(key)


def _checked(ksp: PETSc.KSP) -> int:
    """Iterations of a converged linear solve; raises if it diverged."""
    reason = ksp.getConvergedReason()
    if reason < 0:
        raise RuntimeError(f"elasticity: the linear solver failed (KSP reason {reason})")
    return max(ksp.getIterationNumber(), 1)


def _remove_rigid_motion(uh: fem.Function, modes: list[fem.Function], formulation: str) -> None:
    """Subtract the L2 projection of u onto the rigid-body modes (int r_i . u = 0 afterwards)."""
    msh = uh.function_space.mesh
    w = el.weight(msh, formulation)
    dot = lambda f, g: msh.comm.allreduce(fem.assemble_scalar(fem.form(ufl.inner(f, g) * w * ufl.dx)))
    gram = np.array([[dot(r, s) for s in modes] for r in modes])
    coefficients = np.linalg.solve(gram, [dot(r, uh) for r in modes])
    for c, r in zip(coefficients, modes, strict=True):
        uh.x.array[:] -= c * r.x.array
    uh.x.scatter_forward()


class CellMechanics:
    """Stress in a running cell: thermal and chemical eigenstrains from its current state.

    eps* = alpha (T - T_sf) in every layer (T_sf the stress-free, e.g. sintering, temperature)
    plus Omega (c - c_0)/3 in the positive electrode (c_0 its initial concentration). The model
    is linear, so the residual stress of cooling from T_sf and the stress of lithiation add: a
    cycling run starts from the cooled state by construction. One-way coupling by default: the
    stress does not act back on the electrochemistry. Missing directions are confined (plane
    strain in 2D, a laterally confined stack in 1D, as on a rigid substrate).

    In 1D the stack's in-plane strain is its substrate's: zero by default (a rigid substrate that
    does not expand), or alpha_s (T - T_sf) with ``substrate_thermal_expansion_1_K``. Each layer
    then carries the biaxial stress sigma = E/(1 - nu) (eps_s - eps*), cooling by dT giving
    E/(1 - nu) (alpha_s - alpha) dT: a stiff substrate much thicker than the films (Stoney's
    limit). The substrate's strain is isotropic, so it is solved for as the eigenstrain
    eps* - eps_s on a confined stack; the stresses are exact and the through-thickness displacement
    is then relative to the substrate's expansion, alpha_s (T - T_sf) x.

    Optional feedback (``kinetics_feedback``): the stress shifts the equilibrium potential of the
    Li | electrolyte interface (Monroe and Newman 2005, J. Electrochem. Soc. 152 A396, their
    pressure term only). A pressure p on Li metal raises its chemical potential by Omega_Li p
    (Omega_Li its molar volume, m3/mol). At equilibrium of Li = Li+ + e-,
    F (phi_s - phi_e) = mu0_Li+ + mu0_e - mu_Li, so the equilibrium phi_s - phi_e moves by
    dU_mech = -Omega_Li p / F = Omega_Li sigma_n / F (V), sigma_n = -p the mean normal stress on
    the interface (tension positive), and the overpotential is eta = phi_s - phi_e - dU_mech:
    compression favours stripping (eta rises) and resists plating, and raises the cell voltage by
    Omega_Li p / F. The electrolyte's Li+ partial molar volume and the deformation and surface-tension
    terms of their expression are left out. sigma_n is the normal traction n.sigma.n
    averaged over the interface, from the electrolyte's stress (the negative terminal face when Li
    is not meshed); it is lagged: each solve sets the shift that the following steps see.

    Args:
        model: The cell model (temperature, stoichiometry).
        mechanics: The ``[mechanics]`` settings (a dict is validated).
    """

    def __init__(self, model, mechanics: Mechanics | dict):
        self.model = model
        if not isinstance(mechanics, Mechanics):
            mechanics = Mechanics.model_validate(mechanics)
        if mechanics.stress_free_temperature_K is None:  # as Settings sets it
            mechanics.stress_free_temperature_K = model.cell.temperature_K
        self.flaw_size_um = mechanics.flaw_size_um
        self.flaw_factor = mechanics.flaw_geometry_factor
        cm = model.cellmesh
        msh = cm.mesh
        dim = msh.geometry.dim
        self.layers = [name for name in tags.LAYER_ORDER if name in cm.cell_names]
        V = fem.functionspace(msh, ("Lagrange", mechanics.degree, (dim,)))
        # the stoichiometry on the parent mesh (zero outside the positive electrode)
        self.theta = fem.Function(fem.functionspace(msh, model.theta.function_space.ufl_element()))
        positive = model.fields["theta"].submesh
        sub_cells = np.arange(positive.mesh.topology.index_map(dim).size_local, dtype=np.int32)
        self._cells = (sub_cells, positive.entity_map.sub_topology_to_topology(sub_cells, inverse=False))
        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
        dx = ufl.Measure("dx", domain=msh, subdomain_data=cm.cell_tags)
        T = model.temperature
        pos = model.cell.positive
        a, L = 0, 0
        self.stress = {}
        substrate = mechanics.substrate_thermal_expansion_1_K or 0.0  # 1D only (checked by the settings)
        for layer in self.layers:
            prop = self._property_of(layer)
            lam, mu = el.lame(prop("youngs_modulus_Pa"), prop("poissons_ratio"))
            eigen = (prop("thermal_expansion_1_K") - substrate) * (T - mechanics.stress_free_temperature_K)
            if layer == "positive":
                c0 = pos.initial_stoichiometry
                eigen = eigen + pos.partial_molar_volume_m3_mol * pos.max_concentration_mol_m3 * (self.theta - c0) / 3
            a += ufl.inner(el.stress(u, lam, mu, 0.0), el.strain(v)) * dx(cm.cell_names[layer])
            L += ufl.inner((3 * lam + 2 * mu) * eigen * ufl.Identity(dim), el.strain(v)) * dx(cm.cell_names[layer])
            self.stress[layer] = (lam, mu, eigen)
        boundaries = mechanics.boundaries
        bcs = [
            held(V, cm, name, None if kind == "clamped" else "xyz".index(kind[-1]))
            for name, kind in boundaries.items()
            if isinstance(kind, str)
        ]
        pressures = {name: kind.pressure_Pa for name, kind in boundaries.items() if isinstance(kind, Pressure)}
        L += pressure_load(v, cm, pressures)
        self._options, iterative = solver_options(V)
        self.problem = dolfinx.fem.petsc.LinearProblem(
            a, L, bcs=bcs, petsc_options_prefix="ssbfem_mechanics_", petsc_options=self._options
        )
        self._space = set_rigid_body_modes(self.problem.A, rigid_body_functions(V), False) if iterative else None
        self._assembled = False
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
        self.feedback = None
        if mechanics.kinetics_feedback:
            self.feedback = self._feedback_form(model)
        self._tractions = InterfaceTractions(
            cm, {layer: el.full_stress(self.displacement, *data) for layer, data in self.stress.items()}
        )
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

    def _feedback_form(self, model) -> tuple[fem.Form, float, float]:
        """The form of int n.sigma.n over the Li interface (electrolyte side), its area and
        Omega_Li / F (m3/C)."""
        cm, msh = model.cellmesh, model.cellmesh.mesh
        sigma = el.stress(self.displacement, *self.stress[tags.ELECTROLYTE])
        if model.has_negative:
            dS = interface_measure(cm, [tags.NEGATIVE_INTERFACE], model.fields["phi_e"].submesh)  # electrolyte on "+"
            face, n, sigma = dS(cm.facet_names[tags.NEGATIVE_INTERFACE]), ufl.FacetNormal(msh)("+"), sigma("+")
        else:
            ds = ufl.Measure("ds", domain=msh, subdomain_data=cm.facet_tags)
            face, n = ds(cm.facet_names[tags.NEGATIVE_TERMINAL]), ufl.FacetNormal(msh)
        area = msh.comm.allreduce(fem.assemble_scalar(fem.form(1.0 * face)))
        omega_over_f = model.cell.negative.molar_volume_m3_mol / FARADAY
        return fem.form(ufl.inner(ufl.dot(sigma, n), n) * face), area, omega_over_f

    def close(self) -> None:
        """Free the PETSc objects now on every rank (left to the garbage collector, their
        collective destruction can deadlock under MPI)."""
        p = self.problem
        for obj in (p.solver, p.A, p.b, p.x, self._space):
            if obj is not None:
                obj.destroy()

    def solve(self) -> dict[str, float]:
        """Solve for the current state; per layer the largest von Mises and principal stress and
        the mean hydrostatic stress, per interface the largest normal and shear traction, Pa
        (the columns of mechanics.csv)."""
        m = self.model
        self.theta.interpolate(m.theta, cells0=self._cells[0], cells1=self._cells[1])
        self._solve()
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
        row.update(self._tractions.evaluate())
        if self.feedback is not None:
            form, area, omega_over_f = self.feedback
            sigma_n = comm.allreduce(fem.assemble_scalar(form)) / area
            self.model.mechanical_shift_negative.value = omega_over_f * sigma_n
            row["normal_stress_negative_Pa"] = sigma_n
            row["mechanical_shift_negative_V"] = omega_over_f * sigma_n
        return row

    def _solve(self) -> None:
        """Solve with the matrix assembled once: it does not change (the eigenstrains and
        pressures only load the right-hand side), so the LU factors or the multigrid hierarchy
        are reused."""
        p = self.problem
        if not self._assembled:
            with options_while_set_up(p.solver, self._options):
                p.solve()
            self._assembled = True
        else:
            petsc = dolfinx.fem.petsc
            with p.b.localForm() as local:
                local.set(0.0)
            petsc.assemble_vector(p.b, p.L)
            petsc.apply_lifting(p.b, [p.a], bcs=[p.bcs])
            p.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            for bc in p.bcs:
                bc.set(p.b.array_w)
            p.solver.solve(p.b, p.x)
            p.x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
            petsc.assign(p.x, p.u)
        _checked(p.solver)

    def _failure(self, layer: str, principal: float) -> dict[str, float]:
        """Failure indicators where the library (or config) has the data: the tensile margin
        (strength minus the largest principal stress, Pa) and the flaw-based indicator
        sigma Y sqrt(pi a_c)/K_Ic (Pang et al. 2021, eq. 7: fracture from a flaw of size a_c
        when >= 1)."""
        section, out = self.model.layer_section(layer), {}
        strength = getattr(section, "fracture_strength_Pa", None)  # an electrolyte's
        if strength is not None:
            out[f"tensile_margin_Pa[{layer}]"] = strength - principal
        if section.fracture_toughness_Pa_m05 is not None:
            flaw = self.flaw_size_um * 1e-6
            out[f"fracture_indicator[{layer}]"] = (
                max(principal, 0.0) * self.flaw_factor * np.sqrt(np.pi * flaw) / section.fracture_toughness_Pa_m05
            )
        return out

    def monroe_newman_ratio(self) -> float | None:
        """Shear modulus of the electrolyte over that of Li (Monroe and Newman: filaments are
        suppressed when it is at least about 2) at the reference temperature, or None without
        the data."""
        g = []
        for section in (self.model.cell.electrolyte, self.model.cell.negative):
            E, nu = reference_value(section.youngs_modulus_Pa), reference_value(section.poissons_ratio)
            if E is None or nu is None:
                return None
            g.append(E / (2 * (1 + nu)))
        return g[0] / g[1]

    def _property_of(self, layer: str):
        """A layer's elastic property by key, in UFL on the parent mesh (the cell's temperature,
        the stoichiometry copied to the parent mesh)."""
        x, T = (self.theta if layer == tags.POSITIVE else None), self.model.temperature
        return lambda name: self.model.material_property(layer, name, stoichiometry=x, temperature=T)
