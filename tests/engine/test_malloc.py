"""engine/malloc.py: when the glibc thresholds are set, and that setting them stops the page-fault churn."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from engine.malloc import MALLOC_ENV, malloc_choice


def test_default_on_glibc_applies_and_says_how_to_opt_out():
    c = malloc_choice({}, "glibc")
    assert c.apply and "32 MiB" in c.why and "1 GiB" in c.why and f"{MALLOC_ENV}=system" in c.why


@pytest.mark.parametrize("env, word", [
    ({MALLOC_ENV: "system"}, "RECIPEC_MALLOC=system"),
    ({MALLOC_ENV: " System "}, "RECIPEC_MALLOC=system"),
    ({"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"}, "jemalloc"),
    ({"LD_PRELOAD": "libtcmalloc_minimal.so.4"}, "tcmalloc"),
    ({"MALLOC_TRIM_THRESHOLD_": "0"}, "MALLOC_TRIM_THRESHOLD_"),
    ({"MALLOC_MMAP_THRESHOLD_": "65536"}, "MALLOC_MMAP_THRESHOLD_"),
    ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"}, "GLIBC_TUNABLES"),
])
def test_the_users_choice_stands(env, word):
    c = malloc_choice(env, "glibc")
    assert not c.apply and word in c.why


def test_unrelated_tunables_and_explicit_keep_still_apply():
    assert malloc_choice({"GLIBC_TUNABLES": "glibc.pthread.rseq=0", MALLOC_ENV: "keep"}, "glibc").apply


def test_other_c_libraries_are_left_alone_quietly():
    assert malloc_choice({}, "") == malloc_choice({}, "musl")
    assert not malloc_choice({}, "").apply and malloc_choice({}, "").why == ""


def test_bad_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="RECIPEC_MALLOC='fast': expected 'keep' or 'system'"):
        malloc_choice({MALLOC_ENV: "fast"}, "glibc")


# A fresh process allocates and frees five 8 MiB blocks ten times, touching every page (as a training step
# does with its activations), and counts the page faults of rounds 2-10.
_CHURN = textwrap.dedent("""
    import ctypes, resource, sys
    from engine.malloc import keep_freed_memory
    print(keep_freed_memory({} if sys.argv[1] == "keep" else {"RECIPEC_MALLOC": "system"}), file=sys.stderr)
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    n = 8 << 20
    def round_():
        blocks = [libc.malloc(n) for _ in range(5)]
        for b in blocks:
            ctypes.memset(b, 1, n)
        for b in blocks:
            libc.free(b)
    round_()
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(9):
        round_()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
""")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_kept_memory_is_reused_instead_of_faulted_in_again():
    def faults(mode: str) -> int:
        r = subprocess.run([sys.executable, "-c", _CHURN, mode], capture_output=True, text=True, check=True,
                           env={"PATH": "", "PYTHONPATH": ":".join(sys.path)})
        return int(r.stdout.strip())

    system, keep = faults("system"), faults("keep")
    pages = 9 * 5 * (8 << 20) // 4096  # every page of every block, each round: 92k
    assert system > pages // 2, system  # glibc's defaults hand the blocks back and fault them in again
    assert keep < pages // 20, keep
