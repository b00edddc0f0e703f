"""Writes realistic run directories (manifest, generations, grades, summary) for report and gate tests.

Problems have fixed difficulties (the same in every run), and a model's `skill` shifts them, so
two runs of one model differ only by sampling noise, and a weaker model is weaker on the same
problems. Some samples are cut at the token limit, some have no answer, and `errors` adds
failed generations (which make the task unsummarisable, as the summariser does).
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TaskShape:
    name: str
    problems: int
    n: int
    family: str = "pass"
    breakdown: tuple[str, ...] = ()


DEFAULT_TASKS = (
    TaskShape("aime24", 12, 8),
    TaskShape("math500", 20, 4, breakdown=("level", "subject")),
    TaskShape("ifeval", 10, 2, family="ifeval"),
    TaskShape("codeforces", 6, 2, family="codeforces"),
)
SUBJECTS = ("Algebra", "Geometry", "Number Theory")


@dataclass
class RunSpec:
    model: str = "org/model-a"
    run_id: str | None = None
    skill: float = 0.0
    seed: int = 0
    tasks: tuple[TaskShape, ...] = DEFAULT_TASKS
    status: str = "complete"
    step: int | None = None
    errors: int = 0
    max_tokens: int = 4096
    truncate_rate: float = 0.06
    no_answer_rate: float = 0.04
    write_summary: bool = True
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    sample_ids: dict[str, list[str]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


def _difficulty(task: str, problems: int) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(task.encode()))
    return rng.uniform(0.15, 0.85, size=problems)


def _pass_at_k(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _metric(values: list[float] | np.ndarray) -> dict[str, Any]:
    arr = np.asarray(values, dtype=float)
    value = float(arr.mean())
    se = float(arr.std(ddof=1) / math.sqrt(arr.size)) if arr.size > 1 else 0.0
    return {"value": value, "stderr": se, "ci95": [max(0.0, value - 1.96 * se), min(1.0, value + 1.96 * se)]}


def _rating(values: np.ndarray, scale: float, offset: float, upper: float) -> dict[str, Any]:
    m = _metric(values)
    value, se = offset + scale * m["value"], scale * m["stderr"]
    return {"value": value, "stderr": se, "ci95": [value - 1.96 * se, min(upper, value + 1.96 * se)]}


def _metrics(shape: TaskShape, scores: np.ndarray, votes: list[list[str | None]], gold: list[str]) -> dict[str, Any]:
    per_problem = scores.mean(axis=1)
    out: dict[str, Any] = {}
    if shape.family == "ifeval":
        out["prompt_level_strict"] = _metric(per_problem)
        out["inst_level_strict"] = _metric(np.minimum(1.0, per_problem * 1.1))
        out["prompt_level_loose"] = _metric(np.minimum(1.0, per_problem * 1.05))
        out["inst_level_loose"] = _metric(np.minimum(1.0, per_problem * 1.15))
        return out
    correct = scores.sum(axis=1).astype(int)
    k = 1
    while k <= shape.n:
        out[f"pass@{k}"] = _metric([_pass_at_k(shape.n, int(c), k) for c in correct])
        k *= 2
    if shape.family == "codeforces":
        out["rating"] = _rating(per_problem, 1600.0, 700.0, 4000.0)
        out["percentile"] = _metric(np.minimum(1.0, 0.05 + 0.9 * per_problem))
        return out
    k = 1
    while k <= shape.n:
        cons = []
        for problem_votes, answer in zip(votes, gold, strict=True):
            counts: dict[str, int] = {}
            for v in problem_votes[:k]:
                if v is not None:
                    counts[v] = counts.get(v, 0) + 1
            winner = max(counts, key=lambda a: counts[a]) if counts else None
            cons.append(1.0 if winner == answer else 0.0)
        out[f"cons@{k}"] = _metric(cons)
        k *= 2
    return out


def write_run(root: Path, spec: RunSpec) -> Path:
    """Write one run directory under `root` and return its path."""
    run_id = spec.run_id or f"{spec.model.split('/')[-1]}-{spec.seed}"
    path = root / run_id
    path.mkdir(parents=True)
    rng = np.random.default_rng(spec.seed)
    manifest_tasks: dict[str, Any] = {}
    summary_tasks: dict[str, Any] = {}
    generations: list[dict[str, Any]] = []
    grades: list[dict[str, Any]] = []
    errors_left = spec.errors
    for shape in spec.tasks:
        p = np.clip(_difficulty(shape.name, shape.problems) + spec.skill, 0.0, 1.0)
        scores = np.zeros((shape.problems, shape.n))
        votes: list[list[str | None]] = []
        gold = [str(10 + i) for i in range(shape.problems)]
        counts = {"truncated": 0, "no_answer": 0, "unclosed_think": 0, "error": 0}
        task_errors = 0
        for i in range(shape.problems):
            ids = spec.sample_ids.get(shape.name)
            sid = ids[i] if ids else f"{shape.name}-{i:03d}"
            problem_votes: list[str | None] = []
            for j in range(shape.n):
                correct = bool(rng.random() < p[i])
                tokens = int(min(spec.max_tokens, rng.lognormal(math.log(spec.max_tokens / 4), 0.5)))
                roll = rng.random()
                error = None
                if errors_left > 0:
                    errors_left -= 1
                    task_errors += 1
                    error = "server returned 500 after 5 retries"
                if error:
                    text, finish, verdict, extracted, score, tokens_out = None, "error", "error", None, 0.0, None
                    counts["error"] += 1
                    problem_votes.append(None)
                elif roll < spec.truncate_rate:
                    text = "<think>Let me think. " + "step " * 40
                    finish, verdict, extracted, score, tokens_out = (
                        "length",
                        "unclosed_think",
                        None,
                        0.0,
                        spec.max_tokens,
                    )
                    counts["truncated"] += 1
                    counts["unclosed_think"] += 1
                    counts["no_answer"] += 1
                    problem_votes.append(None)
                elif roll < spec.truncate_rate + spec.no_answer_rate:
                    text = "<think>Hmm.</think> I am not sure."
                    finish, verdict, extracted, score, tokens_out = "stop", "no_answer", None, 0.0, tokens
                    counts["no_answer"] += 1
                    problem_votes.append(None)
                else:
                    answer = gold[i] if correct else str(int(rng.integers(0, 3)))
                    text = (
                        f"<think>Problem {sid}: try <b>x</b> & y < z. "
                        + "We compute carefully. " * 5
                        + f"</think>\nThe answer is $\\boxed{{{answer}}}$."
                    )
                    finish, extracted, tokens_out = "stop", answer, tokens
                    score = 1.0 if correct else 0.0
                    verdict = "correct" if correct else "wrong"
                    problem_votes.append(answer)
                scores[i, j] = score
                generations.append(
                    {
                        "task": shape.name,
                        "task_version": "1",
                        "sample_id": sid,
                        "sample_index": j,
                        "seed": spec.seed * 100000 + i * 100 + j,
                        "prompt_hash": f"ph-{shape.name}-{i}",
                        "text": text,
                        "reasoning": None,
                        "finish_reason": finish,
                        "prompt_tokens": 120,
                        "completion_tokens": tokens_out,
                        "latency_s": 1.5,
                        "error": error,
                        "metadata": {},
                    }
                )
                grades.append(
                    {
                        "task": shape.name,
                        "sample_id": sid,
                        "sample_index": j,
                        "grader": "math" if shape.family == "pass" else shape.family,
                        "grader_version": "1",
                        "score": score,
                        "extracted": extracted,
                        "verdict": verdict,
                        "explanation": "" if verdict != "wrong" else f"{extracted} != {gold[i]}",
                        "vote": extracted,
                        "details": {},
                    }
                )
            votes.append(problem_votes)
        total = shape.problems * shape.n
        metrics = _metrics(shape, scores, votes, gold)
        breakdown: dict[str, Any] = {}
        for fld in shape.breakdown:
            groups: dict[str, list[int]] = {}
            for i in range(shape.problems):
                value = str(1 + i % 5) if fld == "level" else SUBJECTS[i % len(SUBJECTS)]
                groups.setdefault(value, []).append(i)
            breakdown[fld] = {
                value: {"num_problems": len(idx), "metrics": {"pass@1": _metric(scores[idx].mean(axis=1))}}
                for value, idx in groups.items()
            }
        ids = spec.sample_ids.get(shape.name)
        summary_tasks[shape.name] = {
            "n": shape.n,
            "num_problems": shape.problems,
            "sample_ids": [ids[i] if ids else f"{shape.name}-{i:03d}" for i in range(shape.problems)],
            "metrics": {} if task_errors else metrics,
            "rates": {k: v / total for k, v in counts.items()},
            "breakdown": {} if task_errors else breakdown,
            "error": f"{task_errors} samples failed with errors; rerun to retry them" if task_errors else None,
        }
        grader = {"pass": "math", "ifeval": "ifeval", "codeforces": "codeforces"}[shape.family]
        manifest_tasks[shape.name] = {
            "version": "1",
            "n": shape.n,
            "sampling": {"temperature": 0.6, "top_p": 0.95, "max_tokens": spec.max_tokens},
            "dataset": {
                "id": f"hub/{shape.name}",
                "revision": "abc123",
                "content_hash": f"hash-{shape.name}",
                "source": "offline",
            },
            "template_hash": f"tpl-{shape.name}",
            "grader": {"name": grader, "version": "1"},
        }
        for key, value in spec.overrides.get(shape.name, {}).items():
            manifest_tasks[shape.name][key] = value
    config: dict[str, Any] = {"model": spec.model, "tasks": ",".join(t.name for t in spec.tasks), "seed": spec.seed}
    if spec.step is not None:
        config["step"] = spec.step
    config.update(spec.config)
    manifest = {
        "run_id": run_id,
        "model": spec.model,
        "config": config,
        "tasks": manifest_tasks,
        "started_at": "2025-01-01T00:00:00Z",
        "finished_at": None if spec.status == "running" else "2025-01-01T01:00:00Z",
        "status": spec.status,
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (path / "generations.jsonl").write_text("".join(json.dumps(g) + "\n" for g in generations))
    (path / "grades.jsonl").write_text("".join(json.dumps(g) + "\n" for g in grades))
    if spec.write_summary:
        summary = {"tasks": summary_tasks, "complete": spec.status == "complete", "model": spec.model, "run_id": run_id}
        (path / "summary.json").write_text(json.dumps(summary, indent=2))
    return path


def cli_app() -> Any:
    """A local typer app with the report, compare and gate commands, errors handled as evalkit's CLI does."""
    import functools

    import typer

    from evalkit.commands import gate, report
    from evalkit.errors import EvalkitError

    def handled(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except EvalkitError as e:
                typer.echo(f"error: {e}", err=True)
                raise typer.Exit(e.exit_code) from None

        return wrapper

    app = typer.Typer(rich_markup_mode="markdown", add_completion=False, pretty_exceptions_enable=False)
    app.command("report")(handled(report.report))
    app.command("compare")(handled(gate.compare))
    app.command("gate")(handled(gate.gate))
    return app
