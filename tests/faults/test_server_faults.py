"""Server faults during a whole `evalkit run`: bounded retries, then a good row or an error row.

Every request of the run goes to a loopback server that injects one kind of fault. Requests are
split by seed into three groups: `clean` ones are answered at once, `recovers` ones fail on the
first attempt only, `persistent` ones fail every attempt. After the first run the persistent ones
must be error rows (text null, never graded, the task marked incomplete) and everything else
graded exactly once; the same command run again against a healed server must request exactly the
error rows and end with the same metrics as a run that never saw a fault.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pytest
import typer

from evalkit.commands.incomplete import exit_if_incomplete
from evalkit.config import BackendConfig, GradingConfig, RunConfig
from evalkit.runner import run
from evalkit.testing.server import Fault, Reply, ScriptedServer

TASKS = "aime24@n=4"
LIMIT = 4
TOTAL = LIMIT * 4
MAX_RETRIES = 2
# Small, so a hung or trickling reply costs about a second per attempt.
REQUEST_TIMEOUT_S = 1.0
RETRY_AFTER_S = 0.3

Role = Literal["clean", "recovers", "persistent"]


def role(seed: int) -> Role:
    """Which group a request is in, fixed by its seed (so a rerun sends it to the same group)."""
    return ("persistent", "recovers", "clean", "clean")[seed % 4]


@dataclass(frozen=True)
class Case:
    """One kind of fault: what a failing attempt gets, what a clean one gets, what the error row says."""

    fault: Fault
    error_kind: str
    failing: dict[str, Any] = field(default_factory=dict)
    clean: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("429", "http 429", failing={"retry_after": RETRY_AFTER_S}),
    Case("500", "http 500"),
    Case("503", "http 503"),
    Case("timeout", "timeout"),
    Case("reset", "connection"),
    Case("malformed", "malformed"),
    Case("empty_choices", "empty_choices"),
    # A slow trickle that ends inside the request timeout is a good reply; one that does not is a timeout.
    Case(
        "trickle",
        "timeout",
        failing={"delay_s": 5 * REQUEST_TIMEOUT_S},
        clean={"fault": "trickle", "delay_s": REQUEST_TIMEOUT_S / 5},
    ),
]


class FaultyModel:
    """The e2e math model behind a fault injector; `healthy = True` turns every fault off."""

    def __init__(self, math: ModuleType, case: Case | None) -> None:
        self.math = math
        self.case = case
        self.healthy = case is None
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any], attempt: int) -> Reply:
        seed = int(body["seed"])
        with self._lock:
            self.arrivals[seed].append(time.monotonic())
        # attempt=1: the e2e model's own first-attempt 500 ("flaky") would blur the request counts.
        answer: Reply = self.math.reply(body, 1)
        if self.healthy or self.case is None:
            return answer
        group = role(seed)
        if group == "clean" or (group == "recovers" and attempt > 0):
            return replace(answer, **self.case.clean)
        return replace(answer, fault=self.case.fault, **self.case.failing)


def _config(server: ScriptedServer, out: Path, data_dir: Path) -> RunConfig:
    return RunConfig(
        model="scripted",
        tasks=TASKS,
        limit=LIMIT,
        data_dir=data_dir,
        output=out,
        backend=BackendConfig(
            name="openai",
            base_urls=(server.url,),
            concurrency=TOTAL,
            max_retries=MAX_RETRIES,
            request_timeout_s=REQUEST_TIMEOUT_S,
        ),
        grading=GradingConfig(workers=1),
    )


@pytest.fixture(scope="module")
def reference(kit: ModuleType, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """summary.json of the same run against a server that never faults."""
    out = tmp_path_factory.mktemp("reference") / "run"
    with ScriptedServer(FaultyModel(kit.math_script(), None)) as server:
        run(_config(server, out, data_dir), quiet=True)
    summary: dict[str, Any] = kit.RunFiles.read(out).summary
    assert summary["complete"] is True
    return summary


@pytest.fixture
def model(kit: ModuleType, request: pytest.FixtureRequest) -> FaultyModel:
    case: Case = request.param
    return FaultyModel(kit.math_script(), case)


@pytest.fixture
def server(model: FaultyModel) -> Iterator[ScriptedServer]:
    with ScriptedServer(model) as s:
        yield s


@pytest.mark.parametrize("model", CASES, ids=[c.fault for c in CASES], indirect=True)
def test_fault_ends_in_bounded_retries_then_rerun_completes(
    model: FaultyModel,
    server: ScriptedServer,
    reference: dict[str, Any],
    kit: ModuleType,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    assert model.case is not None
    out = tmp_path / "run"
    config = _config(server, out, data_dir)

    run(config, quiet=True)

    first = kit.RunFiles.read(out)
    first.check_consistent(TOTAL)
    assert len(first.generations) == TOTAL, "the first run wrote one row per sample"
    groups = {k: role(int(r["seed"])) for k, r in first.latest().items()}
    counts = {g: sum(1 for v in groups.values() if v == g) for g in ("clean", "recovers", "persistent")}
    assert all(counts.values()), f"the seeds of this run must fill every group: {counts}"
    errors = {k for k, r in first.latest().items() if r["error"] is not None}
    assert errors == {k for k, g in groups.items() if g == "persistent"}
    attempts = MAX_RETRIES + 1
    for k in errors:
        message = first.latest()[k]["error"]
        assert message.startswith(model.case.error_kind) and f"after {attempts} attempts" in message, message
    assert server.request_count == counts["clean"] + 2 * counts["recovers"] + attempts * counts["persistent"]
    if model.case.fault == "429":
        for seed, times in model.arrivals.items():
            if role(seed) == "recovers":
                assert times[1] - times[0] >= RETRY_AFTER_S, "the retry came before Retry-After allowed"
    assert first.summary is not None and first.manifest is not None
    task = first.summary["tasks"]["aime24"]
    assert first.summary["complete"] is False and first.manifest["status"] == "incomplete"
    assert task["error"] and "rerun" in task["error"]
    assert task["rates"]["error"] == pytest.approx(len(errors) / TOTAL)
    with pytest.raises(typer.Exit) as stopped:
        exit_if_incomplete(out)
    assert stopped.value.exit_code == 3, "an incomplete run must not exit 0"

    model.healthy = True
    before = server.request_count
    run(config, quiet=True)

    assert server.request_count - before == len(errors), "the rerun requests exactly the error rows"
    final = kit.RunFiles.read(out)
    final.check_consistent(TOTAL)
    assert not any(r["error"] for r in final.latest().values())
    assert len(final.grades) == TOTAL
    assert final.summary is not None and final.manifest is not None
    assert final.summary["complete"] is True and final.manifest["status"] == "complete"
    exit_if_incomplete(out)
    assert final.summary["tasks"]["aime24"]["metrics"] == reference["tasks"]["aime24"]["metrics"]
    assert final.summary["tasks"]["aime24"]["rates"] == reference["tasks"]["aime24"]["rates"]
