"""RulePlan: rules enforced around the model, as a reversible rewrite of the table.

The model (transformer and GAN) learns a *model table*; the plan maps the user's table to it
before fitting and back after sampling, so neither needs to know about rules:

=====================  ==========================================  ===========================
rule                   model table                                 after sampling
=====================  ==========================================  ===========================
Inequality ``a <= b``  ``b`` replaced by its gap ``b - a`` (>= 0;   ``b = a + gap``
                       dates: in the column's unit; strict: the
                       gap less one step)
FixedCombinations      the columns replaced by one joint category  split back
NullTogether           one indicator; the columns without nulls    nulls where the indicator
Formula ``t = a + b``  ``t`` dropped                               computed, rounded
Range, CategoryRange   unchanged                                   clipped into the bounds
=====================  ==========================================  ===========================

A rewrite is exact where it exists (the round trip of a table that meets the rules gives the
table back). An inequality whose higher column another rule already produces, or whose lower
column is a formula's, falls back to the repair (raise the higher value to the lower one).
Every repair is counted, and :meth:`RulePlan.holds` checks each decoded row, after rounding and
dtype restoration, against every rule.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError, shown_name
from synthgan.rules.definitions import (
    CategoryRange,
    FixedCombinations,
    Formula,
    Inequality,
    NullTogether,
    Range,
    Rule,
    _objects,
    rules_from_list,
)
from synthgan.schema import ColumnKind, ColumnSpec, Schema, resolve_schema, unknown_column_message

ON_VIOLATION = ("drop", "keep", "error")
STATE_VERSION = 1

# Date units tried from coarsest to finest for an inequality's gap between two date columns.
_DATE_UNITS = ("D", "h", "min", "s", "ms", "us", "ns")


class RulePlan:
    """The rules of one fitted model and the facts they learnt from its training table.

    Parameters
    ----------
    rules : list of Rule (or their JSON forms)
    on_violation : {"drop", "keep", "error"}, default="drop"
        What to do with training rows that break a rule: leave them out of training (a warning
        gives the count), train on them anyway (sampled rows still meet every rule), or raise.
    """

    def __init__(self, rules, *, on_violation: str = "drop") -> None:
        self.rules = rules
        self.on_violation = on_violation

    # -- fit -------------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, schema: Schema | None = None) -> RulePlan:
        """Check the rules against the table and learn what they need (combinations, bounds,
        date units); ``schema`` is the user's (partial) schema."""
        self.rules_ = rules_from_list(self.rules)
        if self.on_violation not in ON_VIOLATION:
            raise InvalidDataError(
                f"on_violation={self.on_violation!r} is not one of {', '.join(ON_VIOLATION)}."
            )
        self.schema_ = resolve_schema(data, schema)
        for rule in self.rules_:
            rule.check_schema(self.schema_)
        self.columns_ = [c.name for c in self.schema_.columns]
        self.dtypes_ = {name: _dtype_info(data[name]) for name in self.columns_}
        self.facts_ = [rule.learn(data) for rule in self.rules_]
        self._plan(data)
        return self

    def _plan(self, data: pd.DataFrame) -> None:
        """Which rule rewrites which column, the model table's column names and kinds."""
        kinds = {c.name: c.kind for c in self.schema_.columns}
        taken = set(self.columns_)
        owner: dict[str, str] = {}  # column -> the rule that rewrites it

        def claim(column: str, rule: Rule) -> None:
            if column in owner:
                raise rule.error(
                    f"column {column!r} is also rewritten by {owner[column]}. A column can be "
                    "combined, computed or null-grouped by one rule only; drop one of them."
                )
            owner[column] = str(rule)

        self.formulas_, self.joints_, self.nulls_, self.links_ = [], [], [], []
        for i, rule in enumerate(self.rules_):
            if isinstance(rule, Formula):
                claim(rule.column, rule)
                decimals = rule.rounding(kinds[rule.column])
                self.facts_[i] = {**self.facts_[i], "decimals": decimals}
                inputs_present = _present(data, rule.inputs)
                target_null = data[rule.column].isna().to_numpy()
                flag = raw = None
                if (target_null & inputs_present).any():
                    flag = _fresh(f"{rule.column} is null", taken)
                if (~target_null & ~inputs_present).any():  # not applicable: kept as it is
                    raw = _fresh(f"{rule.column} where an input is null", taken)
                self.formulas_.append({"rule": i, "column": rule.column, "flag": flag,
                                       "raw": raw})  # fmt: skip
            elif isinstance(rule, FixedCombinations):
                for name in rule.names:
                    claim(name, rule)
                joint = _fresh(" & ".join(rule.names), taken)
                self.joints_.append({"rule": i, "columns": list(rule.names), "name": joint})
        for i, rule in enumerate(self.rules_):
            if isinstance(rule, NullTogether):
                for name in rule.names:
                    claim(name, rule)
                flag = _fresh(f"{', '.join(rule.names)} are null", taken)
                self.nulls_.append({"rule": i, "columns": list(rule.names), "flag": flag})
        self.formulas_ = _formula_order(self.formulas_, self.rules_)
        computed = {f["column"] for f in self.formulas_}
        combined = {c for j in self.joints_ for c in j["columns"]}
        creator: dict[str, dict] = {}
        for i, rule in enumerate(self.rules_):
            if not isinstance(rule, Inequality):
                continue
            for low, high in rule.links:
                link = {"rule": i, "low": low, "high": high, "strict": rule.strict,
                        "constructive": False}  # fmt: skip
                link.update(_gap_facts(data, low, high, kinds, rule.strict))
                ancestor, cycle = low, False
                while ancestor in creator:
                    cycle |= ancestor == high
                    ancestor = creator[ancestor]["low"]
                if not (cycle or high in creator or high in computed or high in combined
                        or low in computed):  # fmt: skip
                    link["constructive"] = True
                    link["gap"] = _fresh(f"{high} - {low}", taken)
                    link["raw"] = _fresh(f"{high} where {low} is null", taken) if link[
                        "needs_raw"] else None  # fmt: skip
                    creator[high] = link
                self.links_.append(link)
        # decode order: a link after the one that produces its lower column
        depth = {}
        for link in self.links_:
            d, column = 0, link["low"]
            while column in creator:
                d, column = d + 1, creator[column]["low"]
            depth[id(link)] = d
        self.links_.sort(key=lambda link: depth[id(link)])
        self._carriers = {}
        for link in self.links_:
            if link["constructive"]:
                self._carriers[link["high"]] = link["gap"]
        self._model_schema(kinds)

    def _rewrites(self) -> tuple[dict, dict, set, set]:
        """How the plan rewrites columns: the constructive inequality links by their high
        column, the joint columns by their first column, every column in a joint, and the
        computed (formula) columns."""
        gaps = {link["high"]: link for link in self.links_ if link["constructive"]}
        joint_of = {j["columns"][0]: j for j in self.joints_}
        combined = {c for j in self.joints_ for c in j["columns"]}
        computed = {f["column"] for f in self.formulas_}
        return gaps, joint_of, combined, computed

    def _model_schema(self, kinds: dict) -> None:
        specs: list[ColumnSpec] = []
        gaps, joint_of, combined, computed = self._rewrites()
        for name in self.columns_:
            if name in computed:
                continue
            if name in gaps:
                link = gaps[name]
                integer = link["unit"] is not None or link["integer"]
                specs.append(ColumnSpec(link["gap"], ColumnKind.INTEGER if integer
                                        else ColumnKind.CONTINUOUS))  # fmt: skip
                if link["raw"]:
                    specs.append(ColumnSpec(link["raw"], kinds[name]))
            elif name in joint_of:
                specs.append(ColumnSpec(joint_of[name]["name"], ColumnKind.DISCRETE))
            elif name not in combined:
                specs.append(ColumnSpec(name, kinds[name]))
        for flag in [n["flag"] for n in self.nulls_] + [f["flag"] for f in self.formulas_]:
            if flag is not None:
                specs.append(ColumnSpec(flag, ColumnKind.BOOLEAN))
        for formula in self.formulas_:
            if formula["raw"] is not None:
                specs.append(ColumnSpec(formula["raw"], kinds[formula["column"]]))
        self.model_schema_ = Schema(tuple(specs))

    @property
    def rewritten(self) -> set[str]:
        """User columns that the model table holds in another form (or not at all)."""
        out = {f["column"] for f in self.formulas_}
        out |= {c for j in self.joints_ for c in j["columns"]}
        out |= {c for n in self.nulls_ for c in n["columns"]}
        out |= {link["high"] for link in self.links_ if link["constructive"]}
        return out

    # -- training rows ---------------------------------------------------------------------------
    def holds(self, frame: pd.DataFrame) -> np.ndarray:
        """bool ndarray (n_rows,): True where a row meets every rule."""
        ok = np.ones(len(frame), dtype=bool)
        for rule, facts in zip(self.rules_, self.facts_):
            ok &= rule.holds(frame, facts)
        return ok

    def screen(self, data: pd.DataFrame, *, verbose: bool) -> pd.DataFrame:
        """The training rows after ``on_violation``: all of them, those that meet every rule, or
        InvalidDataError naming the first rule broken and how often."""
        broken = {}
        keep = np.ones(len(data), dtype=bool)
        for rule, facts in zip(self.rules_, self.facts_):
            meets = rule.holds(data, facts)
            if not meets.all():
                broken[str(rule)] = int((~meets).sum())
                keep &= meets
        self.violations_ = broken
        if not broken:
            return data
        first, count = next(iter(broken.items()))
        if self.on_violation == "error":
            row = data.index[~keep][0]
            raise InvalidDataError(
                f"Rule {first}: {count} of {len(data)} real rows break it (the first: row "
                f"{row!r}). Fix those rows, or pass on_violation='drop' to train without them or "
                "'keep' to train on them anyway."
            )
        summary = "; ".join(f"{rule}: {n}" for rule, n in broken.items())
        if self.on_violation == "keep":
            message = (f"Rules: training on {int((~keep).sum())} of {len(data)} real rows that "
                       f"break a rule ({summary}); sampled rows will meet every rule.")  # fmt: skip
            _report(message, verbose)
            return data
        if keep.sum() == 0:
            raise InvalidDataError(
                f"Every real row breaks a rule ({summary}). Check the rules against the data."
            )
        _report(
            f"Rules: left out {int((~keep).sum())} of {len(data)} real rows that break a rule "
            f"({summary}). on_violation='keep' trains on them, 'error' stops.",
            verbose,
        )
        return data[keep]

    # -- the model table and back ----------------------------------------------------------------
    def encode(self, data: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
        """The model table of ``data`` (columns and kinds of ``model_schema_``)."""
        missing = [c for c in self.columns_ if c not in data.columns]
        if missing:
            raise InvalidDataError(
                "The table lacks a column the rules were fitted with: "
                + unknown_column_message(missing[0], list(data.columns))
            )
        rng = np.random.default_rng(seed)
        columns: dict[str, pd.Series] = {}
        gaps, joint_of, combined, computed = self._rewrites()
        for name in self.columns_:
            if name in computed:
                continue
            if name in gaps:
                link = gaps[name]
                columns[link["gap"]] = _gap(data, link)
                if link["raw"]:
                    low_null = data[link["low"]].isna().to_numpy()
                    columns[link["raw"]] = data[name].where(low_null)
            elif name in joint_of:
                joint = joint_of[name]
                facts = self.facts_[joint["rule"]]
                columns[joint["name"]] = _joint_codes(data, joint["columns"], facts)
            elif name not in combined:
                columns[name] = data[name]
        for group in self.nulls_:
            nulls = np.stack([data[c].isna().to_numpy() for c in group["columns"]])
            columns[group["flag"]] = pd.Series(nulls.all(axis=0), index=data.index)
            for name in group["columns"]:  # modelled without nulls: drawn from its own values
                carrier = self._carriers.get(name, name)
                columns[carrier] = _fill_nulls(columns[carrier], rng)
        for formula in self.formulas_:
            rule = self.rules_[formula["rule"]]
            inputs_present = _present(data, rule.inputs)
            if formula["flag"] is not None:
                flag = data[rule.column].isna().to_numpy() & inputs_present
                columns[formula["flag"]] = pd.Series(flag, index=data.index)
            if formula["raw"] is not None:
                columns[formula["raw"]] = data[rule.column].where(~inputs_present)
        out = pd.DataFrame(columns, index=data.index)
        if joint_of and (out[[j["name"] for j in self.joints_]].isna().any().any()):
            raise InvalidDataError(
                "A row holds a combination its fixed-combinations rule did not see at fit. "
                "Refit on a table that includes it."
            )
        return out[self.model_schema_.names]

    def decode(self, model_rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
        """The user's table from model rows, and the rows each repair changed (by rule)."""
        frame = model_rows.copy() if len(model_rows.columns) else model_rows
        repaired: dict[str, int] = {}

        def count(rule: Rule, n: int) -> None:
            if n:
                repaired[str(rule)] = repaired.get(str(rule), 0) + int(n)

        for joint in self.joints_:
            facts = self.facts_[joint["rule"]]
            parts = _split_joint(frame.pop(joint["name"]), joint["columns"], facts)
            for name in joint["columns"]:
                frame[name] = _restore(parts[name], self.dtypes_[name])
        for link in self.links_:
            if link["constructive"]:
                high, negative = _rebuild(frame, link, self.dtypes_[link["high"]])
                frame[link["high"]] = high
                count(self.rules_[link["rule"]], negative)
        for group in self.nulls_:
            flag = frame.pop(group["flag"]).to_numpy(dtype=bool)
            if flag.any():
                for name in group["columns"]:
                    frame[name] = frame[name].mask(flag)
        for formula in self.formulas_:
            rule = self.rules_[formula["rule"]]
            values = rule.compute(frame, self.facts_[formula["rule"]]["decimals"])
            if formula["flag"] is not None:
                values[frame.pop(formula["flag"]).to_numpy(dtype=bool)] = np.nan
            if formula["raw"] is not None:
                raw = frame.pop(formula["raw"]).to_numpy(dtype=np.float64, na_value=np.nan)
                values = np.where(_present(frame, rule.inputs), values, raw)
            frame[rule.column] = _restore(values, self.dtypes_[rule.column])
        for link in self.links_:
            if not link["constructive"]:
                count(self.rules_[link["rule"]], _raise_high(frame, link, self.dtypes_))
        for rule, facts in zip(self.rules_, self.facts_):
            if isinstance(rule, Range):
                count(rule, _clip_range(frame, rule, self.dtypes_[rule.column]))
            elif isinstance(rule, CategoryRange):
                count(rule, _clip_category(frame, rule, facts, self.dtypes_[rule.numeric_column]))
        return frame[[c for c in self.columns_ if c in frame.columns]], repaired

    @property
    def built(self) -> set[str]:
        """User columns a rule builds from others: formulas' results, and the later column of an
        inequality the model holds as a gap (what :meth:`computed` computes)."""
        return {f["column"] for f in self.formulas_} | {
            link["high"] for link in self.links_ if link["constructive"]
        }

    def computed(self, frame: pd.DataFrame, column: str, drawn: pd.DataFrame) -> pd.Series | None:
        """``column`` as the rules build it from ``frame``'s other columns (in the column's
        dtype): a formula's result, or the higher column of an inequality held as a gap, that
        gap read off the model's ``drawn`` rows (row for row). None when no rule builds it."""
        for formula in self.formulas_:
            rule = self.rules_[formula["rule"]]
            if rule.column == column:
                values = rule.compute(frame, self.facts_[formula["rule"]]["decimals"])
                return _restore(values, self.dtypes_[column]).set_axis(frame.index)
        for link in self.links_:
            if link["constructive"] and link["high"] == column:
                parts = pd.DataFrame({link["low"]: frame[link["low"]],
                                      link["gap"]: _gap(drawn, link).to_numpy()})  # fmt: skip
                if link["raw"]:
                    parts[link["raw"]] = drawn[column].to_numpy()
                high, _ = _rebuild(parts, link, self.dtypes_[column])
                return high
        return None

    # -- conditions ------------------------------------------------------------------------------
    def split_conditions(self, conditions: dict | None) -> tuple[dict, list]:
        """User conditions -> (conditions on model columns, filters on decoded rows). A
        condition on a column the model holds as is, or a value of a fixed combination's column
        that only one combination has, goes to the model; the rest are checked on the decoded
        rows (``(description, predicate)`` pairs)."""
        from synthgan.model.conditions import _equals, value_predicate

        if not conditions:
            return {}, []
        if not isinstance(conditions, dict):
            raise InvalidDataError(
                "conditions must be a dict such as {'sex': 'Female'} or {'age': (30, 40)}."
            )
        rewritten = self.rewritten
        model, filters = {}, []
        for column, value in conditions.items():
            if column not in self.columns_:
                raise InvalidDataError(
                    "Cannot condition: " + unknown_column_message(column, self.columns_)
                )
            if column not in rewritten:
                model[column] = value
                continue
            joint = next((j for j in self.joints_ if column in j["columns"]), None)
            if joint is not None:
                combos = pd.DataFrame(self.facts_[joint["rule"]]["combinations"],
                                      columns=joint["columns"], dtype=object)  # fmt: skip
                wanted = list(value) if isinstance(value, (list, set, frozenset)) else [value]
                hits = np.zeros(len(combos), dtype=bool)
                for one in wanted:
                    hits |= _equals(combos[column], one).to_numpy()
                matches = np.flatnonzero(hits)
                if len(matches) == 0:
                    raise InvalidDataError(
                        f"Column {column!r} has no category {value!r} in the combinations seen."
                    )
                if joint["name"] not in model:  # the combinations that have it, by construction
                    model[joint["name"]] = [str(m) for m in matches] if len(matches) > 1 \
                        else str(matches[0])  # fmt: skip
                    continue
                described = f"{shown_name(column)}={value!r}"
                filters.append((described, lambda rows, c=column, w=wanted: pd.Series(
                    np.any([_equals(rows[c], one).to_numpy() for one in w], axis=0),
                    index=rows.index)))  # fmt: skip
                continue
            kind = self.schema_.kind(column)
            filters.append(value_predicate(column, value, numeric=not kind.is_categorical))
        return model, filters

    # -- plain-data state (model files) ----------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "version": STATE_VERSION,
            "rules": [rule.to_dict() for rule in self.rules_],
            "on_violation": self.on_violation,
            "schema": self.schema_.to_dict(),
            "dtypes": self.dtypes_,
            "facts": self.facts_,
            "formulas": self.formulas_,
            "joints": self.joints_,
            "nulls": self.nulls_,
            "links": self.links_,
            "model_schema": self.model_schema_.to_dict(),
        }

    @classmethod
    def from_state(cls, state: dict) -> RulePlan:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"rules state version {state.get('version')!r}")
        plan = cls(rules_from_list(state["rules"]), on_violation=state["on_violation"])
        plan.rules_ = plan.rules
        plan.schema_ = Schema.from_dict(state["schema"])
        plan.columns_ = plan.schema_.names
        plan.dtypes_ = state["dtypes"]
        plan.facts_ = state["facts"]
        plan.formulas_, plan.joints_ = state["formulas"], state["joints"]
        plan.nulls_, plan.links_ = state["nulls"], state["links"]
        plan.model_schema_ = Schema.from_dict(state["model_schema"])
        plan._carriers = {
            link["high"]: link["gap"] for link in plan.links_ if link["constructive"]
        }
        return plan


