"""Encoded training rows on local disk: memory-mapped shards read a batch at a time.

A streamed fit writes each row in the layout's own terms rather than as the dense float32 row
the networks see: the scalar of every tanh span (float32) and the index drawn in every softmax
span (int16, or int32 for a span wider than 32,767 slots), the two arrays
``TableTransformer.decode`` reads. A row of Adult takes 48 bytes instead of 1,168. Shards hold
``shard_rows`` rows each, as ``.npy`` files.

Training gathers a batch of rows from the maps and expands them to dense rows on the training
device (:class:`ShardedRows`); training-by-sampling draws rows of a category through an index
of rows sorted by category, itself on disk (:class:`ShardedConditionSampler`). Pages the maps
bring in are handed back to the kernel whenever more than ``resident_bytes`` may be resident,
so the fit's memory does not grow with the table.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from synthgan.exceptions import InvalidDataError
from synthgan.model.sampler import ConditionSampler
from synthgan.transform.layout import Layout, Span

SHARD_ROWS = 1 << 20
RESIDENT_BYTES = 256 << 20
"""Bytes of mapped shard pages a fit lets stay resident before handing them back."""
TOUCHED_BYTES = 64 << 10
"""Bytes one random row read may make resident: Linux maps up to 64 KiB of cached pages around
a faulting page (fault-around), so a page per row undercounts 16-fold."""


def _header_offset(path: Path) -> tuple[int, tuple[int, ...], np.dtype]:
    with open(path, "rb") as file:
        version = np.lib.format.read_magic(file)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )  # fmt: skip
        shape, _, dtype = read_header(file)
        return file.tell(), shape, dtype


class _Mapped:
    """One ``.npy`` file mapped read-only, whose resident pages can be handed back."""

    def __init__(self, path: Path) -> None:
        offset, shape, dtype = _header_offset(path)
        with open(path, "rb") as file:
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(mmap, "MADV_RANDOM"):  # batches read scattered rows: no read-ahead
            self._map.madvise(mmap.MADV_RANDOM)
        self.array = np.ndarray(shape, dtype=dtype, buffer=self._map, offset=offset)

    def release(self) -> None:
        if hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        self.array = None
        self._map.close()


@dataclass(frozen=True)
class ShardLayout:
    """Where each span's value sits in a shard row, from the transformer's Layout."""

    dim: int
    tanh_starts: np.ndarray  # (n_tanh,) the dense column of each tanh span
    softmax_starts: np.ndarray  # (n_softmax,)
    softmax_widths: np.ndarray  # (n_softmax,)

    @classmethod
    def of(cls, layout: Layout) -> ShardLayout:
        return cls(
            layout.dim,
            np.array([s.start for s in layout.tanh_spans], dtype=np.int64),
            np.array([s.start for s in layout.softmax_spans], dtype=np.int64),
            np.array([s.width for s in layout.softmax_spans], dtype=np.int64),
        )

    @property
    def code_dtype(self) -> np.dtype:
        wide = len(self.softmax_widths) and self.softmax_widths.max() > np.iinfo(np.int16).max
        return np.dtype(np.int32 if wide else np.int16)

    @property
    def row_bytes(self) -> int:
        return 4 * len(self.tanh_starts) + self.code_dtype.itemsize * len(self.softmax_starts)

    def split(self, dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dense encoded rows (n, dim) -> (scalars (n, n_tanh) float32, codes (n, n_softmax))."""
        scalars = np.ascontiguousarray(dense[:, self.tanh_starts], dtype=np.float32)
        codes = np.empty((len(dense), len(self.softmax_starts)), dtype=self.code_dtype)
        for i, (start, width) in enumerate(zip(self.softmax_starts, self.softmax_widths)):
            codes[:, i] = dense[:, start : start + width].argmax(axis=1)
        return scalars, codes

    def dense(self, scalars: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """The dense encoded rows (n, dim) float32 back from the two arrays."""
        n = len(codes)
        out = np.zeros((n, self.dim), dtype=np.float32)
        out[:, self.tanh_starts] = scalars
        rows = np.repeat(np.arange(n), len(self.softmax_starts))
        out[rows, (codes.astype(np.int64) + self.softmax_starts).ravel()] = 1.0
        return out


class ShardWriter:
    """Writes encoded rows, in order, into preallocated shard files under ``directory``.

    Holds nothing but the block it is given: each block goes to disk with positioned writes
    (no map, so written pages are not the process's memory). ``max_block_rows`` records the
    largest block written, for tests of the memory bound.
    """

    def __init__(
        self, directory: str | os.PathLike, layout: ShardLayout, n_rows: int,
        shard_rows: int = SHARD_ROWS,
    ) -> None:  # fmt: skip
        self.directory, self.layout = Path(directory), layout
        self.n_rows, self.shard_rows = int(n_rows), int(shard_rows)
        self.written = 0
        self.max_block_rows = 0
        self._files = []
        for index, first in enumerate(range(0, self.n_rows, self.shard_rows)):
            rows = min(self.shard_rows, self.n_rows - first)
            pair = []
            for kind, width, dtype in (
                ("scalars", len(layout.tanh_starts), np.dtype(np.float32)),
                ("codes", len(layout.softmax_starts), layout.code_dtype),
            ):
                path = self.directory / f"{kind}-{index:05d}.npy"
                array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(rows, width))
                del array  # the header and a sparse file; rows come by positioned writes
                pair.append((path, _header_offset(path)[0], width * dtype.itemsize))
            self._files.append(pair)

    def write(self, dense: np.ndarray) -> None:
        """Append encoded rows (n, dim), as ``TableTransformer.transform`` returns them."""
        n = len(dense)
        if self.written + n > self.n_rows:
            raise InvalidDataError(
                f"The table grew while it was read: more than the {self.n_rows:,} rows counted "
                "in the first pass. Fit on a table that does not change during the fit."
            )
        self.max_block_rows = max(self.max_block_rows, n)
        parts = self.layout.split(dense)
        done = 0
        while done < n:
            shard, local = divmod(self.written + done, self.shard_rows)
            take = min(n - done, self.shard_rows - local)
            for (path, offset, row_bytes), part in zip(self._files[shard], parts):
                with open(path, "r+b") as file:
                    os.pwrite(file.fileno(), part[done : done + take].tobytes(),
                              offset + local * row_bytes)  # fmt: skip
            done += take
        self.written += n

    def close(self) -> ShardSet:
        if self.written != self.n_rows:
            raise InvalidDataError(
                f"The table changed while it was read: {self.written:,} rows in the second pass, "
                f"{self.n_rows:,} in the first. Fit on a table that does not change during the fit."
            )
        return ShardSet(self.directory, self.layout, self.n_rows, self.shard_rows)


