"""Nonlinear solver set-up: PETSc SNES (Newton) on the monolithic block system.

Small problems (every thin film) use a direct LU factorisation with MUMPS. Any PETSc option
can be passed through ``[solver.petsc_options]`` or ``--set solver.petsc_options.<name>=...``.
"""

from __future__ import annotations

import itertools

from ssbfem._dolfinx import PETSc, dolfinx
from ssbfem.model import CellModel

_counter = itertools.count()


def default_options(model: CellModel) -> dict:
    """Newton with a full step and LU.

    Converged when the residual (a current scaled to the mesh unit) is below 1e-9 A/m2 per
    unit terminal area, or when the Newton update falls below 1e-12 of the solution: with very
    short steps the lithium balance's round-off floor (c_max F L0/dt eps) exceeds the former.
    """
    return {
        "snes_type": "newtonls",
        "snes_linesearch_type": "basic",
        "snes_atol": 1e-9 * model.terminal_area,
        "snes_rtol": 1e-14,
        "snes_stol": 1e-12,
        "snes_max_it": 25,
        "ksp_type": "preonly",
        "pc_type": "lu",
        "pc_factor_mat_solver_type": "mumps",
    }


def create_solver(model: CellModel, petsc_options: dict | None = None) -> dolfinx.fem.petsc.NonlinearProblem:
    """The SNES problem for a cell model; user options override the defaults."""
    options = default_options(model)
    options.update({k: (None if v in ("", True) else v) for k, v in (petsc_options or {}).items()})
    problem = dolfinx.fem.petsc.NonlinearProblem(
        model.residuals,
        model.unknowns,
        petsc_options_prefix=f"ssbfem{next(_counter)}_",
        petsc_options=options,
        entity_maps=model.entity_maps,
        kind="mpi",
        bcs=model.bcs,
    )
    if model.bcs:
        return problem
    # Without Dirichlet conditions (terminals are Robin, the voltage a global unknown; only a
    # fixed temperature adds one) the residual needs no lifting: assembling it alone halves its cost.
    context = {"u": problem.u, "residual": problem.F, "blocks": problem.b.getAttr("_blocks")}
    problem.solver.setFunction(_assemble_residual, problem.b, kargs=context)
    return problem


def _assemble_residual(_snes, x, b, u, residual, blocks) -> None:
    """SNES residual callback: F(x) into b, for a block system without Dirichlet conditions."""
    la = dolfinx.la.petsc
    la._ghost_update(x, PETSc.InsertMode.INSERT, PETSc.ScatterMode.FORWARD)
    dolfinx.fem.petsc.assign(x, u)
    b.setAttr("_blocks", blocks)
    x.setAttr("_blocks", blocks)
    la._zero_vector(b)
    dolfinx.fem.petsc.assemble_vector(b, residual)
    la._ghost_update(b, PETSc.InsertMode.ADD, PETSc.ScatterMode.REVERSE)
    la._ghost_update(b, PETSc.InsertMode.INSERT, PETSc.ScatterMode.FORWARD)


def converged(problem: dolfinx.fem.petsc.NonlinearProblem) -> tuple[bool, int, int]:
    """(converged, SNES reason, Newton iterations) of the last solve."""
    reason = problem.solver.getConvergedReason()
    return reason > 0, reason, problem.solver.getIterationNumber()


__all__ = ["PETSc", "converged", "create_solver", "default_options"]