# -- helpers -----------------------------------------------------------------------------------


def _report(message: str, verbose: bool) -> None:
    if verbose:
        print(message, file=sys.stderr)
    else:
        warnings.warn(message, UserWarning, stacklevel=5)  # the caller of Synthesizer.fit


def _present(frame: pd.DataFrame, names) -> np.ndarray:
    present = np.ones(len(frame), dtype=bool)
    for name in names:
        present &= frame[name].notna().to_numpy()
    return present


def _fresh(name: str, taken: set[str]) -> str:
    """``name``, or ``name`` with a suffix, not yet in ``taken`` (which then holds it)."""
    candidate, i = name, 2
    while candidate in taken:
        candidate, i = f"{name} ({i})", i + 1
    taken.add(candidate)
    return candidate


def _dtype_info(series: pd.Series) -> dict:
    info = {"dtype": str(series.dtype), "categories": None}
    if isinstance(series.dtype, pd.CategoricalDtype):
        info["categories"] = _objects(series.cat.categories.to_frame())[0].tolist()
    return info


def _is_int_dtype(dtype: str) -> bool:
    try:
        return pd.api.types.is_integer_dtype(pd.api.types.pandas_dtype(dtype))
    except TypeError:
        return False


def _restore(values, info: dict) -> pd.Series:
    """Values (float64 ndarray, or a Series of objects or dates) in the column's dtype."""
    dtype = info["dtype"]
    if info["categories"] is not None:
        return pd.Series(pd.Categorical(values, categories=info["categories"]))
    if isinstance(values, pd.Series) and not pd.api.types.is_float_dtype(values.dtype):
        try:
            return values.astype(dtype)
        except (TypeError, ValueError):
            return values
    values = np.asarray(values, dtype=np.float64)
    null = np.isnan(values)
    if _is_int_dtype(dtype):
        values = np.round(values)
        if not null.any():
            return pd.Series(values).astype(dtype)
        if dtype[0].isupper():  # nullable
            array = pd.array(np.where(null, 0, values).astype(np.int64), dtype=dtype)
            array[null] = pd.NA
            return pd.Series(array)
        return pd.Series(values)
    try:
        return pd.Series(values).astype(dtype)
    except (TypeError, ValueError):
        return pd.Series(values)


