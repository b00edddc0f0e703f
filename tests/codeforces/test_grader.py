"""The codeforces grader on real sandboxed runs: accepted, wrong, too slow, custom checker, no code.

Solutions run in the real local sandbox; its host-side output check (`run(..., check=)`) applies
the problem's checker.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from types import ModuleType

import pytest

from evalkit.data import load_task_samples
from evalkit.graders.base import ThinkSettings
from evalkit.graders.codeforces import CodeforcesGrader
from evalkit.sandbox.base import Sandbox
from evalkit.tasks import get_task
from evalkit.testing import generation_for
from evalkit.types import Generation, Sample


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    from evalkit.sandbox.local import create, detect_isolation

    if detect_isolation() == "none":
        pytest.skip("no namespace sandbox here (apt-get install bubblewrap): solutions never run unsandboxed")
    return create()


@pytest.fixture
def grader(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[CodeforcesGrader]:
    g = CodeforcesGrader()
    monkeypatch.setattr(g, "_sandbox", lambda: sandbox)
    yield g


@pytest.fixture(scope="module")
def samples(synthetic: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    data_dir = tmp_path_factory.mktemp("cf")
    data = synthetic.build(data_dir)
    loaded = load_task_samples(get_task("codeforces", contests=data.task_option), data_dir)
    return {s.id: s for s in loaded.samples}


_generation = partial(generation_for, task="codeforces")


@pytest.mark.parametrize(
    ("sample_id", "kind", "verdict"),
    [
        ("9001/A", "accepted", "AC"),
        ("9001/A", "wrong", "WA"),
        ("9001/A", "tle", "TLE"),
        ("9001/B", "accepted", "AC"),  # prints lower-case yes/no: the default checker accepts it
        ("9001/B", "wrong", "WA"),
        ("9002/A", "accepted", "AC"),  # C++17
        ("9002/A", "wrong", "WA"),
        ("9002/B", "accepted", "AC"),  # a different divisor than the reference: the checker program accepts
        ("9002/B", "wrong", "WA"),
        ("9002/B", "tle", "TLE"),
    ],
)
def test_known_solutions_get_their_verdicts(
    grader: CodeforcesGrader, samples: dict[str, Sample], synthetic: ModuleType, sample_id: str, kind: str, verdict: str
) -> None:
    score = grader.grade(samples[sample_id], _generation(sample_id, synthetic.fenced(sample_id, kind)), ThinkSettings())
    assert score.verdict == verdict, score.explanation
    assert score.value == (1.0 if verdict == "AC" else 0.0)
    assert score.details["checker"] == ("program" if sample_id == "9002/B" else "yesno")


def test_first_failing_test_decides_even_with_a_checker(
    grader: CodeforcesGrader, samples: dict[str, Sample], synthetic: ModuleType
) -> None:
    # Right on the first test (n=12 -> 6), then wrong for primes: the checker rejects test 2.
    code = "n = int(input())\nprint(6 if n == 12 else 1)\n"
    score = grader.grade(samples["9002/B"], _generation("9002/B", f"```python\n{code}```"), ThinkSettings())
    assert score.verdict == "WA" and score.details["failed_test"] == 1 and score.details["tests_passed"] == 1


def test_compile_errors_and_missing_code(grader: CodeforcesGrader, samples: dict[str, Sample]) -> None:
    sample = samples["9001/A"]
    ce = grader.grade(sample, _generation("9001/A", "```cpp\nint main( {\n```"), ThinkSettings())
    assert ce.verdict == "CE" and ce.value == 0.0
    assert grader.grade(sample, _generation("9001/A", "The answer is 3."), ThinkSettings()).verdict == "no_answer"
    unclosed = grader.grade(sample, _generation("9001/A", "<think>```python\nprint(3)\n```"), ThinkSettings())
    assert unclosed.verdict == "unclosed_think"


def test_a_response_cut_off_before_its_final_block_closed_has_no_answer(
    grader: CodeforcesGrader, samples: dict[str, Sample], synthetic: ModuleType
) -> None:
    sample = samples["9001/A"]
    accepted = synthetic.fenced("9001/A", "accepted")

    def cut(text: str) -> Generation:
        return generation_for("9001/A", text, task="codeforces", finish_reason="length")

    # The accepted block was superseded by one the token limit cut: that unfinished block was the answer.
    superseded = grader.grade(
        sample, cut(f"<think>plan</think>{accepted}\nFaster:\n```cpp\n#include <cstdio>\nint"), ThinkSettings()
    )
    assert superseded.verdict == "truncated" and superseded.value == 0.0
    assert grader.grade(sample, cut("<think>plan</think>We read n and"), ThinkSettings()).verdict == "truncated"
    complete = grader.grade(sample, cut(f"<think>plan</think>{accepted}\nThis runs in O(n) because"), ThinkSettings())
    assert complete.verdict == "AC"


def test_code_in_the_reasoning_is_not_the_answer(
    grader: CodeforcesGrader, samples: dict[str, Sample], synthetic: ModuleType
) -> None:
    text = synthetic.fenced("9001/A", "accepted") + "</think>Final: " + synthetic.fenced("9001/A", "wrong")
    assert grader.grade(samples["9001/A"], _generation("9001/A", text), ThinkSettings()).verdict == "WA"


def test_broken_problem_data_is_an_error_not_a_wrong_answer(
    grader: CodeforcesGrader, samples: dict[str, Sample], synthetic: ModuleType
) -> None:
    sample = samples["9002/B"]
    broken = Sample(sample.id, sample.input, "", {**sample.metadata, "checker": "print(1\n"})
    score = grader.grade(broken, _generation("9002/B", synthetic.fenced("9002/B", "accepted")), ThinkSettings())
    assert score.verdict == "error" and "does not compile" in score.explanation
    gone = Sample(sample.id, sample.input, "", {**sample.metadata, "generated_tests": {"path": "/nonexistent.parquet",
                                                                                       "problem_id": "9002/B", "count": 3}})  # fmt: skip
    assert grader.grade(gone, _generation("9002/B", "```python\nprint(2)\n```"), ThinkSettings()).verdict == "error"


def test_an_echo_of_the_prompts_fence_instruction_does_not_hide_the_solution(
    grader: CodeforcesGrader, samples: dict[str, Sample], synthetic: ModuleType
) -> None:
    # The prompt ends "give your complete solution in one final code block: ```cpp for C++17 or ...".
    text = "As asked, one final block (```cpp for C++17).\n" + synthetic.fenced("9001/A", "accepted")
    assert grader.grade(samples["9001/A"], _generation("9001/A", text), ThinkSettings()).verdict == "AC"


def test_an_untagged_block_with_an_include_directive_runs_as_cpp(
    grader: CodeforcesGrader, samples: dict[str, Sample], synthetic: ModuleType
) -> None:
    source = synthetic.SOLUTIONS["9002/A"]["accepted"]
    assert source.startswith("#include")
    score = grader.grade(samples["9002/A"], _generation("9002/A", f"```\n{source}```\n"), ThinkSettings())
    assert score.verdict == "AC" and score.details["language"] == "cpp"


def test_grader_is_registered_and_validates_options(tmp_path: Path) -> None:
    from evalkit.errors import EvalkitError
    from evalkit.graders.base import GRADERS

    assert GRADERS.get("codeforces") == "evalkit.graders.codeforces:CodeforcesGrader"
    with pytest.raises(EvalkitError, match="Unknown checker"):
        CodeforcesGrader(default_checker="lenient")
