"""glibc's heap: the memory a process has freed handed back to the operating system.

glibc's allocator serves a request below its mmap threshold from the heap, and the heap gives
freed memory back only from its top (or when asked, ``malloc_trim``). Two places need it:

- Gmsh frees its model at ``finalize``, but its pages stay in the process
  (:func:`release_freed_memory`).
- A cell's solves allocate temporaries of a few MiB at every Jacobian (the assembly, the
  multigrid set-up). glibc's threshold starts at 128 KiB and rises, up to 32 MiB, to the size
  of each large block freed, so after the first Jacobian these blocks come from the heap among
  long-lived data, and the memory they free stays resident while the heap grows for the next
  ones (:func:`map_large_blocks_apart` keeps them out).

Elsewhere (musl, macOS) nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

#: glibc's mallopt parameter for the mmap threshold (malloc.h).
_M_MMAP_THRESHOLD = -3

#: Blocks from this size on are mapped apart (fixed: glibc's dynamic threshold no longer moves).
LARGE_BLOCK_BYTES = 1 << 20


@functools.cache
def _libc(name: str, *argtypes) -> Callable | None:
    """The C library's function `name` (returning int), or None where there is none."""
    library = ctypes.util.find_library("c")
    try:
        function = getattr(ctypes.CDLL(library), name) if library else None
    except (OSError, AttributeError):
        return None
    if function is not None:
        function.argtypes, function.restype = list(argtypes), ctypes.c_int
    return function


def _status_mib(field: str) -> float:
    """A field of this process's /proc status in MiB (Linux; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def resident_mib() -> float:
    """This process's resident set now, MiB (Linux's /proc; NaN elsewhere)."""
    return _status_mib("VmRSS")


def peak_resident_mib() -> float:
    """The largest resident set of this process since it started or since :func:`reset_peak`,
    MiB (Linux's /proc; NaN elsewhere)."""
    return _status_mib("VmHWM")


def reset_peak() -> bool:
    """Start the peak resident set (:func:`peak_resident_mib`) again from the present one
    (Linux's ``clear_refs``), so that a phase's own peak can be read. Whether it was reset.
    On several ranks the sum of each rank's peak over a whole run adds peaks of different
    moments (rank 0 reading the mesh file, another rank in a solve); within one phase the ranks
    work in step."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def release_freed_memory() -> None:
    """Return the heap's free pages to the operating system (glibc's ``malloc_trim``). After
    Gmsh's ``finalize`` on a 1.09M-unknown composite read from a .msh on two ranks the memory
    resident after the mesh falls from 1.77 to 1.04 GiB (benchmarks/memory.py)."""
    trim = _libc("malloc_trim", ctypes.c_size_t)
    if trim is not None:
        trim(0)


def map_large_blocks_apart(size_bytes: int = LARGE_BLOCK_BYTES) -> bool:
    """Have glibc map every block of at least `size_bytes` on its own and unmap it when freed,
    for the whole process. Whether it was set. Over the 1C discharge of a 1.09M-unknown
    composite on two ranks the heaps had held 130 and 103 MiB free on average; with the blocks
    of 1 MiB and more apart (and K on the Jacobian's pattern) the largest resident set at a
    solve fell from 3585 to 3297 MiB (benchmarks/RESULTS.md, "The heap's free memory")."""
    mallopt = _libc("mallopt", ctypes.c_int, ctypes.c_int)
    return mallopt is not None and mallopt(_M_MMAP_THRESHOLD, size_bytes) == 1