def _formula_order(formulas: list[dict], rules: list[Rule]) -> list[dict]:
    """Formulas in an order where each reads only columns already computed."""
    pending, done, ordered = list(formulas), set(), []
    targets = {f["column"] for f in formulas}
    while pending:
        ready = [f for f in pending
                 if not (set(rules[f["rule"]].inputs) & (targets - done))]  # fmt: skip
        if not ready:
            raise rules[pending[0]["rule"]].error(
                "formulas compute each other in a circle. Compute one of them from other columns."
            )
        for formula in ready:
            ordered.append(formula)
            done.add(formula["column"])
            pending.remove(formula)
    return ordered


# -- inequalities --------------------------------------------------------------------------------


def _gap_facts(data: pd.DataFrame, low: str, high: str, kinds: dict, strict: bool) -> dict:
    """What a link's gap needs: the date unit (None for numbers), whether gaps are whole
    numbers, the strict step, and whether the higher column holds values where the lower one is
    null (then the model table keeps them as they are)."""
    present = _present(data, (low, high))
    needs_raw = bool((data[low].isna().to_numpy() & data[high].notna().to_numpy()).any())
    if kinds[low] is ColumnKind.DATETIME:
        delta = (data[high] - data[low])[present]
        unit = next((u for u in _DATE_UNITS
                     if bool((delta % pd.Timedelta(1, unit=u) == pd.Timedelta(0)).all())),
                    "ns")  # fmt: skip
        return {"unit": unit, "integer": True, "step": 1.0 if strict else 0.0,
                "needs_raw": needs_raw}  # fmt: skip
    integer = kinds[low] is ColumnKind.INTEGER and kinds[high] is ColumnKind.INTEGER
    return {"unit": None, "integer": integer, "step": 1.0 if strict and integer else 0.0,
            "needs_raw": needs_raw}  # fmt: skip


