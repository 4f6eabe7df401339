"""Cost of assembling the coupled Jacobian against assembling a scalar Poisson matrix.

Usage:

    python benchmarks/assembly.py CONFIG [--set key=value ...] [--repeat N] [--profile]

Builds the cell of CONFIG and its Newton system (as ``ssbfem run`` does), sets the state a time
step starts from (rest at the initial stoichiometry, 1C discharge current, dt = 1 s) and times,
interleaved and best of N (default 5), on one process:

* the Jacobian as the SNES assembles it (:class:`ssbfem.solvers.JacobianCallback`: integrals
  without functions reused, :class:`ssbfem.solvers.ConstantBlocks`);
* the same Jacobian with every integral assembled at every call (the callback without the
  split, as before the reuse);
* the residual (the SNES function callback);
* the stiffness matrix inner(grad u, grad v) dx of a scalar Lagrange space of the same degree,
  form compiled beforehand, into a matrix allocated beforehand (zeroed, assembled, finalised):
  on the whole cell mesh (fewer unknowns than the coupled system: the fields overlap only at
  interfaces; compared per unknown), and on a unit cube of tetrahedra whose number of unknowns
  is the nearest to the coupled system's ((k n + 1)^3, compared as it is).

With ``--profile``: the phases of one Jacobian assembly (scatter of the solution, zeroing or
copying the constant part, packing constants and coefficients, the integrals and insertion of
each block, the final MatAssembly) and cProfile's top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections.abc import Callable

import numpy as np
import ufl
from mpi4py import MPI

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.geometry import tags
from ssbfem.model import CellModel
from ssbfem.runner import build_mesh, one_c_current
from ssbfem.settings import load_settings
from ssbfem.solvers import JacobianCallback, create_solver, gather, number_of_dofs, scatter

fem = dolfinx.fem
_cpp = dolfinx.cpp


def stiffness(msh, degree: int) -> tuple[Callable[[], None], int]:
    """(assemble the Poisson stiffness matrix once, unknowns) on a mesh."""
    V = fem.functionspace(msh, ("Lagrange", degree))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    a = fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx)
    A = fem.petsc.create_matrix(a)

    def assemble() -> None:
        A.zeroEntries()
        fem.petsc.assemble_matrix(A, a)
        A.assemble()

    assemble()
    return assemble, V.dofmap.index_map.size_global


def matched_cube(unknowns: int, degree: int, comm) -> tuple[object, int]:
    """A unit cube of tetrahedra whose P-degree space has the nearest number of unknowns."""
    n = max(1, round((unknowns ** (1 / 3) - 1) / degree))
    return dolfinx.mesh.create_unit_cube(comm, n, n, n, dolfinx.mesh.CellType.tetrahedron), n


def best_interleaved(cases: dict[str, Callable[[], None]], repeat: int) -> dict[str, float]:
    """Best wall time of each case over `repeat` rounds, the cases one after the other in each."""
    times = {name: np.inf for name in cases}
    for _ in range(repeat):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name] = min(times[name], time.perf_counter() - start)
    return times


def _best(run: Callable[[], object], repeat: int) -> float:
    return best_interleaved({"": run}, repeat)[""]


def profile(problem, callback: JacobianCallback, names: list[str], repeat: int) -> None:
    """The phases of one Jacobian assembly, each best of `repeat`, and cProfile's top entries."""
    snes, x, J = problem.solver, problem.x, problem.A
    print("phase | seconds")
    print("---|---")
    print(f"scatter x into the fields | {_best(lambda: scatter(x, callback._arrays, callback._offsets), repeat):.4f}")
    print(f"zero J | {_best(J.zeroEntries, repeat):.4f}")
    if callback.constant is not None:
        callback.constant.copy_into(J)
        print(f"copy the constant part into J | {_best(lambda: callback.constant.copy_into(J), repeat):.4f}")
        print(f"(assemble the constant part: {_best(lambda: _blocks(J, callback.constant.blocks), repeat):.4f})")
    total = 0.0
    for row_is, column_is, form in callback._blocks:
        kinds = "+".join(
            f"{str(t).split('.')[-1]}({len(form.domains(t, 0)) // _entity_size(t)})" for t in form.integral_types
        )
        pack_c = _best(lambda form=form: _cpp.fem.pack_constants(form), repeat)
        pack = _best(lambda form=form: _cpp.fem.pack_coefficients(form), repeat)
        constants, coefficients = _cpp.fem.pack_constants(form), _cpp.fem.pack_coefficients(form)

        def integrate(r=row_is, c=column_is, form=form, k=constants, w=coefficients) -> None:
            block = J.getLocalSubMatrix(r, c)
            _cpp.fem.petsc.assemble_matrix(block, form, k, w, [], True)
            J.restoreLocalSubMatrix(r, c, block)

        seconds = _best(integrate, repeat)
        total += pack_c + pack + seconds
        label = f"{_name(names, callback, row_is)} x {_name(names, callback, column_is)}"
        print(f"block {label}: {kinds} | pack {pack_c + pack:.4f}, integrate and insert {seconds:.4f}")
    if callback._pointwise is not None:  # the interface integrals, point by point (ssbfem.fem.pointwise)
        seconds = _best(lambda: callback._pointwise.add_jacobian(J), repeat)
        total += seconds
        print(f"interface integrals point by point, all blocks | {seconds:.4f}")
        J.assemble()
    print(f"blocks in all | {total:.4f}")
    print(f"final MatAssembly | {_best(J.assemble, repeat):.4f}")
    profiler = cProfile.Profile()
    profiler.enable()
    callback(snes, x, J, None)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:3000])


