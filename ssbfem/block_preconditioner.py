"""One block Gauss-Seidel sweep over named blocks of a monolithic matrix: a PETSc preconditioner
(``pc_type = "python"``) that keeps less of the matrix than PCFIELDSPLIT's multiplicative type.

With the unknowns split into blocks 0, 1, ..., n-1 (in that order), the preconditioner applied
to x is

    y_k = P_kk^-1 (x_k - sum_{j<k} A_kj y_j),   k = 0, 1, ..., n-1,

P_kk the diagonal block of the preconditioning matrix, inverted by the block's own solver (a
KSP with options prefix ``<prefix>fieldsplit_<name>_``, as PCFIELDSPLIT names them). It is
PCFIELDSPLIT's multiplicative type, the same operator to round-off, but PCFIELDSPLIT computes
each sum with a copy of the block's rows of the whole matrix: with the diagonal blocks, the
matrix held about twice over. Here each block keeps its diagonal block and its couplings to the
blocks before it, A_kj for j < k; in a cell model those are the interface couplings only, a few
per cent of the matrix.
"""

from __future__ import annotations

import numpy as np

from ssbfem._dolfinx import PETSc
from ssbfem.petsc_c import mat_product_clear


class BlockGaussSeidel:
    """The context of a ``python`` PC; :meth:`set_blocks` names the blocks before the first
    set-up, :meth:`set_up_only` may keep some as they are."""

    def __init__(self):
        self.refresh: set[str] | None = None  # the blocks a set-up sets up again (None: all)
        self.refresh_couplings = False  # the kept blocks' couplings taken again all the same
        self.lean: set[str] = set()  # blocks whose multigrid keeps no Galerkin product data
        self.names: list[str] = []
        self.index_sets: list[PETSc.IS] = []
        self.prefix = ""
        self._before: list[PETSc.IS | None] = []
        self._diagonal: list[PETSc.Mat | None] = []
        self._lower: list[PETSc.Mat | None] = []
        self._solvers: list[PETSc.KSP] = []
        self._work: list[tuple[PETSc.Vec, PETSc.Vec]] = []
        # y's entries of the blocks before each block, gathered into a vector of their own by a
        # scatter made once: a subvector of a noncontiguous index set is a new vector at each
        # call (a fresh mapping of some MiB per application at 1M unknowns; ssbfem.heap)
        self._gather: list[tuple[PETSc.Scatter, PETSc.Vec] | None] = []

    def set_blocks(self, blocks: list[tuple[str, PETSc.IS]], prefix: str) -> None:
        """The blocks in sweep order, each a name and the global indices of its rows (owned by
        this rank); `prefix` that of the outer solver."""
        self.destroy(None)
        self.names = [name for name, _ in blocks]
        self.index_sets = [index_set for _, index_set in blocks]
        self.prefix = prefix

    def set_up_only(self, names: set[str] | None, couplings: bool = False) -> None:
        """From the next set-up on, set up again only the blocks `names` and keep the others (their
        diagonal block, couplings and solver) as they were last set up, though the matrix has
        changed (None: every block, the default); with `couplings`, the kept blocks' couplings to
        the blocks before them are taken from the new matrix all the same. For a preconditioner
        kept across Newton iterations while some blocks change: PETSc's own flag for keeping it
        whole (``PCSetReusePreconditioner``) cannot serve inside a nonlinear solve, where SNES
        sets it again from its lag after every Jacobian evaluation."""
        self.refresh, self.refresh_couplings = names, couplings

    def keep_lean(self, names: set[str]) -> None:
        """Let the multigrid of the blocks `names` free, after each set-up, what its coarse
        operators keep for forming again their Galerkin products P^T A P
        (:func:`release_galerkin_products`): for blocks set up again rarely (:meth:`set_up_only`),
        whose next set-up then forms the products from the start."""
        self.lean = set(names)

    def setUp(self, pc: PETSc.PC) -> None:
        A, P = pc.getOperators()
        if not self._solvers:
            self._create(pc)
        for k, rows in enumerate(self.index_sets):
            if self.refresh is not None and self.names[k] not in self.refresh and self._diagonal[k] is not None:
                if k and self.refresh_couplings:
                    self._lower[k] = A.createSubMatrix(rows, self._before[k], submat=self._lower[k])
                continue
            self._diagonal[k] = P.createSubMatrix(rows, rows, submat=self._diagonal[k])
            if k:
                self._lower[k] = A.createSubMatrix(rows, self._before[k], submat=self._lower[k])
            if not self._work[k]:  # the block's first set-up
                self._work[k] = tuple(self._diagonal[k].createVecLeft() for _ in range(2))
                if k:
                    whole, before = A.createVecRight(), self._lower[k].createVecRight()
                    self._gather[k] = (PETSc.Scatter().create(whole, self._before[k], before, None), before)
                    whole.destroy()
            self._solvers[k].setOperators(self._diagonal[k], self._diagonal[k])
            self._solvers[k].setUp()
            if self.names[k] in self.lean:
                release_galerkin_products(self._solvers[k].getPC())

    def _create(self, pc: PETSc.PC) -> None:
        comm = pc.getComm()
        n = len(self.index_sets)
        self._before = [None] * n
        for k in range(1, n):
            indices = np.sort(np.concatenate([s.getIndices() for s in self.index_sets[:k]]))
            self._before[k] = PETSc.IS().createGeneral(indices.astype(PETSc.IntType), comm=comm)
        self._diagonal, self._lower, self._work, self._gather = [None] * n, [None] * n, [()] * n, [None] * n
        for name in self.names:
            solver = PETSc.KSP().create(comm)
            solver.setOptionsPrefix(f"{self.prefix}fieldsplit_{name}_")
            solver.setType(PETSc.KSP.Type.PREONLY)
            solver.setFromOptions()
            self._solvers.append(solver)

    def apply(self, pc: PETSc.PC, x: PETSc.Vec, y: PETSc.Vec) -> None:
        for k, (rows, solver) in enumerate(zip(self.index_sets, self._solvers, strict=True)):
            residual, coupled = self._work[k]
            x_k = x.getSubVector(rows)
            x_k.copy(residual)
            x.restoreSubVector(rows, x_k)
            if k:
                gather, y_before = self._gather[k]
                gather.scatter(y, y_before, addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
                self._lower[k].mult(y_before, coupled)
                residual.axpy(-1.0, coupled)
            y_k = y.getSubVector(rows)
            solver.solve(residual, y_k)
            y.restoreSubVector(rows, y_k)

    def view(self, pc: PETSc.PC, viewer: PETSc.Viewer) -> None:
        viewer.printfASCII(f"  block Gauss-Seidel over {', '.join(self.names)}\n")
        for name, solver in zip(self.names, self._solvers, strict=True):
            viewer.printfASCII(f"  block {name}:\n")
            solver.view(viewer)

    def destroy(self, pc: PETSc.PC | None) -> None:
        for obj in [*self._solvers, *self._diagonal, *self._lower, *self._before]:
            if obj is not None:
                obj.destroy()
        for objects in [*self._work, *filter(None, self._gather)]:
            for obj in objects:
                obj.destroy()
        self._solvers, self._diagonal, self._lower, self._before, self._work, self._gather = [], [], [], [], [], []


def release_galerkin_products(pc: PETSc.PC) -> None:
    """Free the data a multigrid's coarse operators keep to form their Galerkin products P^T A P
    again with their patterns (PETSc's MatProductClear): with GAMG's reused interpolation its
    next set-up forms them from the start, the same operators. On two ranks that data took 378
    MiB for the three blocks of a 1.09M-unknown composite, 0.35 kB per unknown, and 15.5 MiB of
    a 55k-unknown one (nothing measurable on one rank; benchmarks/RESULTS.md, "A million
    unknowns in less memory"). Nothing happens without multigrid levels."""
    if pc.getType() not in (PETSc.PC.Type.GAMG, PETSc.PC.Type.MG):
        return
    levels = pc.getMGLevels()
    for level in range(levels - 1):  # level 0 the coarsest; the finest operator is the block's own
        operator, _ = pc.getMGSmoother(level).getOperators()
        if not mat_product_clear(operator):
            return
