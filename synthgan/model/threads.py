"""How many CPU threads a fit uses: the cores that are free now, re-measured every epoch.

PyTorch's threads meet at a barrier after every operation. When another process holds a core,
the thread that shares it runs half the time and every step waits for it: on a 2-core machine a
default Adult fit took 16x longer beside one busy process at 2 threads, and about as long as
alone at 1 thread (issue 11; ``benchmarks/bench_load.py``). So under ``n_threads="auto"`` a fit
measures how many cores other processes are using (Linux ``/proc/stat``, less this process's own
CPU time) and runs on the rest, at least one; elsewhere it keeps torch's setting.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from synthgan.exceptions import InvalidDataError

PROC_STAT = "/proc/stat"
START_WINDOW_S = 0.2
"""How long the first measurement of other processes' load watches the machine."""
SPARE_MARGIN = 0.3
"""A core counts as free when other processes leave at least 1 - this of it (they rarely leave
exactly a whole core: the shell, the kernel, a monitoring daemon)."""


def check_n_threads(n_threads: int | str) -> None:
    if n_threads == "auto":
        return
    if not isinstance(n_threads, int) or isinstance(n_threads, bool) or n_threads < 1:
        raise InvalidDataError(
            f"n_threads must be 'auto' or a positive integer, got {n_threads!r}."
        )


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class _Reading:
    wall: float
    busy_s: float  # CPU seconds all processes spent busy since boot
    own_s: float  # CPU seconds this process spent


def _read() -> _Reading | None:
    try:
        with open(PROC_STAT) as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 6:
        return None
    ticks = [int(value) for value in fields[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    times = os.times()
    return _Reading(time.monotonic(), (sum(ticks) - idle) / hz, times.user + times.system)


class ThreadPlan:
    """Chooses the thread count of a CPU fit, and restores torch's setting afterwards.

    Parameters
    ----------
    n_threads : "auto" or int
        A fixed count, or "auto": of the threads torch would use (``OMP_NUM_THREADS``,
        ``torch.set_num_threads``) and the cores this process may run on, those that other
        processes leave free, measured before training and over each epoch.
    """

    def __init__(self, n_threads: int | str) -> None:
        self.n_threads = n_threads
        # torch's count already says what the user allows (OMP_NUM_THREADS, set_num_threads)
        self.cores = min(usable_cores(), torch.get_num_threads())
        self.history: list[int] = []
        self._last: _Reading | None = None

    def _free_cores(self, start: _Reading, end: _Reading) -> float | None:
        wall = end.wall - start.wall
        if wall <= 0:
            return None
        others = max(0.0, (end.busy_s - start.busy_s) - (end.own_s - start.own_s)) / wall
        return self.cores - others

    def _choose(self) -> int:
        if self.n_threads != "auto":
            return int(self.n_threads)
        reading = _read()
        if reading is None or self._last is None:
            self._last = reading
            return torch.get_num_threads()
        free = self._free_cores(self._last, reading)
        self._last = reading
        if free is None:
            return torch.get_num_threads()
        return max(1, min(self.cores, int(free + SPARE_MARGIN)))

    def start(self) -> int:
        """Measure the machine briefly and set the threads of the first epoch."""
        if self.n_threads == "auto":
            self._last = _read()
            if self._last is not None and self.cores > 1:  # one core: nothing to choose
                time.sleep(START_WINDOW_S)
        return self.update()

    def update(self) -> int:
        """Set the threads for the next epoch from the load seen since the last call."""
        threads = self._choose()
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        self.history.append(threads)
        return threads


@contextlib.contextmanager
def thread_plan(n_threads: int | str, device: torch.device) -> Iterator[ThreadPlan | None]:
    """A :class:`ThreadPlan` for a fit on the CPU (None on other devices); torch's thread count
    is put back as it was when the fit ends."""
    if device.type != "cpu":
        yield None
        return
    before = torch.get_num_threads()
    plan = ThreadPlan(n_threads)
    try:
        yield plan
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