def interface_floor(model: CellModel, J: PETSc.Mat, repeat: int) -> None:
    """The cost of the positive interface's facets with the cheapest integrand, a mass-type
    integral of the electrolyte's test function against the electrode's trial function
    (phi_e x psi_pos), inserted where the Jacobian's block is: the per-facet work of the
    assembler (geometry, dofs of both sides, insertion) without the kinetics; and the same
    integrand as a vector, without the insertion of element matrices."""
    phi_e, psi = model.fields["phi_e"], model.fields["psi_pos"]
    measure = model.measures.dS(tags.POSITIVE_INTERFACE)
    mass = fem.form(
        ufl.TrialFunction(psi.u.function_space)("-") * ufl.TestFunction(phi_e.u.function_space)("+") * measure,
        entity_maps=model.entity_maps,
    )
    names = model.fields.names()
    index_sets = _cpp.la.petsc.create_index_sets(
        [(u.function_space.dofmap.index_map, u.function_space.dofmap.index_map_bs) for u in model.unknowns]
    )
    rows, columns = index_sets[names.index("phi_e")], index_sets[names.index("psi_pos")]
    form = mass._cpp_object
    constants, coefficients = _cpp.fem.pack_constants(form), _cpp.fem.pack_coefficients(form)

    def integrate() -> None:
        block = J.getLocalSubMatrix(rows, columns)
        _cpp.fem.petsc.assemble_matrix(block, form, constants, coefficients, [], True)
        J.restoreLocalSubMatrix(rows, columns, block)

    print(f"interface floor (phi_e x psi_pos mass-type integral, same facets) | {_best(integrate, repeat):.4f}")
    # The same facets and arguments' sides as a vector (psi_pos's values against phi_e's test
    # function): the assembler's per-facet work without inserting an element matrix.
    linear = fem.form(
        psi.u("-") * ufl.TestFunction(phi_e.u.function_space)("+") * measure, entity_maps=model.entity_maps
    )
    form = linear._cpp_object
    constants, coefficients = _cpp.fem.pack_constants(form), _cpp.fem.pack_coefficients(form)
    index_map = phi_e.u.function_space.dofmap.index_map
    vector = np.zeros(index_map.size_local + index_map.num_ghosts)
    seconds = _best(lambda: _cpp.fem.assemble_vector(vector, form, constants, coefficients), repeat)
    print(f"the same as a vector (psi_pos('-') v('+') dS: no element matrix inserted) | {seconds:.4f}")


