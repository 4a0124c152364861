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
2 workers + 2 threads ran the epoch in 3.4 s, 2 workers + 1 thread in 4.6-5.8 s. Jobs that start or stop
after the choice are followed from the step times by :class:`ThreadGovernor`.

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


def governed(setting: int | str | None, device_type: str) -> bool:
    """True when the count is ours to change during the run: ``"auto"`` on the CPU with neither RECIPEC_THREADS nor
    OMP_NUM_THREADS set (a count the user gave stays fixed)."""
    return (setting == "auto" and device_type == "cpu" and not os.environ.get(THREADS_ENV, "").strip()
            and not os.environ.get("OMP_NUM_THREADS", "").strip())


class ThreadGovernor:
    """Auto mode on the CPU: follow other jobs that start (or stop) *after* the thread count was chosen.

    ``observe(seconds)`` after every optimizer step (the step only: data waits are not in it). With more than one
    thread, when the median of the last ``window`` steps exceeds ``slow`` times the fastest step seen at that
    count, another process has taken a core (every barrier then waits for a time slice: 2-10 s steps instead of
    0.33 s measured here), so it drops to 1 thread. Every ``retry`` steps at 1 thread it tries ``target`` threads
    again (all cores; also when the run started at 1 because the machine was busy then); that first step decides:
    slower than ``slow`` times the best at ``target`` (or, with no best yet, not faster than the best 1-thread
    step) sends it back to 1 and doubles the wait before the next try. Each change is logged, and
    ``on_change(n)`` records it (the checkpoint's ``args.threads``, so a resume continues with the count in
    effect). A run whose count changed is not bit-reproducible; ``--threads N`` fixes the count (no governor).
    """

    def __init__(self, current: int, target: int, say, *, slow: float = 3.0, window: int = 3, retry: int = 50,
                 on_change=None, set_threads=None):
        import torch

        self.n, self.target, self.say, self.slow, self.window = int(current), int(target), say, slow, window
        self.retry0 = self.retry = retry
        self.on_change = on_change
        self.set_threads = set_threads or torch.set_num_threads
        self.best: dict[int, float] = {}
        self.recent: list[float] = []
        self.since, self.trying = 0, False

    def _switch(self, n: int) -> None:
        self.set_threads(n)
        self.n, self.recent, self.since = n, [], 0
        if self.on_change is not None:
            self.on_change(n)

    def observe(self, seconds: float) -> None:
        n, best = self.n, self.best.get(self.n)
        self.since += 1
        if self.trying:  # the first step back at the target count decides
            self.trying = False
            bad = seconds > self.slow * best if best is not None else seconds >= self.best.get(1, float("inf"))
            if bad:
                self.retry *= 2
                self._switch(1)
                self.say(f"torch threads: {n} still slow ({seconds:.2f} s a step): 1 thread, next try in "
                         f"{self.retry} steps")
                return
            self.retry = self.retry0
            self.say(f"torch threads: back to {n} ({seconds:.2f} s a step)")
        self.best[n] = seconds if best is None else min(best, seconds)
        self.recent = (self.recent + [seconds])[-self.window:]
        if n > 1 and len(self.recent) == self.window:
            med = sorted(self.recent)[self.window // 2]
            if med > self.slow * self.best[n]:
                self._switch(1)
                self.say(f"torch threads: steps slowed to {med:.2f} s (best {self.best[n]:.2f} s with {n} threads: "
                         f"another process is using the cores): 1 thread from here, {self.target} again in "
                         f"{self.retry} steps (--threads N fixes the count)")
        elif n == 1 and self.target > 1 and self.since >= self.retry:
            self._switch(self.target)
            self.trying = True