class ShardSet:
    """The shards of one encoded table, read by batch (maps) or sequentially (plain reads)."""

    def __init__(self, directory: Path, layout: ShardLayout, n_rows: int, shard_rows: int,
                 resident_bytes: int = RESIDENT_BYTES) -> None:  # fmt: skip
        self.directory, self.layout = Path(directory), layout
        self.n_rows, self.shard_rows = n_rows, shard_rows
        self.n_shards = -(-n_rows // shard_rows)
        self.resident_bytes = resident_bytes
        self._maps: list[tuple[_Mapped, _Mapped]] | None = None
        self._touched = 0

    def _path(self, kind: str, index: int) -> Path:
        return self.directory / f"{kind}-{index:05d}.npy"

    def iter_blocks(self, rows: int) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """(scalars, codes) of consecutive rows, ``rows`` at a time within each shard, by plain
        reads: nothing stays mapped."""
        for index in range(self.n_shards):
            arrays = []
            for kind in ("scalars", "codes"):
                offset, shape, dtype = _header_offset(self._path(kind, index))
                arrays.append((offset, shape, dtype))
            n = arrays[0][1][0]
            for first in range(0, n, rows):
                take = min(rows, n - first)
                block = []
                for kind, (offset, shape, dtype) in zip(("scalars", "codes"), arrays):
                    width = shape[1]
                    block.append(np.fromfile(
                        self._path(kind, index), dtype=dtype, count=take * width,
                        offset=offset + first * width * dtype.itemsize,
                    ).reshape(take, width))  # fmt: skip
                yield block[0], block[1]

    def _open(self) -> list[tuple[_Mapped, _Mapped]]:
        if self._maps is None:
            self._maps = [
                (_Mapped(self._path("scalars", i)), _Mapped(self._path("codes", i)))
                for i in range(self.n_shards)
            ]
        return self._maps

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(scalars (b, n_tanh), codes (b, n_softmax)) of the rows at positions ``rows``."""
        maps = self._open()
        rows = np.asarray(rows, dtype=np.int64)
        scalars = np.empty((len(rows), len(self.layout.tanh_starts)), dtype=np.float32)
        codes = np.empty((len(rows), len(self.layout.softmax_starts)), dtype=self.layout.code_dtype)
        shard, local = np.divmod(rows, self.shard_rows)
        for index in np.unique(shard):  # a loop over shards, not rows
            mine = shard == index
            scalars[mine] = maps[index][0].array[local[mine]]
            codes[mine] = maps[index][1].array[local[mine]]
        self.touched(2 * len(rows) * TOUCHED_BYTES)
        return scalars, codes

    def touched(self, n_bytes: int) -> None:
        """Count bytes that may have become resident; hand them back past the bound."""
        self._touched += n_bytes
        if self._touched > self.resident_bytes:
            self.release()

    def release(self) -> None:
        for pair in self._maps or ():
            for mapped in pair:
                mapped.release()
        for hook in getattr(self, "_release_hooks", ()):
            hook()
        self._touched = 0

    def on_release(self, hook) -> None:
        self._release_hooks = [*getattr(self, "_release_hooks", ()), hook]

    def close(self) -> None:
        for pair in self._maps or ():
            for mapped in pair:
                mapped.close()
        self._maps = None


class ShardedRows:
    """The training rows as the Trainer reads them: ``rows[index]`` gives dense rows
    (batch, dim) on ``device``, gathered from the shards."""

    def __init__(self, shards: ShardSet, device: torch.device) -> None:
        self.shards, self.device = shards, torch.device(device)

    def __len__(self) -> int:
        return self.shards.n_rows

    def __getitem__(self, index: torch.Tensor) -> torch.Tensor:
        rows = index.detach().cpu().numpy()
        dense = self.shards.layout.dense(*self.shards.gather(rows))  # (batch, dim)
        return torch.from_numpy(dense).to(self.device)

    def dense_rows(self, limit: int, seed: int) -> torch.Tensor:
        """Every row in order when there are at most ``limit``; else ``limit`` rows drawn
        uniformly without replacement (seeded), in table order."""
        n = self.shards.n_rows
        if n <= limit:
            blocks = [self.shards.layout.dense(s, c) for s, c in self.shards.iter_blocks(1 << 16)]
            return torch.from_numpy(np.concatenate(blocks)).to(self.device)
        rows = np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
        return self[torch.from_numpy(rows)]


class ShardedConditionSampler(ConditionSampler):
    """Training-by-sampling over shards: the same draws as ``ConditionSampler.from_data`` on
    the dense table, with its index of rows by category (spans, n_rows) kept on disk."""

    @classmethod
    def from_shards(
        cls, spans: tuple[Span, ...], shards: ShardSet, device: torch.device,
        block_rows: int = 1 << 16,
        sum_counts: Callable[[list[np.ndarray]], list[np.ndarray]] | None = None,
    ) -> ShardedConditionSampler:  # fmt: skip
        """The sampler of the rows in ``shards``, with its category index on disk beside them.

        ``shards`` may hold one process's rows of the table; ``sum_counts`` then turns their
        category counts into the whole table's, from which conditions are drawn (data-parallel
        training, synthgan.model.distributed), as ``ConditionSampler.from_data`` does."""
        spans = tuple(spans)
        softmax = {int(start): i for i, start in enumerate(shards.layout.softmax_starts)}
        columns = np.array([softmax[s.start] for s in spans], dtype=np.int64)
        counts = [np.zeros(s.width, dtype=np.int64) for s in spans]
        for _, codes in shards.iter_blocks(block_rows):
            for i, column in enumerate(columns):
                counts[i] += np.bincount(codes[:, column], minlength=spans[i].width)
        totals = counts if sum_counts is None else sum_counts(counts)
        sampler = cls(spans, totals, device)
        sampler.n_rows = n = shards.n_rows
        sampler.shards = shards
        sampler.missing_here = any(bool(((t > 0) & (c == 0)).any()) for t, c in zip(totals, counts))
        if not spans:
            return sampler
        max_width = max(s.width for s in spans)
        padded = np.zeros((len(spans), max_width), dtype=np.int64)
        for i, span_counts in enumerate(counts):
            padded[i, : len(span_counts)] = span_counts
        starts = np.cumsum(padded, axis=1) - padded
        sampler.category_count = sampler._tensor(padded, torch.long)
        sampler.category_start = sampler._tensor(starts, torch.long)
        index_dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
        path = shards.directory / "rows-by-category.npy"
        created = np.lib.format.open_memmap(
            path, mode="w+", dtype=index_dtype, shape=(len(spans), n)
        )
        del created  # a sparse file; each block below maps it only while writing
        # one pass over the rows: each block's rows go to their category's next free places, so
        # the index equals a stable argsort of each span's codes over the whole table
        filled = np.zeros_like(padded)
        first = 0
        for _, codes in shards.iter_blocks(block_rows):
            index = np.load(path, mmap_mode="r+")  # mapped for one block: its pages go with it
            m = len(codes)
            positions = np.arange(first, first + m, dtype=index_dtype)
            for i, column in enumerate(columns):
                span_codes = codes[:, column].astype(np.int64)
                order = np.argsort(span_codes, kind="stable")
                sorted_codes = span_codes[order]
                block_counts = np.bincount(span_codes, minlength=max_width)
                rank = np.arange(m) - (np.cumsum(block_counts) - block_counts)[sorted_codes]
                dest = starts[i, sorted_codes] + filled[i, sorted_codes] + rank
                index[i, dest] = positions[order]
                filled[i] += block_counts
            first += m
            index.flush()
            del index
        sampler._index = _Mapped(path)
        shards.on_release(sampler._index.release)
        return sampler

    def _rows_at(self, span: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        """The row list lives in the memory-mapped index on disk, not in a tensor."""
        flat = (span * self.n_rows + position).cpu().numpy()
        rows = self._index.array.reshape(-1)[flat].astype(np.int64)
        self.shards.touched(len(rows) * TOUCHED_BYTES)
        return torch.from_numpy(rows).to(self.device)

    def close(self) -> None:
        if getattr(self, "_index", None) is not None:
            self._index.close()
            self._index = None
