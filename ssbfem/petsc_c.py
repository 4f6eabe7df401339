"""PETSc functions petsc4py does not wrap, called through ctypes on the library petsc4py's
extension module links. Where a function cannot be found (another PETSc build) its caller does
without: each use here saves memory and changes no result.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import numpy as np

from ssbfem._dolfinx import PETSc

_INT = ctypes.c_int64 if np.dtype(PETSc.IntType).itemsize == 8 else ctypes.c_int32
_P_INT = ctypes.POINTER(_INT)


@functools.cache
def petsc_function(name: str, *argtypes) -> Callable | None:
    """PETSc's C function `name` (returning its error code), or None where it cannot be found."""
    try:
        function = getattr(ctypes.CDLL(PETSc.__file__), name)
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = list(argtypes), ctypes.c_int
    return function


def _call(function: Callable, *args) -> None:
    if function(*args) != 0:
        raise RuntimeError(f"PETSc's {function.__name__} failed")


def mat_product_clear(matrix: PETSc.Mat) -> bool:
    """PETSc's MatProductClear: free what `matrix` keeps to form its product again. Whether
    it could be called."""
    clear = petsc_function("MatProductClear", ctypes.c_void_p)
    if clear is None:
        return False
    _call(clear, matrix.handle)
    return True


def _diagonal_block(matrix: PETSc.Mat) -> PETSc.Mat:
    """An AIJ matrix's block of this rank's rows and columns (the matrix itself on one rank)."""
    return matrix.getDiagonalBlock() if matrix.getType() == PETSc.Mat.Type.MPIAIJ else matrix


def _seqaij_csr(handle: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Views of a SeqAIJ matrix's row pointers and column indices (its own memory)."""
    get = petsc_function(
        "MatSeqAIJGetCSRAndMemType",
        ctypes.c_void_p,
        ctypes.POINTER(_P_INT),
        ctypes.POINTER(_P_INT),
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(ctypes.c_int),
    )
    size = petsc_function("MatGetSize", ctypes.c_void_p, _P_INT, _P_INT)
    if get is None or size is None:
        return None
    i, j, a, memtype = _P_INT(), _P_INT(), ctypes.c_void_p(), ctypes.c_int()
    rows, columns = _INT(), _INT()
    _call(size, handle, ctypes.byref(rows), ctypes.byref(columns))
    _call(get, handle, ctypes.byref(i), ctypes.byref(j), ctypes.byref(a), ctypes.byref(memtype))
    indptr = np.ctypeslib.as_array(i, (rows.value + 1,))
    indices = np.ctypeslib.as_array(j, (int(indptr[-1]),)) if indptr[-1] else np.zeros(0, PETSc.IntType)
    return indptr, indices


def matrix_of_pattern(J: PETSc.Mat) -> PETSc.Mat | None:
    """A matrix with the nonzero pattern of the assembled AIJ matrix J whose diagonal block
    (a rank's own columns: all but the interface couplings across ranks) shares J's row pointers
    and column indices: it holds its own values only, two thirds of a copy of J. It reads J's
    arrays, so it must not outlive J. None where PETSc's functions cannot be found."""
    if J.getType() not in (PETSc.Mat.Type.SEQAIJ, PETSc.Mat.Type.MPIAIJ):
        return None
    own = _seqaij_csr(_diagonal_block(J).handle)
    if own is None:
        return None
    indptr, indices = own
    values = np.zeros(len(indices), dtype=PETSc.ScalarType)
    if J.getType() != PETSc.Mat.Type.MPIAIJ:
        return PETSc.Mat().createAIJWithArrays(J.getSizes(), (indptr, indices, values), comm=J.getComm())
    split = petsc_function(
        "MatMPIAIJGetSeqAIJ",
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(_P_INT),
    )
    if split is None:
        return None
    ad, ao, colmap = ctypes.c_void_p(), ctypes.c_void_p(), _P_INT()
    _call(split, J.handle, ctypes.byref(ad), ctypes.byref(ao), ctypes.byref(colmap))
    other = _seqaij_csr(ao.value)
    if other is None:
        return None
    off_indptr, off_indices = other
    # The off-diagonal block's columns are compressed (colmap: their global numbers); PETSc
    # takes them global and compresses them in place: copies, a few per cent of J.
    global_columns = np.ctypeslib.as_array(colmap, (int(off_indices.max()) + 1,)) if len(off_indices) else None
    off_columns = global_columns[off_indices].astype(PETSc.IntType) if global_columns is not None else off_indices
    off_values = np.zeros(len(off_columns), dtype=PETSc.ScalarType)
    csr = ((indptr, indices, values), (off_indptr.copy(), off_columns, off_values))
    return PETSc.Mat().createAIJWithArrays(J.getSizes(), csr, comm=J.getComm())


def shares_pattern(matrix: PETSc.Mat, of: PETSc.Mat) -> bool:
    """Whether `matrix`'s diagonal block reads the column indices of `of`'s (as
    :func:`matrix_of_pattern` makes it)."""
    ours, theirs = (_seqaij_csr(_diagonal_block(m).handle) for m in (matrix, of))
    return ours is not None and theirs is not None and ours[1].ctypes.data == theirs[1].ctypes.data
