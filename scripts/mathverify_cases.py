"""Regenerate tests/graders/mathverify_cases.jsonl from a checkout of huggingface/Math-Verify.

math-verify's own tests hold (gold, prediction, expected) cases written from real model outputs.
evalkit keeps them as data (never their code) and measures, live, how often evalkit's math grader and
math-verify's default configuration agree with the expected result (tests/graders/
test_mathverify_agreement.py). This script reads the test modules with `ast` (nothing of the checkout
is imported or run) and collects:
- every row of a `@pytest.mark.parametrize` whose parameters include a gold, a prediction and an
  expected result, on a test that compares them (`compare_strings(...)` or `verify(parse(..), parse(..))`);
- every `assert compare_strings(<literal>, <literal>, ...) == <literal>` in a test body.
Rows that are not literals (an f-string computed at import) are left out and reported.
The options the test passed (match types, precision, strict, set-relation comparison) are kept with
each case: the agreement numbers use math-verify's defaults, and the options explain a disagreement.

Run: python scripts/mathverify_cases.py CHECKOUT [--output tests/graders/mathverify_cases.jsonl]
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "graders" / "mathverify_cases.jsonl"
GOLD_NAMES = ("gold",)
PRED_NAMES = ("pred", "prediction")
EXPECTED_NAMES = ("expected", "result")
# compare_strings' keyword options and their defaults in math-verify's tests/test_all.py.
OPTIONS = ("match_types", "precision", "strict", "allow_set_relation_comp")


@dataclass
class Collected:
    cases: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _comparison_call(func: ast.FunctionDef) -> ast.Call | None:
    """The call in `func` that compares a gold with a prediction, if it has one."""
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "compare_strings":
                return node
            if node.func.id == "verify" and any(
                isinstance(a, ast.Call) and isinstance(a.func, ast.Name) and a.func.id == "parse" for a in node.args
            ):
                return node
    return None


def _options(call: ast.Call, row: dict[str, Any]) -> dict[str, Any]:
    """The comparison options `call` passes: literals, or a parameter of the row."""
    out: dict[str, Any] = {}
    if call.func.id != "compare_strings":  # type: ignore[attr-defined]
        return out  # verify(parse(gold), parse(pred)): math-verify's defaults
    for kw in call.keywords:
        if kw.arg in OPTIONS:
            if isinstance(kw.value, ast.Name) and kw.value.id in row:
                out[kw.arg] = row[kw.value.id]
            else:
                out[kw.arg] = ast.literal_eval(kw.value)
    return out


def _parametrize(func: ast.FunctionDef) -> Iterator[tuple[list[str], ast.expr]]:
    for deco in func.decorator_list:
        if (
            isinstance(deco, ast.Call)
            and isinstance(deco.func, ast.Attribute)
            and deco.func.attr == "parametrize"
            and len(deco.args) >= 2
        ):
            names = ast.literal_eval(deco.args[0])
            if isinstance(names, str):
                names = [n.strip() for n in names.split(",")]
            yield list(names), deco.args[1]


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((row[n] for n in names if n in row), None)


def collect(tests_dir: Path) -> Collected:
    out = Collected()
    for path in sorted(tests_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for func in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            call = _comparison_call(func)
            if call is None:
                continue
            where = f"tests/{path.name}::{func.name}"
            parametrized = False
            for names, rows in _parametrize(func):
                parametrized = True
                if not ({*GOLD_NAMES} & {*names} and {*PRED_NAMES} & {*names} and {*EXPECTED_NAMES} & {*names}):
                    continue
                assert isinstance(rows, ast.List | ast.Tuple), where
                for i, node in enumerate(rows.elts):
                    try:
                        values = ast.literal_eval(node)
                    except ValueError:
                        out.skipped.append(f"{where}[{i}]: not a literal ({ast.unparse(node)[:80]})")
                        continue
                    row = dict(zip(names, values, strict=True))
                    out.cases.append(
                        {
                            "source": f"{where}[{i}]",
                            "gold": _pick(row, GOLD_NAMES),
                            "prediction": _pick(row, PRED_NAMES),
                            "expected": bool(_pick(row, EXPECTED_NAMES)),
                            "options": _options(call, row),
                        }
                    )
            if not parametrized:
                out.cases.extend(_literal_asserts(func, where))
    return out


def _literal_asserts(func: ast.FunctionDef, where: str) -> Iterator[dict[str, Any]]:
    """`assert compare_strings(gold, pred, ...) == N` with literal arguments in a test body."""
    for i, node in enumerate(n for n in ast.walk(func) if isinstance(n, ast.Assert)):
        test = node.test
        if not (isinstance(test, ast.Compare) and isinstance(test.left, ast.Call) and len(test.comparators) == 1):
            continue
        call = test.left
        if not (isinstance(call.func, ast.Name) and call.func.id == "compare_strings" and len(call.args) >= 2):
            continue
        try:
            gold, pred = (ast.literal_eval(a) for a in call.args[:2])
            expected = ast.literal_eval(test.comparators[0])
        except ValueError:
            continue
        yield {
            "source": f"{where}#assert{i}",
            "gold": gold,
            "prediction": pred,
            "expected": bool(expected),
            "options": _options(call, {}),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path, help="a git checkout of huggingface/Math-Verify")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    tests_dir = args.checkout / "tests"
    if not tests_dir.is_dir():
        print(f"error: {args.checkout} has no tests/ folder; pass a Math-Verify checkout", file=sys.stderr)
        return 2
    commit = subprocess.run(
        ["git", "-C", str(args.checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    found = collect(tests_dir)
    with args.output.open("w", encoding="utf-8") as f:
        for case in found.cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"{len(found.cases)} cases from huggingface/Math-Verify@{commit or 'unknown commit'} -> {args.output}")
    for reason in found.skipped:
        print(f"left out: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