def _gap(data: pd.DataFrame, link: dict) -> pd.Series:
    """The gap ``high - low`` less the strict step, in units for dates; NaN where either is
    null. Negative only on a row that breaks the rule (kept with on_violation='keep')."""
    low, high = data[link["low"]], data[link["high"]]
    if link["unit"] is not None:
        gap = ((high - low) / pd.Timedelta(1, unit=link["unit"])).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    else:
        gap = high.to_numpy(dtype=np.float64, na_value=np.nan) - low.to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    gap = gap - link["step"]
    if link["integer"] and not np.isnan(gap).any():
        return pd.Series(np.round(gap).astype(np.int64), index=data.index)
    return pd.Series(gap, index=data.index)


def _rebuild(frame: pd.DataFrame, link: dict, info: dict) -> tuple[pd.Series, int]:
    """The higher column from the lower one and the gap (clipped at 0: a gap learnt from rows
    kept with on_violation='keep' may be negative); the count of gaps clipped."""
    gap = frame.pop(link["gap"]).to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        negative = gap < 0
    gap = np.where(negative, 0.0, gap) + link["step"]
    low = frame[link["low"]]
    low_null = low.isna().to_numpy()
    raw = frame.pop(link["raw"]) if link["raw"] else None
    if link["unit"] is not None:
        high = low + pd.to_timedelta(np.where(np.isnan(gap), 0, gap), unit=link["unit"])
        high = high.mask(np.isnan(gap))
        if raw is not None:
            high = high.where(~low_null, raw.astype(high.dtype, copy=False))
        high = _restore(high, info)
    else:
        values = low.to_numpy(dtype=np.float64, na_value=np.nan) + gap
        if raw is not None:
            values = np.where(low_null, raw.to_numpy(dtype=np.float64, na_value=np.nan), values)
        high = _restore(values, info)
    frame[link["high"]] = high.set_axis(frame.index)
    fixed = _raise_high(frame, link, {link["high"]: info})  # rounding or float addition
    return frame[link["high"]], int(negative.sum()) + fixed


