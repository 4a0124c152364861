"""engine.threads: the CPU thread count `recipec train` chooses (the choice function, not timings)."""

import pytest

from engine.threads import BusySampler, apply_threads, choose_threads


def pick(setting="auto", **kw):
    base = dict(device_type="cpu", cores=2, busy=0.0)
    base.update(kw)
    return choose_threads(setting, **base)


@pytest.mark.parametrize("cores,busy,want", [
    (2, 0.0, 2), (2, 0.4, 2),          # idle machine: every core
    (2, 0.6, 1), (2, 1.0, 1),          # another job holds about one core: 1 thread, no barrier on a busy core
    (2, 3.5, 1), (2, 11.0, 1),         # overloaded: never below 1
    (8, 2.0, 6), (8, 0.0, 8), (16, 15.7, 1),
])
def test_free_core_rule(cores, busy, want):
    n, why = pick(cores=cores, busy=busy)
    assert n == want
    assert f"{want} of {cores} cores" in why and "--threads" in why  # the log line says how to override


def test_explicit_count_wins_over_everything():
    assert pick(4, busy=9.0, env="1", previous=2, omp_env="3") == (4, "4 (--threads)")
    assert pick(3, device_type="cuda")[0] == 3


def test_env_then_resumed_run_then_omp():
    assert pick(env="3", previous=2, omp_env="5")[0] == 3
    n, why = pick(previous=2, busy=1.5, omp_env="5")
    assert n == 2 and "resumed" in why                 # the resumed run's count: bit-exact continuation
    n, why = pick(busy=1.5, omp_env="5")
    assert n is None and "OMP_NUM_THREADS=5" in why    # torch already follows OMP_NUM_THREADS


def test_nothing_changes_for_library_callers_off_cpu_or_when_unknown():
    assert pick(None, busy=5.0) == (None, "")          # recipec demo sets its own threads
    assert pick(device_type="cuda", busy=5.0) == (None, "")
    assert pick(busy=None) == (None, "")
    assert pick(cores=1, busy=3.0) == (None, "")


@pytest.mark.parametrize("bad", [0, -1, "two", True])
def test_bad_counts_are_refused(bad):
    with pytest.raises(ValueError):
        pick(bad)


@pytest.mark.parametrize("env", ["0", "x", "-2"])
def test_bad_env_is_refused(env):
    with pytest.raises(ValueError, match="RECIPEC_THREADS"):
        pick(env=env)


def test_sampler_measures_other_processes_not_this_one():
    import time

    s = BusySampler()
    assert s.others(2, min_window_s=10.0) is None      # too short a window to tell
    t = time.process_time()
    while time.process_time() - t < 0.3:               # this process busy: not counted as "other"
        pass
    busy = s.others(2, min_window_s=0.0)
    if s.stat0 is not None:                            # Linux
        assert busy is not None and 0.0 <= busy <= 2.0 + 1e-9


def test_apply_sets_torch_and_logs(monkeypatch):
    import torch

    monkeypatch.delenv("RECIPEC_THREADS", raising=False)
    before = torch.get_num_threads()
    lines: list[str] = []
    try:
        assert apply_threads(1, "cpu", lines.append) == 1
        assert torch.get_num_threads() == 1 and lines == ["torch threads: 1 (--threads)"]
        assert apply_threads(None, "cpu", lines.append) == 1 and len(lines) == 1  # untouched, silent
    finally:
        torch.set_num_threads(before)


def governor(current=2, target=2, retry=4):
    from engine.threads import ThreadGovernor

    log, counts, recorded = [], [], []
    g = ThreadGovernor(current, target, log.append, retry=retry, set_threads=counts.append,
                       on_change=recorded.append)
    return g, log, counts, recorded


def test_governor_drops_to_one_thread_when_a_job_takes_a_core():
    g, log, counts, recorded = governor()
    for t in [0.65, 0.5, 0.34, 0.33, 0.45, 0.9, 0.6]:   # warm-up, own workers, one outlier: no change
        g.observe(t)
    assert counts == [] and g.n == 2
    for t in [9.0, 10.5]:                               # another job: 30x slower steps
        g.observe(t)
    assert counts == [1] and recorded == [1] and g.n == 1
    assert "steps slowed" in log[-1] and "--threads N" in log[-1]


def test_governor_retries_the_target_and_backs_off():
    g, log, counts, _ = governor(retry=4)
    for t in [0.33, 0.33, 0.33, 10.0, 10.0]:
        g.observe(t)
    assert g.n == 1
    for _ in range(4):
        g.observe(0.6)                                  # 1-thread steps, then the retry starts
    assert counts == [1, 2] and g.trying
    g.observe(8.0)                                      # still contended: back to 1, wait doubled
    assert counts == [1, 2, 1] and g.retry == 8 and "still slow" in log[-1]
    for _ in range(8):
        g.observe(0.6)
    g.observe(0.34)                                     # the job ended: stays at 2, wait reset
    assert counts == [1, 2, 1, 2] and g.n == 2 and g.retry == 4 and "back to 2" in log[-1]


def test_governor_started_at_one_thread_tries_all_cores_and_keeps_them_only_if_faster():
    g, _, counts, _ = governor(current=1, target=2, retry=3)
    for _ in range(3):
        g.observe(0.6)
    g.observe(0.7)                                      # 2 threads not faster than 1: back to 1
    assert counts == [2, 1] and g.n == 1
    g2, _, counts2, _ = governor(current=1, target=2, retry=3)
    for t in [0.6, 0.6, 0.6, 0.35, 0.34]:
        g2.observe(t)
    assert counts2 == [2] and g2.n == 2


def test_fixed_counts_are_not_governed(monkeypatch):
    from engine.threads import governed

    monkeypatch.delenv("RECIPEC_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert governed("auto", "cpu")
    assert not governed(2, "cpu") and not governed(None, "cpu") and not governed("auto", "cuda")
    monkeypatch.setenv("RECIPEC_THREADS", "2")
    assert not governed("auto", "cpu")
