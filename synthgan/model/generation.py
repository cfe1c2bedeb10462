"""From a trained generator to rows: seeded blocks, the sampling network, conditions, streaming.

Rows are made in blocks of ``SAMPLE_BLOCK_ROWS``, each seeded by (seed, block number), so the
same seed gives the same rows however they are asked for (``sample`` or ``sample_to_parquet``
with any ``chunk_rows``). Within a block:

1. noise and condition vectors, from the block's own ``torch.Generator``;
2. the raw output of :class:`SamplingNetwork`, a frozen copy of the generator that works
   feature-major (one row per feature, one column per sample);
3. :meth:`OutputActivation.draw`: tanh for mode scalars, and an exact draw from each one-hot
   span's softmax;
4. :meth:`TableTransformer.decode` back to the table's columns and dtypes.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from synthgan.exceptions import InvalidDataError
from synthgan.model.calibration import BinCalibration
from synthgan.model.conditions import Conditions, parse_conditions
from synthgan.model.networks import Generator, OutputActivation, Residual
from synthgan.model.runtime import block_seed, precision_dtype, seed_from
from synthgan.model.sampler import ConditionSampler
from synthgan.model.selection import RowSelector
from synthgan.transform import TableTransformer

SAMPLE_BLOCK_ROWS = 4096
"""Rows generated per seeded block."""

DECODE_BLOCKS = 8
"""Blocks decoded together when no condition rejects rows: decoding 32,768 rows at once costs
about half as much per row as 4,096 at a time (pandas' per-call overhead)."""

SELECTION_STREAM = 0x5E1EC7
"""Seeds the selector's draws apart from the block's other streams."""

NETWORK_CHUNK_ROWS = SAMPLE_BLOCK_ROWS
"""Samples per forward pass of the sampling network (its activations: a few MB; one pass per
block ran 1.07x faster than 2,048 and 1.16x faster than 1,024 on the benchmark machine)."""


class Scratch:
    """Reusable work tensors, one per name, reallocated only when the shape changes.

    A sampling block allocates several MB of intermediates; fresh allocations of that size are
    fresh pages from the OS on every block (first-touch page faults cost as much as the
    network's largest product on the benchmark machine), so each block reuses the last one's.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._tensors: dict[str, torch.Tensor] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype=torch.float32) -> torch.Tensor:
        tensor = self._tensors.get(name)
        if tensor is None or tensor.shape != shape or tensor.dtype != dtype:
            tensor = self._tensors[name] = torch.empty(shape, dtype=dtype, device=self.device)
        return tensor


class SamplingNetwork(nn.Module):
    """A frozen, inference-only copy of a generator that works feature-major.

    Input (input_dim, n) and output (data_dim, n) hold one row per feature and one column per
    sample. Each residual block's output is concatenated with its input; feature-major, that
    concatenation is a slice of one buffer: the buffer holds ``[h_k, ..., h_1, input]`` (the
    order the generator concatenates in), each block reads the buffer's tail and writes its
    output just in front of it, and the output layer reads the whole buffer. No activations are
    copied. Each BatchNorm (eval mode: an affine map) is folded into its linear layer, and the
    weights are cast to ``dtype``; the raw output comes back as float32.
    """

    def __init__(self, generator: Generator, dtype: torch.dtype) -> None:
        super().__init__()
        *blocks, output = generator.net
        self.blocks = nn.ModuleList(_FoldedResidual(block) for block in blocks)
        self.output = copy.deepcopy(output)
        self.to(dtype).eval().requires_grad_(False)
        self.dtype = dtype
        self.input_dim = blocks[0].fc.in_features if blocks else output.in_features
        self.buffer_dim = output.in_features
        self.data_dim = output.out_features
        self.scratch = Scratch(output.weight.device)

    def input_slot(self, n: int) -> torch.Tensor | None:
        """Where a pass over ``n`` samples (one chunk at most) reads its input: (input_dim, n) in
        the network's dtype. A caller that fills it and passes it to ``forward`` saves a copy
        and a conversion; None when ``n`` spans several chunks."""
        if n > NETWORK_CHUNK_ROWS:
            return None
        buffer = self.scratch.get("activations", (self.buffer_dim, n), self.dtype)
        return buffer[self.buffer_dim - self.input_dim :]

    @torch.no_grad()
    def forward(self, gen_input: torch.Tensor, *, out: torch.Tensor | None = None) -> torch.Tensor:
        """(input_dim, n) -> (data_dim, n) float32, written into ``out`` when given."""
        n = gen_input.shape[1]
        if out is None:
            out = torch.empty(self.data_dim, n, device=gen_input.device)
        chunk = min(n, NETWORK_CHUNK_ROWS)
        buffer = self.scratch.get("activations", (self.buffer_dim, chunk), self.dtype)
        for first in range(0, n, chunk):
            width = min(chunk, n - first)
            live = buffer if width == chunk else buffer.new_empty(self.buffer_dim, width)
            start = self.buffer_dim - self.input_dim
            if gen_input.data_ptr() != live[start:].data_ptr():  # not filled in place
                live[start:].copy_(gen_input[:, first : first + width])
            for block in self.blocks:
                block(live[start:], out=live[start - block.out_features : start])
                start -= block.out_features
            out[:, first : first + width] = torch.addmm(
                self.output.bias[:, None], self.output.weight, live
            )
        return out


class _FoldedResidual(nn.Module):
    """Linear -> BatchNorm (eval) -> ReLU as one affine map and a ReLU, feature-major."""

    def __init__(self, block: Residual) -> None:
        super().__init__()
        fc, bn = block.fc, block.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # eval-mode BatchNorm
        with torch.no_grad():
            self.weight = nn.Parameter(fc.weight * scale[:, None])  # (out, in)
            self.bias = nn.Parameter(((fc.bias - bn.running_mean) * scale + bn.bias)[:, None])
        self.out_features = fc.out_features

    def forward(self, x: torch.Tensor, *, out: torch.Tensor) -> None:
        torch.addmm(self.bias, self.weight, x, out=out).relu_()


class RowGenerator:
    """Makes synthetic rows from a fitted model's parts; built afresh for each sampling call."""

    def __init__(
        self,
        *,
        generator: Generator,
        activation: OutputActivation,
        transformer: TableTransformer,
        condition_spans: tuple,
        category_counts: list,
        embedding_dim: int,
        device: torch.device,
        precision: str = "auto",
        selector: RowSelector | None = None,
        calibration: BinCalibration | None = None,
    ) -> None:
        self.network = SamplingNetwork(generator, precision_dtype(precision, device))
        self.selector = selector
        self.calibration = calibration
        self.activation = activation
        self.transformer = transformer
        self.sampler = ConditionSampler(condition_spans, category_counts, device)
        self.embedding_dim = embedding_dim
        self.device = device
        self.scratch = Scratch(device)

    @torch.no_grad()
    def draw(self, n: int, seed: int, conditions: Conditions) -> tuple[np.ndarray, np.ndarray]:
        """One seeded block of ``n`` rows as drawn (scalars, codes), see TableTransformer.decode."""
        rng = torch.Generator(device=self.device)
        rng.manual_seed(seed)
        # feature-major throughout: (features, n), noise rows then condition rows, written
        # straight into the network's input rows where they fit in one pass
        sampler = self.sampler
        gen_input = self.network.input_slot(n)
        if gen_input is None:
            gen_input = self.scratch.get("gen_input", (self.network.input_dim, n))
        noise = self.scratch.get("noise", (self.embedding_dim, n))
        torch.randn(self.embedding_dim, n, generator=rng, out=noise)
        gen_input[: self.embedding_dim] = noise
        if sampler.n_spans:
            if conditions.span is not None:
                span = torch.full((n,), conditions.span, device=self.device, dtype=torch.long)
                category = torch.full(
                    (n,), conditions.category, device=self.device, dtype=torch.long
                )
            else:
                span, category = sampler.draw_conditions(n, rng, training=False)
            sampler.cond_vec_feature_major(span, category, out=gen_input[self.embedding_dim :])
        raw = self.network(gen_input, out=self.scratch.get("raw", (self.network.data_dim, n)))
        scalars, codes = self.activation.draw(raw, rng)  # overwrites raw
        if conditions.span is not None:  # the conditioned span's draw is the condition itself
            codes[self.activation.span_index.condition_slots[conditions.span]] = conditions.category
        scalars, codes = scalars.cpu().numpy(), codes.cpu().numpy()
        if self.calibration is not None:
            self.calibration.apply(scalars, codes)
        return scalars, codes

    def decode(self, seeds: list[int], conditions: Conditions, row_offset: int) -> pd.DataFrame:
        """The rows of the blocks seeded by ``seeds``, drawn one by one and decoded together
        (pandas' cost per call is then paid once per group of blocks); id columns are still
        regenerated block by block, from each block's seed."""
        drawn = [self.draw(SAMPLE_BLOCK_ROWS, seed, conditions) for seed in seeds]
        scalars = np.concatenate([s for s, _ in drawn], axis=1)
        codes = np.concatenate([c for _, c in drawn], axis=1)
        segments = [(SAMPLE_BLOCK_ROWS, np.random.default_rng(seed)) for seed in seeds]
        return self.transformer.decode(scalars, codes, segments=segments, row_offset=row_offset)

    def select(self, rows: pd.DataFrame, seeds: list[int], produced: int) -> pd.DataFrame:
        """The rows the selector keeps (all without one), ids renumbered from ``produced``. Each
        block's draws and new ids come from its own seed, so the kept rows do not depend on how
        blocks were grouped."""
        if self.selector is None:
            return rows
        parts = []
        for i, seed in enumerate(seeds):
            block = rows.iloc[i * SAMPLE_BLOCK_ROWS : (i + 1) * SAMPLE_BLOCK_ROWS]
            keep = self.selector.keep(block, np.random.default_rng([seed, SELECTION_STREAM]))
            kept = self.renumber(block[keep].reset_index(drop=True), [seed], produced)
            produced += len(kept)
            parts.append(kept)
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def renumber(self, rows: pd.DataFrame, seeds: list[int], produced: int) -> pd.DataFrame:
        rng = np.random.default_rng([seeds[0], SELECTION_STREAM + 1])
        return self.transformer.renumber_ids(rows, rng, produced)

    def iter_rows(
        self,
        n: int,
        conditions: dict | None,
        random_state: int | None,
        max_tries: int,
        *,
        progress: bool,
    ) -> Iterator[pd.DataFrame]:
        """Yield blocks of synthetic rows, in a fixed order, until ``n`` rows were yielded."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise InvalidDataError(f"n must be a non-negative integer, got {n!r}.")
        seed = seed_from(random_state)
        plan = parse_conditions(conditions, self.transformer, self.sampler.span_columns)
        if not plan.empty:  # any conditions: met by construction (synthgan.model.conditioned)
            from synthgan.model.conditioned import iter_conditioned_rows

            yield from iter_conditioned_rows(self, plan, n, seed, max_tries, progress=progress)
            return
        parsed = Conditions()
        produced = generated = block = 0
        budget = max_tries * max(n, SAMPLE_BLOCK_ROWS)
        show = progress and n >= 10 * SAMPLE_BLOCK_ROWS  # small samples finish at once
        with tqdm(total=n, desc="Sampling", unit="row", disable=not show, leave=False) as bar:
            while produced < n:
                if generated >= budget:
                    raise InvalidDataError(parsed.failure_message(generated, produced, n))
                # without rejection, as many blocks as are still needed, DECODE_BLOCKS at most
                needed = -(-(n - produced) // SAMPLE_BLOCK_ROWS)
                group = 1 if parsed.filters else min(needed, DECODE_BLOCKS)
                seeds = [block_seed(seed, block + i) for i in range(group)]
                rows = self.decode(seeds, parsed, produced)
                generated += len(rows)
                block += group
                rows = self.select(rows, seeds, produced)
                if parsed.filters:  # ids of dropped rows must not leave gaps or repeat
                    rows = self.renumber(parsed.filter(rows), seeds, produced)
                rows = rows.iloc[: n - produced]
                if len(rows):
                    produced += len(rows)
                    bar.update(len(rows))
                    yield rows

    def empty_frame(self) -> pd.DataFrame:
        """Zero rows with the table's columns and dtypes."""
        return self.transformer.inverse_transform(
            np.zeros((0, self.transformer.layout_.dim), dtype=np.float32)
        )

    def write_parquet(
        self, path: str | os.PathLike, blocks: Iterator[pd.DataFrame], chunk_rows: int
    ) -> Path:
        """Stream ``blocks`` to a Parquet file, ``chunk_rows`` at a time, atomically."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from synthgan.io import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp:
            writer = None
            pending: list[pd.DataFrame] = []
            pending_rows = 0

            def flush() -> None:
                nonlocal writer, pending, pending_rows
                table = pa.Table.from_pandas(
                    pd.concat(pending, ignore_index=True), preserve_index=False
                )
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
                pending, pending_rows = [], 0

            try:
                for block in blocks:
                    pending.append(block)
                    pending_rows += len(block)
                    if pending_rows >= chunk_rows:
                        flush()
                if pending or writer is None:
                    if not pending:
                        pending = [self.empty_frame()]
                    flush()
            finally:
                if writer is not None:
                    writer.close()
        return path