def _raise_high(frame: pd.DataFrame, link: dict, dtypes: dict) -> int:
    """Raise the higher value to the lower one (to the next value up when strict) on the rows
    that break the link; the count of rows changed."""
    low, high = frame[link["low"]], frame[link["high"]]
    info = dtypes[link["high"]]
    if pd.api.types.is_datetime64_any_dtype(high.dtype):
        with np.errstate(invalid="ignore"):
            bad = np.array((high < low) if not link["strict"] else (high <= low), dtype=bool)
        bad &= _present(frame, (link["low"], link["high"]))
        if bad.any():
            step = pd.Timedelta(1, unit=link["unit"] or "ns") if link["strict"] else pd.Timedelta(0)
            frame[link["high"]] = _restore(high.where(~bad, low + step), info).set_axis(
                frame.index
            )
        return int(bad.sum())
    low_values = low.to_numpy(dtype=np.float64, na_value=np.nan)
    values = high.to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = (values <= low_values) if link["strict"] else (values < low_values)
    if not bad.any():
        return 0
    if _is_int_dtype(info["dtype"]) or link["integer"]:
        target = np.floor(low_values) + 1 if link["strict"] else np.ceil(low_values)
    elif info["dtype"] == "float32":  # the float32 at (or just above) the lower value
        up = low_values.astype(np.float32)
        up = np.where(up < low_values, np.nextafter(up, np.float32(np.inf)), up)
        if link["strict"]:
            up = np.where(up <= low_values, np.nextafter(up, np.float32(np.inf)), up)
        target = up.astype(np.float64)
    else:
        target = np.nextafter(low_values, np.inf) if link["strict"] else low_values
    values = np.where(bad, target, values)
    frame[link["high"]] = _restore(values, info).set_axis(frame.index)
    return int(bad.sum())


