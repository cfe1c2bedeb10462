from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan import ColumnKind, InvalidDataError, Schema, infer_schema
from synthgan.schema import ID_MIN_ROWS
from tests.conftest import make_mixed_frame


class TestInferSchema:
    def test_kinds_of_a_mixed_frame(self):
        schema = infer_schema(make_mixed_frame(nulls=True))
        assert {c.name: c.kind.value for c in schema.columns} == {
            "price": "continuous",
            "count": "integer",
            "count_nullable": "integer",
            "city": "discrete",
            "city_string": "discrete",
            "grade": "discrete",
            "flag": "boolean",
            "flag_nullable": "boolean",
            "day": "datetime",
            "stamp_tz": "datetime",
            "user_id": "id",
            "code": "id",
            "constant": "continuous",
        }

    def test_adult(self, adult):
        schema = infer_schema(adult[0])
        assert schema.kind("age") is ColumnKind.INTEGER
        assert schema.kind("fnlwgt") is ColumnKind.INTEGER
        assert schema.kind("income") is ColumnKind.DISCRETE

    def test_floats_are_never_id_like(self):
        df = pd.DataFrame({"x": np.linspace(0, 1, 200) + 0.001})
        assert infer_schema(df).kind("x") is ColumnKind.CONTINUOUS

    def test_whole_floats_with_nulls_are_integer(self):
        df = pd.DataFrame({"x": [1.0, 2.0, None, 2.0] * 30})
        assert infer_schema(df).kind("x") is ColumnKind.INTEGER

    def test_distinct_values_are_id_like_only_on_tables_above_the_threshold(self):
        small = pd.DataFrame({"k": [f"u{i}" for i in range(ID_MIN_ROWS)]})
        big = pd.DataFrame({"k": [f"u{i}" for i in range(ID_MIN_ROWS + 1)]})
        assert infer_schema(small).kind("k") is ColumnKind.DISCRETE
        assert infer_schema(big).kind("k") is ColumnKind.ID

    def test_distinct_integers_whose_dtype_cannot_number_new_ids_are_integers(self):
        # 58 rows: 52 values spread over UInt8's 0..255 leave 4 new ids in the runs new ids
        # come from (above, below, the widest gap between)
        spread = pd.array([*range(0, 256, 5), None, None, None, None, None, None], dtype="UInt8")
        assert len(spread) > ID_MIN_ROWS
        assert infer_schema(pd.DataFrame({"k": spread})).kind("k") is ColumnKind.INTEGER
        packed = pd.array([*range(0, 52), None, None, None, None, None, None], dtype="UInt8")
        assert infer_schema(pd.DataFrame({"k": packed})).kind("k") is ColumnKind.ID

    def test_distinct_integers_spread_widely_are_features_unless_named_as_ids(self):
        # a 100-row sample of a measurement holds no value twice; that alone is no id
        spread = np.random.default_rng(0).choice(10**6, 100, replace=False)
        assert infer_schema(pd.DataFrame({"income": spread})).kind("income") is ColumnKind.INTEGER
        for name in ("customer_id", "CustomerID", "userId", "ID", "Unnamed: 0", "InvoiceNo"):
            assert infer_schema(pd.DataFrame({name: spread})).kind(name) is ColumnKind.ID, name
        for name in ("paid", "valid", "grid"):
            assert infer_schema(pd.DataFrame({name: spread})).kind(name) is ColumnKind.INTEGER

    def test_distinct_integers_packed_as_tightly_as_ids_are_ids_whatever_their_name(self):
        packed = np.random.default_rng(0).permutation(100) + 5_000
        assert infer_schema(pd.DataFrame({"row": packed})).kind("row") is ColumnKind.ID
        # every third value of the range: a feature spread so would have repeated one
        assert infer_schema(pd.DataFrame({"row": packed * 3})).kind("row") is ColumnKind.ID
        sparse = packed * 100  # 4,950 pairs over 9,901 values: no repeat is expected
        assert infer_schema(pd.DataFrame({"row": sparse})).kind("row") is ColumnKind.INTEGER

    def test_overrides_and_ignore(self):
        df = make_mixed_frame(nulls=False)
        schema = infer_schema(df, kinds={"count": "discrete"}, ignore=["code"])
        assert schema.kind("count") is ColumnKind.DISCRETE
        assert schema.kind("code") is ColumnKind.IGNORED
        assert "code" not in [c.name for c in schema.output]

    def test_unknown_override_column_suggests_closest(self):
        with pytest.raises(InvalidDataError, match="Did you mean 'count'"):
            infer_schema(make_mixed_frame(nulls=False), kinds={"cuont": "discrete"})

    def test_unknown_kind_suggests_closest(self):
        with pytest.raises(InvalidDataError, match="Did you mean 'discrete'"):
            infer_schema(make_mixed_frame(nulls=False), kinds={"count": "discret"})


class TestSchemaJson:
    def test_round_trip(self, tmp_path):
        schema = infer_schema(make_mixed_frame(nulls=True), ignore=["code"])
        path = tmp_path / "schema.json"
        schema.to_json(path)
        assert Schema.from_json(path) == schema
        assert Schema.from_json(schema.to_json()) == schema

    def test_bad_json_names_the_file(self, tmp_path):
        path = tmp_path / "s.json"
        path.write_text("{not json")
        with pytest.raises(InvalidDataError, match="s.json: not valid JSON"):
            Schema.from_json(path)

    def test_entry_without_kind(self):
        with pytest.raises(InvalidDataError, match="needs a 'name' and a 'kind'"):
            Schema.from_json('{"columns": [{"name": "a"}]}')


class TestBadInput:
    def test_not_a_dataframe(self):
        with pytest.raises(InvalidDataError, match="Expected a pandas DataFrame, got ndarray"):
            infer_schema(np.zeros((3, 2)))

    def test_empty_frame(self):
        with pytest.raises(InvalidDataError, match="The table is empty"):
            infer_schema(pd.DataFrame({"a": []}))

    def test_all_null_column(self):
        with pytest.raises(InvalidDataError, match="Column 'b' has only null values"):
            infer_schema(pd.DataFrame({"a": [1, 2], "b": [None, None]}))

    def test_inf_values(self):
        with pytest.raises(InvalidDataError, match="Column 'a' has 1 infinite value"):
            infer_schema(pd.DataFrame({"a": [1.0, np.inf, 2.5]}))

    def test_mixed_object_types(self):
        with pytest.raises(InvalidDataError, match="Column 'a' mixes value types \\(int, str\\)"):
            infer_schema(pd.DataFrame({"a": pd.Series([1, "x", 2], dtype=object)}))

    def test_duplicate_column_names(self):
        df = pd.DataFrame([[1, 2]], columns=["a", "a"])
        with pytest.raises(InvalidDataError, match="Duplicate column names: 'a'"):
            infer_schema(df)
