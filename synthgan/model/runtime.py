"""Where and how the model runs: device, number format, the optimiser, and seeds."""

from __future__ import annotations

import numpy as np
import torch

from synthgan.exceptions import InvalidDataError


def resolve_device(device: str | torch.device) -> torch.device:
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise InvalidDataError(
            f"device={device!r} is not a device. Use 'auto', 'cpu', 'cuda' or 'mps'."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InvalidDataError("device='cuda' but no CUDA GPU is available. Use device='auto'.")
    return resolved


PRECISIONS = ("auto", "float32", "bfloat16")


def native_bfloat16(device: torch.device) -> bool:
    """True on CPUs whose oneDNN runs bfloat16 matrix products natively (AVX512-BF16, AMX)."""
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def check_precision(name: str, precision: str) -> None:
    if precision not in PRECISIONS:
        raise InvalidDataError(f"{name}={precision!r} is not one of {', '.join(PRECISIONS)}.")


def precision_dtype(precision: str, device: torch.device) -> torch.dtype:
    """float32, or bfloat16 where asked for or where ``"auto"`` finds native bfloat16 on CPU
    (GPUs stay in float32 under ``"auto"``)."""
    if precision == "bfloat16" or (precision == "auto" and native_bfloat16(device)):
        return torch.bfloat16
    return torch.float32


def make_adam(params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """Adam with betas (0.5, 0.9), fused where this torch build has it (2-3x faster steps on
    CPU than the default per-parameter loop), else the multi-tensor ``foreach`` version."""
    params = list(params)
    for options in ({"fused": True}, {"foreach": True}, {}):
        try:
            return torch.optim.Adam(
                params, lr=lr, betas=(0.5, 0.9), weight_decay=weight_decay, **options
            )
        except (RuntimeError, TypeError, ValueError):
            continue
    raise AssertionError("unreachable")  # the plain Adam always constructs


def seed_from(random_state: int | None) -> int:
    """The seed of a fit or a sampling call: ``random_state``, or fresh entropy."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    return int(random_state)


def block_seed(seed: int, block: int) -> int:
    """An independent seed for block ``block`` of a stream seeded by ``seed``."""
    # shift a Python int: numpy 1.x refuses uint64 >> int64
    return (
        int(np.random.SeedSequence(seed, spawn_key=(block,)).generate_state(1, np.uint64)[0]) >> 1
    )