# -- fixed combinations --------------------------------------------------------------------------


def _joint_codes(data: pd.DataFrame, columns: list[str], facts: dict) -> pd.Series:
    """Each row's combination as its index in ``facts["combinations"]`` (a string category);
    None for a combination not seen at fit."""
    known = pd.DataFrame(facts["combinations"], columns=columns, dtype=object)
    rows = _objects(data[columns])
    both = pd.concat([known, rows], ignore_index=True)
    codes = np.stack([pd.factorize(both[c], use_na_sentinel=False)[0] for c in columns], axis=1)
    _, group = np.unique(codes, axis=0, return_inverse=True)
    group = group.reshape(-1)
    index_of = np.full(group.max() + 1, -1, dtype=np.int64)
    index_of[group[: len(known)][::-1]] = np.arange(len(known))[::-1]
    index = index_of[group[len(known) :]]
    labels = np.where(index >= 0, index.astype(str), None)
    return pd.Series(labels, index=data.index, dtype=object)


def _split_joint(joint: pd.Series, columns: list[str], facts: dict) -> dict[str, pd.Series]:
    known = pd.DataFrame(facts["combinations"], columns=columns, dtype=object)
    index = pd.to_numeric(joint, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    index = np.where(np.isnan(index), 0, index).astype(np.int64)
    return {name: known[name].iloc[index].reset_index(drop=True) for name in columns}


# -- null-together -------------------------------------------------------------------------------


def _fill_nulls(series: pd.Series, rng: np.random.Generator) -> pd.Series:
    """``series`` with each null replaced by a value drawn from its own non-null values."""
    null = series.isna().to_numpy()
    if not null.any():
        return series
    pool = series[~null]
    if len(pool) == 0:
        return series
    drawn = pool.iloc[rng.integers(0, len(pool), int(null.sum()))].to_numpy()
    out = series.copy()
    out.iloc[np.flatnonzero(null)] = drawn
    return out


# -- repairs -------------------------------------------------------------------------------------


def _clip_range(frame: pd.DataFrame, rule: Range, info: dict) -> int:
    """Clip ``rule.column`` into its bounds; the count of rows changed."""
    series = frame[rule.column]
    changed = np.zeros(len(frame), dtype=bool)
    is_int = _is_int_dtype(info["dtype"])
    for bound, below in ((rule.low, True), (rule.high, False)):
        if bound is None:
            continue
        limit = rule.bound_values(frame, bound)
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            bad = np.array(series < limit if below else series > limit, dtype=bool)
            if bad.any():
                replacement = limit if not isinstance(limit, pd.Series) else limit.to_numpy()
                series = _restore(series.where(~bad, replacement), info).set_axis(frame.index)
        else:
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            limit = np.broadcast_to(np.asarray(limit, dtype=np.float64), values.shape)
            if is_int:
                limit = np.ceil(limit) if below else np.floor(limit)
            with np.errstate(invalid="ignore"):
                bad = values < limit if below else values > limit
            if bad.any():
                series = _restore(np.where(bad, limit, values), info).set_axis(frame.index)
        changed |= bad
    frame[rule.column] = series
    return int(changed.sum())


def _clip_category(frame: pd.DataFrame, rule: CategoryRange, facts: dict, info: dict) -> int:
    low, high = rule.limits(frame, facts)
    values = frame[rule.numeric_column].to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = (values < low) | (values > high)
    if bad.any():
        clipped = np.where(bad, np.clip(values, low, high), values)
        frame[rule.numeric_column] = _restore(clipped, info).set_axis(frame.index)
    return int(bad.sum())
