"""What of a Synthesizer goes into its model file, and how it comes back.

The file format itself (zip, JSON, tensors, checksum, versions) is ``modelfile``; this module
decides the contents: the parameters, the transformer state, the training facts and the state
dicts of the networks and optimisers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from synthgan.exceptions import ModelFileError
from synthgan.model import modelfile
from synthgan.model.calibration import BinCalibration
from synthgan.model.runtime import resolve_device
from synthgan.model.sampler import ConditionSampler
from synthgan.model.selection import MarginalFactors, Refinement, RowCritic, critic_inputs
from synthgan.rules.definitions import rules_from_list
from synthgan.rules.plan import RulePlan
from synthgan.schema import Schema
from synthgan.transform import TableTransformer

if TYPE_CHECKING:
    from synthgan.model.synthesizer import Synthesizer


def _meta(model: Synthesizer) -> dict:
    params = model.get_params()
    params["schema"] = None if model.schema is None else model.schema.to_dict()
    params["generator_dims"] = list(model.generator_dims)
    params["discriminator_dims"] = list(model.discriminator_dims)
    plan = getattr(model, "rules_", None)
    params["rules"] = None if plan is None else plan.get_state()["rules"]
    history = model.loss_history_.to_dict(orient="list") if len(model.loss_history_) else {}
    return {
        "estimator": "Synthesizer",
        "params": params,
        "transformer": model.transformer_.get_state(),
        "category_counts": model._category_counts,
        "training": {
            "seed": model.seed_,
            "epochs_trained": model.epochs_trained_,
            "ema_updates": model.ema_updates_,
            "rows": model.rows_trained_,
            "interrupted": model.interrupted_,
            "fit_seconds": model.fit_seconds_,
            "device": str(model.device_),
        },
        "loss_history": history,
        "privacy": getattr(model, "privacy_", None),
        "selection": getattr(model, "selection_", None),
        "calibration": None
        if getattr(model, "calibration_", None) is None
        else model.calibration_.get_state(),
        "rules": None if plan is None else plan.get_state(),
    }


def save_synthesizer(model: Synthesizer, path: str | os.PathLike) -> Path:
    tensors = {
        "generator": model.generator_.state_dict(),
        "critic": model.critic_.state_dict(),
        "generator_optimizer": model._gen_optimizer.state_dict(),
        "critic_optimizer": model._critic_optimizer.state_dict(),
    }
    if model.ema_generator_ is not None:
        tensors["ema_generator"] = model.ema_generator_.state_dict()
    if model.target_classifier_ is not None:
        tensors["target_classifier"] = model.target_classifier_.state_dict()
        tensors["classifier_optimizer"] = model._classifier_optimizer.state_dict()
    if getattr(model, "row_critic_", None) is not None:
        tensors["row_critic"] = model.row_critic_.state_dict()
    refinements = getattr(model, "row_refinements_", ())
    if refinements:
        tensors["row_refinements"] = [refinement.critic.state_dict() for refinement in refinements]
    factors = getattr(model, "marginal_factors_", None)
    if factors is not None and factors.one_way is not None:
        tensors["marginal_factors"] = factors.one_way
    if factors is not None and factors.pairs:
        tensors["pair_factors"] = [table for _, _, table in factors.pairs]
    return modelfile.write_model(path, _meta(model), tensors)


def _row_refinements(model, tensors: dict, device) -> tuple[Refinement, ...]:
    """The selection's refinement critics (format 8 on), their ceilings in the selection facts."""
    states = tensors.get("row_refinements", [])
    facts = (model.selection_ or {}).get("refinements", [])
    if len(states) != len(facts):
        raise ValueError(f"{len(states)} refinement critics for {len(facts)} described")
    return tuple(
        Refinement(_row_critic(model, state, device), float(fact["ceiling"]))
        for state, fact in zip(states, facts)
    )


def _row_critic(model, state: dict, device) -> RowCritic:
    """A row critic of the model's selection (the first or a refinement) from its state dict."""
    width = critic_inputs(model.transformer_, model.selection_).width
    critic = RowCritic(model.transformer_.layout_.dim + width).to(device)
    critic.load_state_dict(state)
    return critic.eval().requires_grad_(False)


