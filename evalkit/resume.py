"""What a rerun of a run directory may reuse, and what it must refuse.

A stored generation is reused only while its prompt, its sampling settings and the generation
identity (evalkit.identity) match the command; a stored grade only while its grade key
(evalkit.plan.PlannedTask.grade_key) does. A command that would change the run's task set, model or
generation settings is refused, naming each difference, unless `--overwrite`. Everything here only
reads the run directory, so a refused command leaves every file as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.answer import ReasoningDetector, thinks
from evalkit.config import RunConfig, grouped
from evalkit.errors import EvalkitError
from evalkit.graders.base import ThinkSettings
from evalkit.identity import differences
from evalkit.jsonl import scan_run_rows
from evalkit.ledger import GenInfo, Ledger
from evalkit.plan import PlannedTask
from evalkit.store import GENERATIONS, RunDir, generation_hash, score_from_row
from evalkit.types import Generation, Key, Request


@dataclass(frozen=True, slots=True)
class StoredRow:
    """What resume needs of a stored generation row; the text stays on disk (memory stays flat)."""

    offset: int
    prompt_hash: str | None
    params_hash: str | None
    identity_hash: str | None
    error: str | None
    info: GenInfo
    generation_hash: str
    shows_thinking: bool


@dataclass
class RunState:
    """What is already in the run directory, split into reusable (recorded in `ledger`) and to-redo."""

    ledger: Ledger
    todo: list[Request] = field(default_factory=list)
    to_grade: list[int] = field(default_factory=list)  # byte offsets in generations.jsonl
    mismatches: list[str] = field(default_factory=list)
    reasoning: bool = False  # evidence that the model thinks (the `auto` decision)
    think: ThinkSettings = field(default_factory=ThinkSettings)


def new_ledger(planned: Sequence[PlannedTask]) -> Ledger:
    """An empty ledger for the problems and samples a run covers."""
    return Ledger({pt.name: ([s.id for s in pt.data.samples], pt.n) for pt in planned})


def run_think(config: RunConfig, reasoning_model: bool) -> ThinkSettings:
    """The answer-region settings of a run: its options, plus the `auto` decision when that applies."""
    grading = config.grading
    decided = reasoning_model if grading.think_policy == "auto" else None
    return ThinkSettings(marker=grading.think_marker, policy=grading.think_policy, reasoning_model=decided)


def think_record(think: ThinkSettings, prompt_opens_think: bool) -> dict[str, Any]:
    """The manifest's and summary's record of how answers were found."""
    return {
        "marker": think.marker,
        "policy": think.policy,
        "reasoning_model": thinks(think.policy, think.reasoning_model),
        "prompt_opens_think": prompt_opens_think,
    }


def shows_thinking(gen: Generation, marker: str) -> bool:
    """Whether one generation shows that the model thinks (evalkit.answer.ReasoningDetector)."""
    detector = ReasoningDetector(marker=marker)
    detector.observe(gen)
    return detector.decided


def read_state(
    run: RunDir, planned: Sequence[PlannedTask], config: RunConfig, identity: str, *, prompt_opens_think: bool
) -> RunState:
    """Decide, per key, what can be reused: a generation made with this prompt, sampling and identity,
    and a grade whose key (evalkit.plan.PlannedTask.grade_key) is unchanged. Reads only.

    The `auto` thinking decision is taken over the generations that are kept (and the rendered
    prompt); grade keys are computed under it. A grade that failed (verdict `error`) is never
    reused: it is retried like a failed generation.
    """
    rows = _stored_rows(run.path / GENERATIONS, config.grading.think_marker)
    state = RunState(ledger=new_ledger(planned))
    kept: list[tuple[PlannedTask, Request, StoredRow]] = []
    for pt in planned:
        for req in pt.requests(config.sampling.seed):
            row = rows.get(req.key)
            if row is None or row.error is not None:  # errors are retried on every run
                state.todo.append(req)
                continue
            why = _mismatch(row, req, pt, identity)
            if why:
                state.mismatches.append(f"{req.task} {req.sample_id}#{req.sample_index}: {why}")
                state.todo.append(req)
                continue
            kept.append((pt, req, row))
    state.reasoning = prompt_opens_think or any(row.shows_thinking for _, _, row in kept)
    state.think = run_think(config, state.reasoning)
    grade_rows = {key: row for key, row in run.grades().items() if row.get("verdict") != "error"}
    for pt, req, row in kept:
        state.ledger.add_generation(row.info)
        timeout = pt.job_timeout(pt.sample(req.sample_id), config.grading.timeout_s)
        stored = grade_rows.get(req.key)
        if stored is not None and stored.get("grade_key") == pt.grade_key(
            req.sample_id, row.generation_hash, state.think, timeout
        ):
            state.ledger.add_score(req.key, score_from_row(stored))
        else:
            state.to_grade.append(row.offset)
    return state


def _stored_rows(path: Path, marker: str) -> dict[Key, StoredRow]:
    rows: dict[Key, StoredRow] = {}
    for offset, raw in scan_run_rows(path):
        try:
            gen = Generation.from_dict(raw)
        except (KeyError, TypeError, ValueError):
            continue
        rows[gen.key] = StoredRow(
            offset=offset,
            prompt_hash=raw.get("prompt_hash"),
            params_hash=raw.get("params_hash"),
            identity_hash=raw.get("identity_hash"),
            error=gen.error,
            info=GenInfo.of(gen),
            generation_hash=generation_hash(gen),
            shows_thinking=shows_thinking(gen, marker),
        )
    return rows


def _mismatch(row: StoredRow, req: Request, pt: PlannedTask, identity: str) -> str | None:
    if row.prompt_hash != req.prompt_hash:
        return "prompt changed"
    if row.params_hash != pt.params_hash:
        return "sampling parameters changed"
    if row.identity_hash != identity:
        return "model or engine settings changed"
    return None


def check_same_run(
    path: Path, previous: Mapping[str, Any] | None, manifest: Mapping[str, Any], state: RunState, *, overwrite: bool
) -> None:
    """Refuse (EvalkitError, exit 2) a command that would change what the run directory holds.

    One run directory is one run: the same tasks, model and generation settings. Changing `--limit`,
    `--n` or a task's options only adds or drops problems and samples, and is allowed.
    """
    if overwrite:
        return
    problems: list[str] = []
    if previous is not None:
        old_seed = grouped(previous.get("config") or {}).get("sampling", {}).get("seed")
        new_seed = manifest["config"]["sampling"]["seed"]
        old_tasks, new_tasks = sorted(previous.get("tasks") or {}), sorted(manifest["tasks"])
        if old_tasks != new_tasks:
            problems.append(f"tasks {', '.join(old_tasks) or 'none'} -> {', '.join(new_tasks)}")
        problems += differences(previous.get("generation_identity") or {}, manifest["generation_identity"])
        for name, entry in manifest["tasks"].items():
            old = (previous.get("tasks") or {}).get(name)
            if isinstance(old, Mapping):
                old_sampling = {**(old.get("sampling") or {}), "seed": old_seed}
                new_sampling = {**entry["sampling"], "seed": new_seed}
                problems += [f"{name} {d}" for d in differences(old_sampling, new_sampling)]
    if state.mismatches and not problems:
        problems.append(f"{len(state.mismatches)} stored generation(s) made otherwise (first: {state.mismatches[0]})")
    if problems:
        raise EvalkitError(
            f"{path} holds another run: {'; '.join(problems)}. One run directory holds one run: use a new "
            "--output for a different configuration, or pass --overwrite to make this the run (samples made "
            "otherwise are regenerated; other tasks' rows stay on disk, outside the summary)."
        )
