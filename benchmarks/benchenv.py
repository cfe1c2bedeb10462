"""What every benchmark records and sets up the same way: threads, versions, commit, machine.

Thread limits must be in the environment before numpy, scipy, sklearn or torch are imported
(OpenMP and BLAS read them once, at load time), so a script calls :func:`set_thread_env` first,
imports the heavy libraries afterwards, then calls :func:`limit_threads`.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "LOKY_MAX_CPU_COUNT",  # joblib's idea of the CPU count (ctgan calls Parallel(n_jobs=-1))
)
_LIMITS = []  # keeps the threadpoolctl limiter alive for the life of the process


def set_thread_env(threads: int) -> None:
    """Put the thread limits in the environment; call before importing numpy or torch."""
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(threads)


def limit_threads(threads: int) -> dict:
    """Apply the limits to torch and to the loaded BLAS/OpenMP pools; return what is in force."""
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only settable once, before any inter-op work
        pass
    _LIMITS.append(threadpool_limits(limits=threads))
    return {
        "threads": threads,
        "env": {var: os.environ.get(var) for var in THREAD_ENV_VARS},
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "threadpoolctl": [
            {
                "user_api": pool["user_api"],
                "internal_api": pool["internal_api"],
                "num_threads": pool["num_threads"],
                "library": Path(pool["filepath"]).name,
            }
            for pool in threadpool_info()
        ],
    }


def version(dist: str) -> str | None:
    """The installed version of the distribution ``dist``, None if it is not installed."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict:
    out = {"python": platform.python_version()}
    for dist in (
        "synthgan",
        "ctgan",
        "rdt",
        "sdmetrics",
        "torch",
        "numpy",
        "pandas",
        "scikit-learn",
        "scipy",
        "joblib",
    ):
        out[dist] = version(dist)
    return out


def git_commit() -> dict:
    """HEAD of the repository, and whether tracked files of synthgan/ differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "synthgan_tracked_files_modified": bool(
            git("status", "--porcelain", "--untracked-files=no", "--", "synthgan")
        ),
    }


def machine() -> dict:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # not the nproc command: it honours OMP_NUM_THREADS, which set_thread_env has lowered
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python_executable": sys.executable,
    }


def rss_mb() -> float:
    """Current resident set size of this process, in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """High-water resident set size of this process so far, in MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def provenance(threads: dict, **extra_versions: str | None) -> dict:
    """What every results file records of its run: the command, the library versions (plus
    ``extra_versions``), the commit, the machine and the thread limits in force."""
    return {
        "command": " ".join(sys.argv),
        "versions": {**versions(), **extra_versions},
        "git": git_commit(),
        "machine": machine(),
        "threads": threads,
    }


def write_json(path: Path, payload: dict) -> None:
    """Write atomically: a temporary file beside the target, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    os.replace(tmp, path)
