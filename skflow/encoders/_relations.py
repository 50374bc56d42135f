"""Exact relations between the columns of a table: found, checked, enforced.

A classifier tells synthetic rows from real ones at once when a relation that
holds on every real row breaks: a total that is not the sum of its parts, an end
before its start, a store id with another store's name. :class:`TabularEncoder`
finds the common kinds on ``fit`` (or takes declared ones), leaves the derived
columns out of the encoded matrix, and rebuilds them exactly when decoding.

Relations are written as short strings, which is also how ``relations_``
reports them (spaces around the operators are part of the syntax):

* ``"c = a + b"``, ``"c = a - b"``, ``"c = a * b"``, ``"c = a / b"``: ``c`` is
  computed from ``a`` and ``b`` (at ``c``'s recorded precision);
* ``"a <= b"``: decoded rows that break it get the two values swapped;
* ``"a -> b"``: every level of ``a`` goes with one level of ``b``; ``b`` is
  looked up from ``a``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

_ARITHMETIC = re.compile(r"^(?P<c>.+?) = (?P<a>.+?) (?P<op>[-+*/]) (?P<b>.+)$")
_ORDER = re.compile(r"^(?P<a>.+?) <= (?P<b>.+)$")
_LOOKUP = re.compile(r"^(?P<a>.+?) -> (?P<b>.+)$")
# Rows checked before a candidate relation is tested on every row.
_SCREEN_ROWS = 200
_OPERATORS = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
}


class Relation(NamedTuple):
    """One parsed relation: ``kind`` is ``"arithmetic"``, ``"order"`` or
    ``"lookup"``; ``target`` is the derived column (None for an order)."""

    kind: str
    target: object
    left: object
    right: object
    operator: str = ""

    def __str__(self) -> str:
        if self.kind == "arithmetic":
            return f"{self.target} = {self.left} {self.operator} {self.right}"
        if self.kind == "order":
            return f"{self.left} <= {self.right}"
        return f"{self.left} -> {self.right}"


def parse(text: str, columns: list) -> Relation:
    """A relation from its string; its columns must be in ``columns``."""
    names = {str(name): name for name in columns}
    patterns = {"arithmetic": _ARITHMETIC, "order": _ORDER, "lookup": _LOOKUP}
    matches = [(kind, pattern.match(text)) for kind, pattern in patterns.items()]
    kind, match = next(((k, m) for k, m in matches if m), (None, None))
    if match is None:
        raise ValueError(
            f"Cannot read the relation {text!r}; write 'c = a + b' (or -, *, /), "
            "'a <= b' or 'a -> b', with spaces around the operator."
        )
    parts = match.groupdict()
    mentioned = [parts[key] for key in ("c", "a", "b") if key in parts]
    unknown = [name for name in mentioned if name not in names]
    if unknown:
        raise ValueError(
            f"The relation {text!r} names columns {unknown} that X does not have."
        )
    if kind == "arithmetic":
        return Relation(
            kind, names[parts["c"]], names[parts["a"]], names[parts["b"]], parts["op"]
        )
    if kind == "order":
        return Relation(kind, None, names[parts["a"]], names[parts["b"]])
    return Relation(kind, names[parts["b"]], names[parts["a"]], names[parts["b"]])


def holds(relation: Relation, numbers: dict, labels: dict, steps: dict) -> bool:
    """Whether ``relation`` holds on every row.

    ``numbers``: column -> float64 values (seconds for times), complete;
    ``labels``: column -> object values with missing as None; ``steps``:
    column -> its recorded grid ``(step, decimals)`` or None.
    """
    if relation.kind == "lookup":
        import pandas as pd

        pairs = pd.DataFrame(
            {"a": labels[relation.left], "b": labels[relation.right]}
        ).astype(str)
        return bool(pairs.groupby("a")["b"].nunique().max() == 1)
    a, b = numbers[relation.left], numbers[relation.right]
    if relation.kind == "order":
        return bool(np.all(a <= b))
    c = numbers[relation.target]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value = _OPERATORS[relation.operator](a, b)
    step = steps.get(relation.target)
    tolerance = 1e-9 * (np.abs(c) + np.abs(value)) + _absolute_tolerance(c)
    if step is not None:
        tolerance = tolerance + step[0] / 2
    return bool(np.all(np.isfinite(value)) and np.all(np.abs(c - value) <= tolerance))


def detect(numbers: dict, labels: dict, steps: dict, n_rows: int) -> list[Relation]:
    """The relations that hold on every row, derived columns taken greedily.

    Arithmetic relations among complete numeric columns (each column derived
    from two columns that are not derived themselves), lookups between
    categorical columns whose determining column repeats its levels (a row key
    determines everything and is not a lookup), and orders between numeric
    columns whose ranges overlap (otherwise the order cannot break).
    """
    found, derived, used = [], set(), set()
    names = list(numbers)
    screen = slice(0, min(n_rows, _SCREEN_ROWS))
    small = {name: values[screen] for name, values in numbers.items()}
    for target in names:
        # A column that derives another stays encoded: decoding computes each
        # derived column from decoded ones, never from another derived one.
        if target in used or np.unique(small[target]).size < 3:
            continue
        sources = [name for name in names if name != target and name not in derived]
        relation = _first_arithmetic(target, sources, small, numbers, steps)
        if relation is not None:
            found.append(relation)
            derived.add(target)
            used.update((relation.left, relation.right))
    free = [name for name in names if name not in derived]
    if len(free) > MAX_PAIR_COLUMNS:
        free = []  # orders: a loop over pairs, columns^2 of them
    for i, left in enumerate(free):
        for right in free[i + 1 :]:
            for low, high in ((left, right), (right, left)):
                a, b = numbers[low], numbers[high]
                overlap = a.max() > b.min()
                if overlap and np.all(a <= b) and np.any(a < b):
                    found.append(Relation("order", None, low, high))
    categorical = list(labels) if len(labels) <= MAX_PAIR_COLUMNS else []
    for left in categorical:
        if len(set(labels[left])) > n_rows / 2:
            continue
        for right in categorical:
            if right == left or right in derived or left in derived:
                continue
            relation = Relation("lookup", right, left, right)
            if len(set(labels[right])) > 1 and holds(relation, numbers, labels, steps):
                found.append(relation)
                derived.add(right)
    return found


# Arithmetic relations are searched among at most this many numeric columns
# (the screen costs rows x columns^3), orders and lookups among at most
# MAX_PAIR_COLUMNS numeric or categorical columns (a test per pair).
MAX_ARITHMETIC_COLUMNS = 50
MAX_PAIR_COLUMNS = 200


def _first_arithmetic(target, sources, small, numbers, steps):
    """The first ``target = a op b`` over ``sources`` that holds on every row.

    All pairs are screened at once on the first rows (one broadcast per
    operator); only the survivors are tested on every row.
    """
    if not sources or len(sources) > MAX_ARITHMETIC_COLUMNS:
        return None
    c = small[target][:, None, None]
    stacked = np.stack([small[name] for name in sources], axis=1)
    a, b = stacked[:, :, None], stacked[:, None, :]
    step = steps.get(target)
    slack = 0.0 if step is None else step[0] / 2
    absolute = _absolute_tolerance(numbers[target])
    for operator, function in _OPERATORS.items():
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            value = function(a, b)
            close = np.abs(c - value) <= 1e-9 * (np.abs(c) + np.abs(value)) + absolute
            close |= np.abs(c - value) <= slack
        candidates = np.argwhere(close.all(axis=0))
        for i, j in candidates:
            if i == j and operator in "-/":
                continue
            relation = Relation("arithmetic", target, sources[i], sources[j], operator)
            if holds(relation, numbers, {}, steps):
                return relation
    return None


def _absolute_tolerance(target: np.ndarray) -> float:
    """The absolute slack of an arithmetic check, in the target's own units.

    ``1e-12`` of its largest magnitude (``1e-12`` for an all-zero column): a
    fixed ``1e-12`` would call any two columns near 1e-300 equal to anything
    else that small, their product included.
    """
    largest = float(np.max(np.abs(target))) if target.size else 0.0
    return 1e-12 * largest if largest > 0 else 1e-12


def apply(relation: Relation, raw: dict) -> np.ndarray:
    """The derived column of an arithmetic relation, from decoded columns."""
    return _OPERATORS[relation.operator](raw[relation.left], raw[relation.right])


def build_lookup(relation: Relation, labels: dict) -> dict:
    """The level of ``relation.right`` for each level of ``relation.left``."""
    import pandas as pd

    pairs = pd.DataFrame({"a": labels[relation.left], "b": labels[relation.right]})
    first = pairs.drop_duplicates("a")
    return dict(zip(first["a"], first["b"]))
