from __future__ import annotations

import numpy as np
import pandas as pd

from synthgan.schema import ColumnKind
from synthgan.transform.categorical import CategoricalColumnTransformer


def test_a_model_file_from_pandas_3_decodes_nulls_as_nulls():
    # pandas 3 writes a string column's dtype as "str"; pandas 2 would read that as numpy's
    # unicode type and decode the null category as the string "None"
    state = {"column": "workclass", "kind": ColumnKind.DISCRETE.value, "dtype": "str",
             "categories": ["Private", "State-gov"], "dtype_categories": None,
             "dtype_ordered": False, "has_nulls": True}  # fmt: skip
    column = CategoricalColumnTransformer.from_state(state)

    decoded = column.decode(np.array([0, 2, 1]), pd.RangeIndex(3))

    assert decoded.isna().tolist() == [False, True, False]
    assert decoded[0] == "Private" and decoded[2] == "State-gov"
    assert "None" not in set(decoded.dropna())
