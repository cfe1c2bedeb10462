"""Will a fit fit in memory? The estimate, checked before the table is encoded.

The encoded table lives in memory (and on the training device) for the whole fit as float32, one
column per one-hot slot: a categorical column of a million distinct values over a million rows
would need 4 TB. The estimate counts that array, its float64 working copies during encoding, and
the networks with their optimiser state; the fit refuses to start when it exceeds the memory the
machine has available, naming the widest columns and the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from synthgan.exceptions import InvalidDataError

GIB = 2**30
LARGE_INPUT_BYTES = 256 * 2**20
"""Inputs whose encoded table exceeds this get the estimate printed before training."""
ENCODING_OVERHEAD = 2.0
"""Peak memory while encoding, in encoded tables: the float32 result and working copies of the
widest blocks (measured on Adult: 1.7x)."""
PARAM_COPIES = 5
"""Each network weight lives as the weight, its gradient, Adam's two moments and the EMA copy."""


def available_memory() -> int | None:
    """Bytes the system can give this process now (Linux MemAvailable; None if unknown)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True)
class FitMemory:
    """The estimate: bytes of the encoded table and of the networks, and the widest columns."""

    table_bytes: int
    network_bytes: int
    widest: list[tuple[str, int]]

    @property
    def peak_bytes(self) -> int:
        return int(self.table_bytes * ENCODING_OVERHEAD) + self.network_bytes

    def describe(self) -> str:
        return (
            f"encoded table {_size(self.table_bytes)}, networks {_size(self.network_bytes)}, "
            f"peak about {_size(self.peak_bytes)}"
        )


def _size(n_bytes: float) -> str:
    return f"{n_bytes / GIB:.1f} GiB" if n_bytes >= GIB else f"{n_bytes / 2**20:.0f} MiB"


def estimate_fit_memory(
    n_rows: int, column_widths: dict[str, int], hidden: tuple[int, ...], cond_dim: int
) -> FitMemory:
    """Memory of a fit on ``n_rows`` rows whose columns encode to ``column_widths`` slots."""
    dim = sum(column_widths.values())
    widths = [dim + cond_dim, *hidden, dim]
    # generator and critic are each about as large as this stack of layers
    params = 2 * sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    widest = sorted(column_widths.items(), key=lambda item: -item[1])[:3]
    return FitMemory(4 * n_rows * dim, 4 * PARAM_COPIES * params, widest)


def check_fit_memory(estimate: FitMemory, available: int | None) -> None:
    """Raise before any encoding when the fit cannot fit in ``available`` bytes."""
    if available is None or estimate.peak_bytes <= available:
        return
    columns = ", ".join(f"{name!r} ({width:,} slots)" for name, width in estimate.widest)
    raise InvalidDataError(
        f"This fit needs about {_size(estimate.peak_bytes)} ({estimate.describe()}) but only "
        f"{_size(available)} of memory is available. The widest columns: {columns}. "
        "Mark a high-cardinality column 'ignored' or 'id' in the schema, pool its rare values "
        "(e.g. keep the 1,000 most frequent and map the rest to 'other'), or fit on fewer rows."
    )
