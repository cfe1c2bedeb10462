"""Rules every synthetic row must meet: inequalities, ranges, fixed combinations, formulas,
per-category ranges and null-together groups (docs/rules.md).

>>> from synthgan import Synthesizer
>>> from synthgan.rules import FixedCombinations, Range
>>> rules = [FixedCombinations(["education", "education-num"]), Range("age", low=17, high=90)]
>>> model = Synthesizer(rules=rules).fit(train)
"""

from synthgan.rules.definitions import (
    CategoryRange,
    FixedCombinations,
    Formula,
    Inequality,
    NullTogether,
    Range,
    Rule,
    load_rules,
    rule_from_dict,
    rules_to_json,
)
from synthgan.rules.plan import ON_VIOLATION, RulePlan

__all__ = [
    "ON_VIOLATION",
    "CategoryRange",
    "FixedCombinations",
    "Formula",
    "Inequality",
    "NullTogether",
    "Range",
    "Rule",
    "RulePlan",
    "load_rules",
    "rule_from_dict",
    "rules_to_json",
]
