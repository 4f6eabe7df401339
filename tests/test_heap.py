"""The heap: large blocks kept out of glibc's heap, their freed memory leaving the resident set; the
peak resident set read and started again."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from ssbfem.heap import map_large_blocks_apart, peak_resident_mib, reset_peak, resident_mib


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


@pytest.mark.skipif(platform.system() != "Linux", reason="Linux's /proc")
def test_peak_resident_set_starts_again_at_reset():
    block = np.ones(1 << 24)  # 128 MiB: above glibc's largest threshold, mapped apart and given back
    with_block = resident_mib()
    del block
    assert peak_resident_mib() >= with_block
    assert reset_peak()
    assert peak_resident_mib() < with_block - 100.0  # the freed 128 MiB no longer in the peak