def _entity_size(integral_type) -> int:
    return {"cell": 1, "exterior_facet": 2, "interior_facet": 4}.get(str(integral_type).split(".")[-1], 1)


def _name(names: list[str], callback: JacobianCallback, index_set: PETSc.IS) -> str:
    """The field of a block's row or column index set: the one whose owned dofs it starts at."""
    first = index_set.indices[0] if index_set.getSize() else -1
    starts = [start for start, _, _, _ in callback._offsets]
    return names[starts.index(first)] if first in starts else "?"


def _blocks(J: PETSc.Mat, blocks: list) -> None:
    J.zeroEntries()
    for rows, columns, form in blocks:
        block = J.getLocalSubMatrix(rows, columns)
        constants, coefficients = _cpp.fem.pack_constants(form), _cpp.fem.pack_coefficients(form)
        _cpp.fem.petsc.assemble_matrix(block, form, constants, coefficients, [], True)
        J.restoreLocalSubMatrix(rows, columns, block)
    J.assemble()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    settings = load_settings(args.config, args.overrides)
    degree = settings.mesh.degree
    cellmesh = build_mesh(settings, comm)
    model = CellModel(cellmesh, settings.cell, degree=degree, thermal=settings.thermal)
    model.set_initial_state()
    problem = create_solver(model, settings.solver.petsc_options, settings.solver.linear_solver)
    model.set_control("current", one_c_current(settings.cell))
    model.inv_dt.value = 1.0
    snes, x, J, b = problem.solver, problem.x, problem.A, problem.b
    gather(*problem.layout, x)
    reused = problem.jacobian_callback
    every = JacobianCallback(problem, model, reused.factorised)  # no split: every integral, every call
    dofs = number_of_dofs(model)
    whole, whole_dofs = stiffness(cellmesh.mesh, degree)
    cube, n = matched_cube(dofs, degree, comm)
    matched, matched_dofs = stiffness(cube, degree)
    cases = {
        "jacobian": lambda: reused(snes, x, J, None),
        "jacobian, every integral": lambda: every(snes, x, J, None),
        "residual": lambda: snes.computeFunction(x, b),
        "poisson, whole mesh": whole,
        "poisson, matched cube": matched,
    }
    for run in cases.values():  # warm-up: first touches, the constant part's first assembly
        run()
    times = best_interleaved(cases, args.repeat)
    if comm.rank == 0:
        cells = cellmesh.mesh.topology.index_map(cellmesh.dimension).size_global
        print(f"P{degree}, {comm.size} rank(s): coupled unknowns {dofs}, cells {cells}; best of {args.repeat}")
        print(f"Poisson: whole mesh {whole_dofs} unknowns; matched cube {n}^3 x 6 tetrahedra, {matched_dofs} unknowns")
        per = {"poisson, whole mesh": whole_dofs, "poisson, matched cube": matched_dofs}
        for name, seconds in times.items():
            unknowns = per.get(name, dofs)
            print(f"{name}: {seconds:.4f} s ({seconds / unknowns * 1e6:.2f} us per unknown)")
        for name in ("jacobian", "jacobian, every integral", "residual"):
            matched_ratio = times[name] / times["poisson, matched cube"] * matched_dofs / dofs
            whole_ratio = times[name] / dofs / (times["poisson, whole mesh"] / whole_dofs)
            print(
                f"{name} / Poisson matrix: {times[name] / times['poisson, matched cube']:.2f} (matched cube; "
                f"per unknown {matched_ratio:.2f}), per unknown against the whole mesh {whole_ratio:.2f}"
            )
    if args.profile and comm.size == 1:
        for label, callback in (("reused", reused), ("every integral", every)):
            print(f"\n## Phases of one Jacobian assembly ({label})\n")
            profile(problem, callback, model.fields.names(), args.repeat)
        interface_floor(model, J, args.repeat)


if __name__ == "__main__":
    main()
