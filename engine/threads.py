"""How many torch intra-op threads ``recipec train`` uses on the CPU, and why (one log line).

PyTorch's CPU threads meet at a barrier after every parallel op. When another process holds one of the cores,
every barrier waits for a scheduler time slice: measured on this project's 2 shared cores (yolov5n, 320 px,
batch 16, coco128), a step took 0.33 s with 2 threads on idle cores, 0.6 s with 1 thread, and 2 to 10 s with
2 threads while one other CPU-bound job ran. So on the CPU the count follows the cores other processes leave free:

    threads = clamp(round(cores - busy), 1, cores)

``busy`` = cores' worth of CPU time that *other* processes used while this run was being set up (recipe, data
scan and image cache, model: a second or so; from ``/proc/stat`` minus this process's own CPU time), or the
1-minute load average where ``/proc/stat`` is unavailable. A direct sample rather than the load average, which
trails by a minute (right after another job ends it still reads busy; a benchmark that runs jobs back to back
always sees the previous one). The loader workers are not subtracted: with the RAM image cache they use about
0.1 s of CPU per batch against 0.6 s for the step, and they sleep once their prefetch queue is full; measured,
2 workers + 2 threads ran the epoch in 3.4 s, 2 workers + 1 thread in 4.6-5.8 s. A job that starts after the
choice still collides; ``--threads 1`` is the safe setting on a machine shared with other CPU-heavy work.

The count changes the last bits of the results (reductions split differently round differently), so it is
recorded in the checkpoint's ``args`` and a resumed run reuses it (bit-exact continuation); two fresh runs are
bit-identical only with the same count (pass ``--threads N`` for that).

Precedence: ``--threads N`` > ``RECIPEC_THREADS`` > the count of the run being resumed > ``OMP_NUM_THREADS``
(left to torch) > the rule above; nothing changes on CUDA, or for library callers that pass ``threads=None``.
:func:`choose_threads` is a pure function (tests call it directly); :class:`BusySampler` measures ``busy``;
:func:`apply_threads` ties them to ``torch.set_num_threads``.
"""

from __future__ import annotations

import os
import time

THREADS_ENV = "RECIPEC_THREADS"


def choose_threads(setting: int | str | None, *, device_type: str, cores: int, busy: float | None,
                   previous: int | None = None, env: str | None = None,
                   omp_env: str | None = None) -> tuple[int | None, str]:
    """(threads, reason): the torch intra-op thread count to set, or None to leave torch's as it is.

    ``setting``: ``TrainArgs.threads``: a count (``--threads N``), ``"auto"`` (what ``recipec train`` passes by
    default) or None (library callers that manage threads themselves, e.g. ``recipec demo``: nothing changes).
    For ``"auto"``: RECIPEC_THREADS (``env``) > ``previous`` (the count the run being resumed used: the same
    count keeps a resumed run bit-exact with an uninterrupted one; reductions split differently across threads
    round differently) > OMP_NUM_THREADS (``omp_env``: left to torch) > the free-core rule of the module
    docstring (``cores`` logical CPUs, ``busy`` cores' worth used by other processes, None when unknown).
    Nothing is chosen off the CPU. Raises ValueError for a count that is not a whole number >= 1."""
    if setting is None:
        return None, ""
    if setting != "auto":
        if isinstance(setting, bool) or not isinstance(setting, int) or setting < 1:
            raise ValueError(f"--threads must be a whole number >= 1, got {setting!r}")
        return setting, f"{setting} (--threads)"
    if env is not None and env.strip():
        if not env.strip().isdigit() or int(env) < 1:
            raise ValueError(f"{THREADS_ENV}={env!r}: expected a whole number >= 1")
        return int(env), f"{int(env)} ({THREADS_ENV})"
    if device_type != "cpu":
        return None, ""
    if previous is not None and previous >= 1:
        return previous, f"{previous}, as the run being resumed (same rounding; --threads N to change)"
    if omp_env is not None and omp_env.strip():
        return None, f"torch's choice (OMP_NUM_THREADS={omp_env.strip()})"
    cores = max(int(cores), 1)
    if busy is None or cores == 1:
        return None, ""
    n = min(max(int(cores - max(float(busy), 0.0) + 0.5), 1), cores)
    state = "all free" if n == cores else f"{cores - n} busy"
    return n, (f"{n} of {cores} cores (other processes use {busy:.1f} cores: {state}; "
               f"--threads N or {THREADS_ENV} to choose)")


def _proc_stat() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat, or None where there is none."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    if len(f) < 4:
        return None
    idle = f[3] + (f[4] if len(f) > 4 else 0)  # idle + iowait
    total = sum(f[:8])  # guest time is already inside user
    return total - idle, total


class BusySampler:
    """Start at the beginning of setup; :meth:`others` = cores' worth of CPU the *other* processes used since."""

    def __init__(self) -> None:
        self.t0, self.own0, self.stat0 = time.perf_counter(), time.process_time(), _proc_stat()

    def others(self, cores: int, min_window_s: float = 0.2) -> float | None:
        """None when /proc/stat is missing or the window is shorter than ``min_window_s`` (too coarse)."""
        stat, wall = _proc_stat(), time.perf_counter() - self.t0
        if self.stat0 is None or stat is None or wall < min_window_s or stat[1] <= self.stat0[1]:
            return None
        frac = (stat[0] - self.stat0[0]) / (stat[1] - self.stat0[1])  # busy share of all cores
        own = (time.process_time() - self.own0) / wall  # this process's cores' worth (all its threads)
        return max(frac * cores - own, 0.0)


def apply_threads(setting: int | str | None, device_type: str, say, sampler: BusySampler | None = None,
                  previous: int | None = None) -> int | None:
    """Choose (see :func:`choose_threads`) from this machine's state, set it, log it. Returns the count torch
    now uses on the CPU (to record in the checkpoint), None off the CPU. Raises ValueError for a bad count."""
    import torch

    cores = os.cpu_count() or 1
    busy = None
    if setting == "auto" and device_type == "cpu":
        busy = sampler.others(cores) if sampler is not None else None
        if busy is None:
            try:
                busy = os.getloadavg()[0]
            except (OSError, AttributeError):
                busy = None
    n, why = choose_threads(setting, device_type=device_type, cores=cores, busy=busy, previous=previous,
                            env=os.environ.get(THREADS_ENV), omp_env=os.environ.get("OMP_NUM_THREADS"))
    if n is not None and n != torch.get_num_threads():
        torch.set_num_threads(n)
    if why:
        say(f"torch threads: {why}")
    return torch.get_num_threads() if device_type == "cpu" else None
