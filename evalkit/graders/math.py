"""The math grader: the final answer of a response, checked for equivalence with math-verify.

Extraction happens inside the answer region (evalkit.answer), in math-verify's default order
(evalkit.graders.math_answer): the final group of `\\boxed{}` answers, or a "final answer is X"
statement after it; without a box, math-verify's own extraction of the last LaTeX expression or
number. A response cut off by the token limit is graded only on a complete box (verdict `truncated`
otherwise). Equivalence: math-verify's `verify`. With `integer_answers` (AIME) a numeric answer must
equal the gold integer exactly, so `025` equals 25 and 24.9999999 does not. docs/math-grading.md
lists every rule, each deliberate difference from math-verify's defaults and the test that holds it.

math-verify bounds its own work with `signal.alarm`, which only works in a process's main thread, so
this grader runs in the worker processes of `evalkit.graders.pool`. Work is done once: the gold is
parsed once per problem and each (gold, extracted answer) pair checked once per worker, and
`cache_key` lets the pool skip the worker entirely for a boxed answer it has already graded. That is
what makes n=64 grading cheap when answers repeat.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from evalkit.graders.base import Answer, Grader, ThinkSettings
from evalkit.graders.math_answer import final_boxes, final_statement
from evalkit.types import Generation, Sample, Score

# Only the tail of an answer region is read: a final answer sits at the end, and math-verify's
# regexes over megabytes of garbage would cost seconds.
MAX_REGION_CHARS = 20_000
# A boxed answer longer than this is not parsed (no real final answer is this long).
MAX_ANSWER_CHARS = 2_000
# math-verify's own per-call limits (whole seconds: it uses signal.alarm). The pool's hard limit
# (GradeJob.timeout_s) is the backstop for what these cannot interrupt.
PARSE_TIMEOUT_S = 5
VERIFY_TIMEOUT_S = 5

# `1\,000` / `1\!000` / `1~000`: digit groups separated by LaTeX spacing are one number
# (math-verify reads `1\,000` as 1*0).
_SPACED_THOUSANDS = re.compile(r"(?<=\d)(?:\\[,!; ]|~)(?=\d{3}(?!\d))")
# `\mathrm{e}` is Euler's number; math-verify's unit normalization drops it (`2\mathrm{e}` reads as 2).
_UPRIGHT_E = re.compile(r"\\(?:mathrm|textrm|text|operatorname)\s*\{\s*e\s*\}|\{\s*\\rm\s+e\s*\}")
_THOUSANDS = re.compile(r"(?<=\d)(?:\\[,!; ]|~|\{,\}|,)(?=\d{3}(?!\d))")
_INTEGER = re.compile(r"[+-]?\d+")


class _Timeout(Exception):
    """math-verify ran out of its time budget on this answer."""


class MathGrader(Grader):
    """Grades a final math answer against a LaTeX gold (`sample.target`, without `$` or `\\boxed`).

    Verdicts: `correct`, `wrong`, `no_answer` (empty region, empty box, nothing extractable),
    `unclosed_think`, `truncated` (cut off by the token limit without a complete box), `timeout`
    (math-verify gave up), `error` (the generation itself failed). `Score.vote` is the extracted
    answer, normalized; `same_class` merges equivalent votes.
    """

    name = "math"
    # 2: truncation rule, run-level thinking decision, box groups joined across `\quad \text{and}`,
    # "final answer is" after the box, `\mathrm{e}`.
    version = "2"
    votes = True

    def __init__(self, *, integer_answers: bool = False) -> None:
        self.integer_answers = integer_answers

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        """Extract the final answer and check it with math-verify; never raises on any model output.

        Raises RuntimeError outside a main thread, where math-verify's time limits cannot work.
        """
        _require_main_thread()
        found = _final_answer(answer)
        if isinstance(found, Score):
            return found
        kind, text = found
        return _judge(sample.target, self.integer_answers, kind, text)

    def cache_key(self, sample: Sample, generation: Generation, think: ThinkSettings) -> str | None:
        """A key equal for generations that get equal Scores (same gold, same final boxed answer).

        Cheap (no math-verify), so the grading pool computes it in the caller and grades each key
        once; None when the answer is not a box (those are graded one by one).
        """
        opened = self.answer(sample, generation, think)
        found = opened if isinstance(opened, Score) else _final_answer(opened)
        if isinstance(found, Score) or found[0] != "box":
            return None
        return json.dumps([sample.target, self.integer_answers, found[1]])

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        """Whether two vote keys of one problem are the same answer (math-verify, both directions)."""
        if a == b:
            return True
        _require_main_thread()
        ia, ib = (_as_int_literal(a), _as_int_literal(b)) if self.integer_answers else (None, None)
        if ia is not None and ib is not None:
            return ia == ib
        try:
            pa, pb = _parse_answer(a), _parse_answer(b)
            return _equivalent(pa, pb) and _equivalent(pb, pa)
        except _Timeout:
            return False


def _require_main_thread() -> None:
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "MathGrader must run in a process's main thread (math-verify times out with signal.alarm); "
            "grade through evalkit.graders.pool.LocalGradingPool."
        )


def _final_answer(answer: Answer) -> Score | tuple[str, str]:
    """The answer to check, as ("box", a box group's content) or ("text", unboxed text for
    math-verify's extraction), or the Score when there is nothing to check."""
    text = answer.text[-MAX_REGION_CHARS:]
    boxes = final_boxes(text)
    if answer.truncated and (boxes is None or not boxes.closed):
        # A cut-off response's last number is mid-thought: only a complete box is an answer.
        where = "inside its last \\boxed{}" if boxes is not None else "before any complete \\boxed{} answer"
        return Score(
            value=0.0,
            verdict="truncated",
            explanation=f"the response was cut off by the token limit {where}, so there is no final answer",
        )
    if not text.strip():
        return Score(value=0.0, verdict="no_answer", explanation="the answer region is empty")
    if boxes is None:
        return ("text", text)
    statement = None if answer.truncated else final_statement(text[boxes.end :])
    if statement is not None:
        return ("text", statement)
    if not boxes.answer:
        return Score(value=0.0, verdict="no_answer", explanation="the last \\boxed{} is empty")
    if len(boxes.answer) > MAX_ANSWER_CHARS:
        return Score(
            value=0.0,
            verdict="wrong",
            extracted=boxes.answer[:200] + "...",
            explanation=f"the boxed answer is longer than {MAX_ANSWER_CHARS} characters; not parsed",
        )
    return ("box", boxes.answer)


@lru_cache(maxsize=65_536)
def _judge(gold: str, integer_answers: bool, kind: str, answer: str) -> Score:
    """Grade one extracted answer (`kind` "box": a box's content; "text": an unboxed region)."""
    gold_int = _as_int_literal(gold) if integer_answers else None
    literal = _as_int_literal(answer) if gold_int is not None and kind == "box" else None
    try:
        if literal is not None:  # the common AIME case needs no parsing at all
            extracted, ok, vote = answer.strip(), literal == gold_int, str(literal)
        elif kind == "box" and answer.strip() == gold.strip():
            # The gold's own LaTeX: math-verify would say equal (it compares strings last).
            extracted = vote = answer.strip()
            ok = True
        else:
            pred = _parse_answer(answer) if kind == "box" else _parse_text(answer)
            if not pred:
                return Score(value=0.0, verdict="no_answer", explanation="no mathematical answer found")
            extracted = next((p for p in pred if isinstance(p, str)), None) or str(pred[0])
            if gold_int is not None:
                ok, vote = _judge_integer(gold_int, pred, extracted)
            else:
                ok, vote = _equivalent(_parse_gold(gold), pred), extracted
    except _Timeout as exc:
        return Score(value=0.0, verdict="timeout", extracted=answer[:200], explanation=str(exc))
    relation = "equals" if ok else "does not equal"
    return Score(
        value=1.0 if ok else 0.0,
        verdict="correct" if ok else "wrong",
        extracted=extracted,
        explanation=f"extracted {extracted!r}, which {relation} the gold {gold!r}",
        vote=vote,
    )


def _judge_integer(gold: int, pred: list[Any], extracted: str) -> tuple[bool, str]:
    """AIME rule: a numeric answer must be exactly the gold integer; other forms go to math-verify."""
    import sympy

    literal = _as_int_literal(extracted)
    if literal is not None:
        return literal == gold, str(literal)
    expr = next((p for p in pred if not isinstance(p, str)), None)
    if isinstance(expr, sympy.Eq) and isinstance(expr.lhs, sympy.Symbol):
        expr = expr.rhs  # `x = 25`
    if isinstance(expr, sympy.Expr) and expr.is_number:
        value = expr.doit()
        exact = bool(value.is_Integer or (value.is_Float and float(value).is_integer()))
        if exact and abs(value) < 10**100:
            return int(value) == gold, str(int(value))
        return False, extracted
    return _equivalent([sympy.Integer(gold)], pred), extracted


def _as_int_literal(s: str) -> int | None:
    """`025`, `1,000`, `-7` as an int; None for anything else (or for more than 100 digits)."""
    s = _THOUSANDS.sub("", s.strip()) if len(s) <= 200 else ""
    return int(s) if len(s) <= 100 and _INTEGER.fullmatch(s) else None


@lru_cache(maxsize=4_096)
def _parse_gold(gold: str) -> list[Any]:
    return _parse_answer(gold) or [gold.strip()]


@lru_cache(maxsize=65_536)
def _parse_answer(latex: str) -> list[Any]:
    """Parse one answer (a box's content, a gold, a vote key) with math-verify."""
    from math_verify import LatexExtractionConfig

    return _parse("\\boxed{" + _normalize(latex) + "}", (LatexExtractionConfig(boxed_match_priority=0),))


def _parse_text(text: str) -> list[Any]:
    """math-verify's default extraction over unboxed text: anchored phrases ("final answer is",
    "answer:") first, then the last LaTeX expression or number, whichever comes later."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig

    return _parse(_normalize(text), (LatexExtractionConfig(), ExprExtractionConfig()))


def _normalize(latex: str) -> str:
    """evalkit's fixes before math-verify reads an answer (docs/math-grading.md)."""
    return _UPRIGHT_E.sub("e", _SPACED_THOUSANDS.sub("", latex))


def _parse(text: str, config: Sequence[Any]) -> list[Any]:
    from math_verify import parse
    from math_verify.errors import TimeoutException

    try:
        result: list[Any] = parse(text, config, parsing_timeout=PARSE_TIMEOUT_S, raise_on_error=True)
    except TimeoutException as exc:
        raise _Timeout(f"math-verify could not parse the answer within {PARSE_TIMEOUT_S} s") from exc
    except Exception:
        return []  # math-verify found nothing it could read: no answer
    return result


def _equivalent(gold: list[Any], pred: list[Any]) -> bool:
    """math-verify's verify, pair by pair, so one failing pair does not hide the others."""
    from itertools import product

    from math_verify import verify
    from math_verify.errors import TimeoutException

    timed_out = False
    for g, p in product(gold, pred):
        try:
            if verify(g, p, timeout_seconds=VERIFY_TIMEOUT_S, raise_on_error=True):
                return True
        except TimeoutException:
            timed_out = True
        except Exception:
            continue  # sympy could not compare this pair; the others may still decide
    if timed_out:
        raise _Timeout(f"math-verify could not compare the answers within {VERIFY_TIMEOUT_S} s")
    return False


# Typical final-answer forms (MATH-500 / AIME styles) parsed by `warm_up`.
_WARM_UP_ANSWERS = (
    r"\frac{1}{2}",
    "0.5",
    r"\dfrac{3}{4}",
    "(1, 2]",
    "[-2, 7)",
    r"(-\infty, 3) \cup (5, \infty)",
    "1, 2",
    r"\{1, 2\}",
    r"\left( 3, \frac{\pi}{2} \right)",
    "x = 3",
    r"30^\circ",
    r"10\text{ cm}",
    r"\text{Evelyn}",
    r"\text{(C)}",
    "1,000",
    r"10,\!080",
    r"2\sqrt{2}",
    r"\frac{\sqrt{3}}{2}",
    r"2\pi",
    "-5",
    r"50\%",
    "x^2+2x+1",
    r"\$18.90",
    r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}",
    "y = 2x + 3",
    r"\log_2 8",
    "3^{10}",
    r"\sin \theta",
    "6 - 2i",
    r"\infty",
    r"8\sqrt[3]{2}",
    r"-\frac{7}{4}",
    r"\pm 1",
    "(2, -3)",
    r"\binom{5}{2}",
    r"k \ge 2",
    "0 < x < 1",
    r"\mathrm{(B)}",
    r"4\cdot 3",
)


def warm_up() -> None:
    """Parse and compare typical answers once, so math-verify's parser (ANTLR builds its decision
    tables as it goes) and sympy's caches are ready. The pool's forkserver calls this before it
    forks workers, so every worker starts warm; results are not kept in the answer caches."""
    parsed = [_parse_answer(a) for a in _WARM_UP_ANSWERS]
    for a, b in zip(parsed, parsed[1:] + parsed[:1], strict=True):
        with contextlib.suppress(_Timeout):
            _equivalent(a, b)
    _parse_answer.cache_clear()
