"""The model file: one zip holding plain JSON metadata and tensors, never a pickle.

Layout of ``model.synthgan`` (a zip archive):

* ``meta.json``: format version, synthgan version, the estimator's parameters, the transformer
  state (schema, mixture parameters, category lists, bounds: summaries, never training rows),
  the loss history and training facts.
* ``weights.pt``: a dict of state dicts (tensors only), read with ``torch.load(weights_only=True)``,
  which refuses anything but tensors and plain containers, so loading runs no code from the file.
* ``checksum.sha256``: SHA-256 of meta.json followed by weights.pt. A truncated or altered file
  fails this check (or the zip's own) and raises ModelFileError.

Older format versions keep loading: ``_UPGRADES`` maps each old version to a function that brings
its metadata up to date.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch

from synthgan._version import __version__
from synthgan.exceptions import ModelFileError
from synthgan.io import atomic_path

FORMAT_NAME = "synthgan-model"
FORMAT_VERSION = 8


def _upgrade_1_to_2(meta: dict) -> dict:
    """Format 2 added ``condition_on_modes`` (and ``train_precision``, whose default applies):
    format-1 models conditioned on categorical columns only."""
    meta["params"] = {**meta["params"], "condition_on_modes": False}
    return meta


def _upgrade_2_to_3(meta: dict) -> dict:
    """Format 3 added ``discriminator_row_dim``: format-2 critics had no shared row encoder."""
    meta["params"] = {**meta["params"], "discriminator_row_dim": None}
    return meta


def _upgrade_3_to_4(meta: dict) -> dict:
    """Format 4 added ``quantile_knots`` (a numeric column's quantile map, in the transformer
    state) and ``rejection`` (the row critic of rejection sampling): format-3 models had
    neither. A format-3 reader would decode a format-4 model's columns wrongly, hence the bump."""
    meta["params"] = {**meta["params"], "quantile_knots": None, "rejection": False}
    return meta


def _upgrade_4_to_5(meta: dict) -> dict:
    """Format 5 added ``quantile_bins`` (equal-mass bins of a numeric column's quantile, in the
    transformer state), the bins' scalar calibration, ``derive_columns`` (columns computed from
    others) and rules (``rules`` and ``on_violation`` parameters, the fitted rule plan in
    ``meta["rules"]``): format-4 models had Gaussian modes, modelled every column and had no
    rules. A format-4 reader would decode a format-5 model's columns wrongly, hence the bump."""
    meta["params"] = {**meta["params"], "quantile_bins": None, "derive_columns": False,
                      "rules": None, "on_violation": "drop"}  # fmt: skip
    meta.setdefault("calibration", None)
    meta["rules"] = None
    return meta


def _upgrade_5_to_6(meta: dict) -> dict:
    """Format 6 added two-way factors to rejection sampling (``pair_factors``, their spans in
    ``meta["selection"]["pairs"]``) and selection without a row critic (a private fit's):
    format-5 files have neither, so nothing changes. A format-5 reader would sample a format-6
    private model without its factors, hence the bump."""
    return meta


def _upgrade_6_to_7(meta: dict) -> dict:
    """Format 7's row critic reads each binned column's normal score beside the encoding
    (``meta["selection"]["rank_features"]``, its first layer wider by one input per binned
    column): format-6 critics read the encoding alone, which an absent flag means. A format-6
    reader would fail on a format-7 critic's weights, hence the bump."""
    return meta


def _upgrade_7_to_8(meta: dict) -> dict:
    """Format 8 added refinement critics to rejection sampling (``row_refinements``, their
    facts and ceilings in ``meta["selection"]["refinements"]``): format-7 files have none, which
    an absent list means. A format-7 reader would sample a format-8 model without its later
    stages, hence the bump."""
    return meta


# version -> function(meta) -> meta of version + 1
_UPGRADES: dict[int, Any] = {
    1: _upgrade_1_to_2, 2: _upgrade_2_to_3, 3: _upgrade_3_to_4, 4: _upgrade_4_to_5,
    5: _upgrade_5_to_6, 6: _upgrade_6_to_7, 7: _upgrade_7_to_8,
}  # fmt: skip


def _digest(meta_bytes: bytes, weights_bytes: bytes) -> str:
    return hashlib.sha256(meta_bytes + b"\0" + weights_bytes).hexdigest()


def write_model(path: str | os.PathLike, meta: dict, tensors: dict[str, Any]) -> Path:
    """Write ``meta`` (JSON-able) and ``tensors`` (state dicts) atomically to ``path``."""
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "synthgan": __version__,
        **meta,
    }
    meta_bytes = json.dumps(meta, indent=1, allow_nan=True).encode("utf-8")
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    weights_bytes = buffer.getvalue()
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("meta.json", meta_bytes)
            archive.writestr("weights.pt", weights_bytes)
            archive.writestr("checksum.sha256", _digest(meta_bytes, weights_bytes))
    return Path(path)


def read_model(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> tuple[dict, dict]:
    """Read and verify a model file: (meta, tensors). Raises ModelFileError with one line."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file.")
    try:
        with zipfile.ZipFile(path) as archive:
            meta_bytes = archive.read("meta.json")
            weights_bytes = archive.read("weights.pt")
            checksum = archive.read("checksum.sha256").decode("ascii").strip()
    except (
        zipfile.BadZipFile,
        zlib.error,  # a damaged deflate stream
        NotImplementedError,  # a damaged header naming an unknown compression method
        RuntimeError,  # a damaged header flagging the member as encrypted
        KeyError,
        EOFError,
        OSError,
        UnicodeDecodeError,
        ValueError,
    ):
        raise ModelFileError(
            f"{path}: not a synthgan model file, or truncated or damaged."
        ) from None
    if _digest(meta_bytes, weights_bytes) != checksum:
        raise ModelFileError(f"{path}: checksum mismatch; the file was altered or damaged.")
    try:
        meta = json.loads(meta_bytes)
    except ValueError:
        raise ModelFileError(f"{path}: damaged metadata.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not a synthgan model file.")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: damaged metadata (format version {version!r}).")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format {version} is newer than this synthgan ({__version__}) reads "
            f"(format {FORMAT_VERSION}). Upgrade synthgan: pip install -U synthgan."
        )
    while version < FORMAT_VERSION:
        meta = _UPGRADES[version](meta)
        version += 1
        meta["format_version"] = version
    try:
        tensors = torch.load(
            io.BytesIO(weights_bytes), map_location=map_location, weights_only=True
        )
    except Exception as exc:  # torch raises several types for unsafe or broken payloads
        raise ModelFileError(
            f"{path}: the weights cannot be read safely ({type(exc).__name__})."
        ) from None
    return meta, tensors
