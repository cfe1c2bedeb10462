"""The arithmetic of a formula rule: ``+ - * /``, parentheses, numbers and column names.

A small recursive-descent parser, never ``eval``: an expression can name columns and combine
them, nothing else. Column names that are not Python-style identifiers go between backticks::

    price * quantity
    (`capital-gain` - `capital-loss`) / 2
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|`(?P<quoted>[^`]+)`"
    r"|(?P<op>[-+*/()])"
    r")"
)


@dataclass(frozen=True)
class Node:
    """One node of a parsed expression: ``op`` is "num", "col", "neg" or one of ``+ - * /``."""

    op: str
    value: float | str | None = None
    left: Node | None = None
    right: Node | None = None


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidDataError(
                f"Formula expression {text!r}: cannot read {text[position:].strip()[:20]!r}. Use "
                "+ - * / ( ), numbers and column names (`quoted` if they hold other characters)."
            )
        kind = match.lastgroup
        value = match.group(kind)
        tokens.append(("name" if kind == "quoted" else kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0

    def fail(self, what: str) -> InvalidDataError:
        return InvalidDataError(
            f"Formula expression {self.text!r}: {what}. Write it like 'a + b' or "
            "'price * (1 + rate)'."
        )

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.fail("it ends too early")
        self.position += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise self.fail("it is empty")
        node = self.sum()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r}")
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            node = Node(op, left=node, right=self.product())
        return node

    def product(self) -> Node:
        node = self.factor()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            node = Node(op, left=node, right=self.factor())
        return node

    def factor(self) -> Node:
        kind, value = self.take()
        if kind == "number":
            return Node("num", float(value))
        if kind == "name":
            return Node("col", value)
        if (kind, value) == ("op", "-"):
            return Node("neg", left=self.factor())
        if (kind, value) == ("op", "+"):
            return self.factor()
        if (kind, value) == ("op", "("):
            node = self.sum()
            if self.take() != ("op", ")"):
                raise self.fail("a '(' is not closed")
            return node
        raise self.fail(f"unexpected {value!r}")


def parse(text: str) -> Node:
    """Parse ``text``; raise InvalidDataError naming what cannot be read."""
    if not isinstance(text, str):
        raise InvalidDataError(f"A formula expression is a string such as 'a + b', got {text!r}.")
    return _Parser(text).parse()


def columns(node: Node) -> list[str]:
    """The column names ``node`` reads, in order of first appearance."""
    if node.op == "col":
        return [str(node.value)]
    names: list[str] = []
    for child in (node.left, node.right):
        if child is not None:
            names += [n for n in columns(child) if n not in names]
    return names


def evaluate(node: Node, frame: pd.DataFrame) -> np.ndarray:
    """float64 values of ``node`` on every row of ``frame``: NaN where a column is null, and
    where a division by zero leaves no finite value."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        values = _evaluate(node, frame, len(frame))
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def _evaluate(node: Node, frame: pd.DataFrame, n: int):
    if node.op == "num":
        return float(node.value)
    if node.op == "col":
        return frame[node.value].to_numpy(dtype=np.float64, na_value=np.nan)
    if node.op == "neg":
        return -_evaluate(node.left, frame, n)
    left, right = _evaluate(node.left, frame, n), _evaluate(node.right, frame, n)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    return left / right