def _marginal_factors(model, tensors: dict, device) -> MarginalFactors | None:
    """The selection's factors: one-way (format 5 on) and pairs (format 6 on; their span
    indices in the selection facts)."""
    one_way = tensors.get("marginal_factors")
    tables = tensors.get("pair_factors", [])
    pairs = (model.selection_ or {}).get("pairs", [])
    if len(pairs) != len(tables):
        raise ValueError(f"{len(tables)} pair factor tables for {len(pairs)} pairs")
    if one_way is None and not tables:
        return None
    spans = model.transformer_.layout_.softmax_spans
    factors = MarginalFactors(
        spans, one_way, [(int(a), int(b), table) for (a, b), table in zip(pairs, tables)]
    )
    for first, second, table in factors.pairs:
        if tuple(table.shape) != (spans[first].width, spans[second].width):
            raise ValueError(f"pair factor table {tuple(table.shape)} does not fit its spans")
    return factors.to(device)


def _loss_history(columns) -> pd.DataFrame:
    """The loss history as saved: a dict of equal-length lists, one per recorded figure."""
    if not isinstance(columns, dict) or not all(isinstance(v, list) for v in columns.values()):
        raise ValueError("loss_history is not a dict of lists")
    if len({len(v) for v in columns.values()}) > 1:
        raise ValueError("loss_history's columns differ in length")
    return pd.DataFrame(columns)


def load_synthesizer(
    cls: type[Synthesizer], path: str | os.PathLike, *, device: str = "auto"
) -> Synthesizer:
    target = resolve_device(device)
    meta, tensors = modelfile.read_model(path, map_location=target)
    try:
        params = dict(meta["params"])
        if params.get("schema") is not None:
            params["schema"] = Schema.from_dict(params["schema"])
        params["generator_dims"] = tuple(params["generator_dims"])
        params["discriminator_dims"] = tuple(params["discriminator_dims"])
        params["device"] = device
        if params.get("rules") is not None:
            params["rules"] = rules_from_list(params["rules"])
        model = cls(**params)
        model.rules_ = None if meta.get("rules") is None else RulePlan.from_state(meta["rules"])
        model.device_ = target
        model.transformer_ = TableTransformer.from_state(meta["transformer"])
        model._category_counts = meta["category_counts"]
        training = meta["training"]
        model.seed_ = int(training["seed"])
        model.epochs_trained_ = int(training["epochs_trained"])
        model.ema_updates_ = int(training["ema_updates"])
        model.rows_trained_ = int(training["rows"])
        model.interrupted_ = bool(training["interrupted"])
        model.fit_seconds_ = float(training["fit_seconds"])
        model.loss_history_ = _loss_history(meta["loss_history"])
        model.privacy_ = meta.get("privacy")
        model._build_networks()
        # checked now, not at the first sample: one count per category of each condition span
        widths = [span.width for span in model.condition_spans_]
        if [len(counts) for counts in model._category_counts] != widths:
            raise ValueError(f"category_counts do not match the condition spans {widths}")
        ConditionSampler(model.condition_spans_, model._category_counts, target)
        model.generator_.load_state_dict(tensors["generator"])
        model.critic_.load_state_dict(tensors["critic"])
        model._gen_optimizer.load_state_dict(tensors["generator_optimizer"])
        model._critic_optimizer.load_state_dict(tensors["critic_optimizer"])
        if model.ema_generator_ is not None:
            model.ema_generator_.load_state_dict(tensors["ema_generator"])
        if model.target_classifier_ is not None:
            model.target_classifier_.load_state_dict(tensors["target_classifier"])
            model._classifier_optimizer.load_state_dict(tensors["classifier_optimizer"])
        calibration = meta.get("calibration")
        model.calibration_ = None if calibration is None else BinCalibration.from_state(calibration)
        model.selection_, model.row_critic_ = meta.get("selection"), None
        if "row_critic" in tensors:  # a private fit's selection has factors only
            model.row_critic_ = _row_critic(model, tensors["row_critic"], target)
        model.row_refinements_ = _row_refinements(model, tensors, target)
        model.marginal_factors_ = _marginal_factors(model, tensors, target)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
        raise ModelFileError(
            f"{path}: the model file is inconsistent ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})."
        ) from None
    return model
