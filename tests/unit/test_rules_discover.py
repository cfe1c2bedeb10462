"""Rules found in the data (synthgan.rules.discover), rules="auto" and inspect --rules-out."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthgan import Synthesizer
from synthgan.cli import main
from synthgan.rules import FixedCombinations, Formula, Inequality, NullTogether
from synthgan.rules.discover import discover_rules


def make_orders(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    level = rng.choice(["basic", "plus", "pro"], n)
    net = rng.uniform(10, 100, n).round(2)
    tax = (net * 0.2).round(2) + rng.uniform(0, 1, n).round(2)
    frame = pd.DataFrame({
        "level": level,
        "level_code": pd.Series(level).map({"basic": 1, "plus": 2, "pro": 3}).astype("int64"),
        "start": start,
        "end": start + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
        "low": rng.uniform(0, 50, n),
        "net": net,
        "tax": tax,
        "total": net + tax,
        "coupon": rng.choice(["A", "B"], n),
        "coupon_value": rng.integers(1, 5, n).astype(float),
    })  # fmt: skip
    frame["high"] = frame["low"] + rng.uniform(0, 10, n)
    gone = rng.random(n) < 0.3
    frame.loc[gone, ["coupon", "coupon_value"]] = None
    return frame


@pytest.fixture(scope="module")
def orders():
    return make_orders()


class TestDiscover:
    def test_finds_each_kind(self, orders):
        rules = discover_rules(orders)
        assert FixedCombinations(["level", "level_code"]) in rules
        assert Formula("total", "net + tax") in rules
        assert NullTogether(["coupon", "coupon_value"]) in rules
        assert Inequality("start", "end") in rules
        assert Inequality("low", "high") in rules

    def test_a_broken_row_breaks_the_rule(self, orders):
        broken = orders.copy()
        broken.loc[0, "end"] = broken.loc[0, "start"] - pd.Timedelta(days=1)
        broken.loc[1, "coupon"] = None if pd.notna(broken.loc[1, "coupon"]) else "A"
        rules = discover_rules(broken)
        assert Inequality("start", "end") not in rules
        assert not any(isinstance(r, NullTogether) for r in rules)

    def test_pairs_held_by_their_ranges_alone_are_left_out(self):
        frame = pd.DataFrame({"small": np.arange(100) % 10, "big": 100 + np.arange(100)})
        assert discover_rules(frame) == []

    @pytest.mark.parametrize("tz", [None, "Asia/Tokyo"])
    def test_dates_beyond_the_year_9999(self, tz):
        # pandas 3.0 raised NotImplementedError zoning such stamps (to_datetime(utc=True))
        start = np.array(["2000-01-01", "9999-12-31", "15136-01-01"], dtype="datetime64[s]")
        frame = pd.DataFrame({"start": start, "end": start + np.timedelta64(1, "D")})
        if tz is not None:
            frame = frame.apply(lambda column: column.dt.tz_localize("UTC").dt.tz_convert(tz))
        assert discover_rules(frame) == [Inequality("start", "end")]

    def test_each_column_rewritten_once(self, orders):
        rules = discover_rules(orders)
        rewritten = [c for r in rules if not isinstance(r, Inequality) for c in r.columns
                     if not isinstance(r, Formula)] + [r.column for r in rules
                                                       if isinstance(r, Formula)]  # fmt: skip
        assert len(rewritten) == len(set(rewritten))


@pytest.mark.slow
def test_rules_auto_every_row_meets_them(orders):
    model = Synthesizer(rules="auto", epochs=2, batch_size=100, random_state=0, verbose=False,
                        device="cpu").fit(orders)  # fmt: skip
    rules = model.rules_.rules_
    assert Inequality("start", "end") in rules
    rows = model.sample(500, random_state=0)
    assert model.rules_.holds(rows).all()
    assert (rows["end"] >= rows["start"]).all()
    assert np.allclose(rows["total"], rows["net"] + rows["tax"])


def test_inspect_writes_the_rules(orders, tmp_path):
    from click.testing import CliRunner

    runner = CliRunner()
    table = tmp_path / "orders.parquet"
    orders.to_parquet(table)
    out = tmp_path / "rules.json"
    result = runner.invoke(main, ["inspect", str(table), "--rules-out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Rules that hold on every row" in result.output
    assert "Inequality(start <= end)" in result.output
    written = json.loads(out.read_text())["rules"]
    assert {"rule": "inequality", "columns": ["start", "end"]} in [
        {k: v for k, v in r.items() if k != "strict"} for r in written
    ]
