"""Large blocks kept out of glibc's heap: the memory they free leaves the resident set."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from ssbfem.heap import map_large_blocks_apart, resident_mib


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_freed_large_blocks_leave_the_resident_set():
    # glibc's default threshold rises to the size of a large block once one is freed: 2 MiB
    # blocks after that go to the heap, and the memory of those freed among kept ones stays.
    np.ones(1 << 19)
    assert map_large_blocks_apart(1 << 20)
    before = resident_mib()
    arrays = [np.ones(1 << 18) for _ in range(200)]  # 200 blocks of 2 MiB, mapped apart
    del arrays[::2]
    assert resident_mib() - before < 250.0  # the freed half, 200 MiB, has gone back
    assert all(a[-1] == 1.0 for a in arrays)
