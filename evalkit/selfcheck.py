"""`evalkit selfcheck`: run the simulated model over the bundled tasks and check evalkit on this machine.

What is checked, each as one line of the report:
- every metric's 95% CI covers the simulated model's true value (`evalkit.simulated.truth`);
- every sample got the verdict its simulated kind must get (graders, punkt and langdetect work here);
- the store holds n generations and n grades per problem, and `evalkit grade` on the run gives the
  same summary as `evalkit run` did;
- the sandbox runs passing and failing programs with the right verdicts (AC, WA, RE), and the choice
  grader reads letters and boxes, on a few built-in problems (no bundled task runs code).
The result is 0 when every check passes, else 1 with the failed checks listed.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.adapters.simulated import SIMULATED_KEY
from evalkit.config import GradingConfig, RunConfig, SamplingConfig, SandboxConfig
from evalkit.data import load_task_samples, resolve_data_dir
from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.jobs import GradeJob
from evalkit.graders.pool import LocalGradingPool
from evalkit.simulated import SIMULATED_MODEL
from evalkit.simulated.responses import EXPECTED_VERDICT, Kind, got_expected, respond
from evalkit.simulated.truth import task_truth
from evalkit.store import RunDir
from evalkit.tasks import parse_task_list
from evalkit.types import Generation, Request, Sample, SamplingParams

DEFAULT_TASKS = "aime24,aime25,math500,ifeval"


@dataclass(frozen=True)
class Check:
    """One line of the self-check report."""

    name: str
    ok: bool
    detail: str


def run_selfcheck(
    *,
    tasks: str = DEFAULT_TASKS,
    n: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    output: Path | None = None,
    sandbox: str = "local",
    unsafe_no_isolation: bool = False,
    workers: int | None = None,
) -> list[Check]:
    """Run every check (see the module docstring) and return them, failed ones included."""
    from evalkit.regrade import regrade
    from evalkit.runner import run

    if output is not None and output.exists() and any(output.iterdir()):
        raise EvalkitError(f"--output {output} is not empty; give a new directory for the self-check's run.")
    with tempfile.TemporaryDirectory(prefix="evalkit-selfcheck-") as tmp:
        run_dir = output or Path(tmp) / "run"
        config = RunConfig(
            model=SIMULATED_MODEL,
            tasks=tasks,
            limit=limit,
            output=run_dir,
            sampling=SamplingConfig(n=n, seed=seed),
            grading=GradingConfig(workers=workers),
            sandbox=SandboxConfig(name=sandbox, unsafe_no_isolation=unsafe_no_isolation),
        )
        run(config, quiet=True)
        store = RunDir(run_dir)
        summary = store.summary()
        checks = list(_metric_checks(config, summary))
        checks += _verdict_checks(store, summary)
        checks += _store_checks(store, summary)
        regraded = regrade(run_dir, workers=workers, quiet=True)
        same = _metrics_of(regraded) == _metrics_of(summary)
        checks.append(Check("store: evalkit grade", same, "re-grading gives the same summary" if same else
                            "re-grading the stored generations changed the summary"))  # fmt: skip
    checks += _builtin_grader_checks(sandbox, unsafe_no_isolation, workers)
    return checks


def _metrics_of(summary: dict[str, Any]) -> dict[str, Any]:
    return {name: (t.get("metrics"), t.get("error")) for name, t in summary["tasks"].items()}


def _metric_checks(config: RunConfig, summary: dict[str, Any]) -> Iterator[Check]:
    data_dir = resolve_data_dir(config.data_dir, config.data_source)
    for spec in parse_task_list(config.tasks):
        task = spec.build()
        entry = summary["tasks"][task.name]
        if entry.get("error"):
            yield Check(f"{task.name}: complete", False, entry["error"])
            continue
        samples = load_task_samples(task, data_dir, config.limit).samples
        truth = task_truth(task.name, task.grader, samples, entry["n"])
        for key, true_value in truth.items():
            metric = entry["metrics"].get(key)
            if metric is None:
                yield Check(f"{task.name} {key}", False, "the summary has no such metric")
                continue
            lo, hi = metric["ci95"]
            ok = lo - 1e-9 <= true_value <= hi + 1e-9
            yield Check(
                f"{task.name} {key}",
                ok,
                f"truth {100 * true_value:.1f} {'in' if ok else 'NOT in'} 95% CI [{100 * lo:.1f}, {100 * hi:.1f}] "
                f"(measured {100 * metric['value']:.1f})",
            )


def _verdict_checks(store: RunDir, summary: dict[str, Any]) -> list[Check]:
    generations = store.generations()
    wrong: Counter[str] = Counter()
    total: Counter[str] = Counter()
    first: dict[str, str] = {}
    for key, row in store.grades().items():
        gen = generations[key]
        kind = Kind(gen.metadata[SIMULATED_KEY]["kind"])
        task = key[0]
        total[task] += 1
        if (
            not got_expected(row["grader"], kind, row["verdict"], row.get("details"))
            or (row["score"] >= 1.0) != kind.correct
        ):
            wrong[task] += 1
            first.setdefault(
                task, f"{key[1]}#{key[2]}: a {kind.value} response got {row['verdict']} ({row.get('explanation')})"
            )
    return [
        Check(
            f"{task}: verdicts",
            not wrong[task],
            f"all {total[task]} samples got the verdict of their kind"
            if not wrong[task]
            else f"{wrong[task]} of {total[task]} samples got another verdict than their kind's; first: {first[task]}",
        )
        for task in summary["tasks"]
    ]


def _store_checks(store: RunDir, summary: dict[str, Any]) -> list[Check]:
    manifest = store.manifest()
    gens = Counter(key[0] for key in store.generations())
    grades = Counter(key[0] for key in store.grades())
    checks = []
    for task, entry in summary["tasks"].items():
        want = entry["n"] * entry["num_problems"]
        ok = gens[task] == want == grades[task]
        source = manifest["tasks"][task]["dataset"]["source"]
        checks.append(
            Check(
                f"{task}: store",
                ok,
                f"{gens[task]} generations and {grades[task]} grades stored for {want} samples; data: {source}",
            )
        )
    return checks


# A few built-in problems for the graders no bundled task uses: code (in the sandbox) and choice.
_CODE_SAMPLES = (
    Sample(
        id="sum-stdin",
        input="Read two integers and print their sum.",
        target="",
        metadata={"tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "40 2\n", "output": "42\n"}]},
    ),
    Sample(
        id="add-functional",
        input="Return a + b.",
        target="",
        metadata={
            "fn_name": "add",
            "tests": [{"input": "1\n2", "output": "3", "testtype": "functional"}],
        },
    ),
)
_CHOICE_SAMPLE = Sample(id="choice", input="Which is right?", target="right", metadata={})


def _builtin_grader_checks(sandbox: str, unsafe_no_isolation: bool, workers: int | None) -> list[Check]:
    code_ref = GraderRef("code", {"sandbox": sandbox, "unsafe_no_isolation": unsafe_no_isolation})
    jobs: list[tuple[str, Kind, str, GradeJob]] = []
    for sample in _CODE_SAMPLES:
        for kind in EXPECTED_VERDICT["code"]:
            jobs.append(("code", kind, sample.id, _job(code_ref, sample, "code", kind, {})))
    choice_ref = GraderRef("choice")
    for kind in EXPECTED_VERDICT["choice"]:
        metadata = {"permutation": [2, 0, 3, 1]}
        jobs.append(("choice", kind, _CHOICE_SAMPLE.id, _job(choice_ref, _CHOICE_SAMPLE, "choice", kind, metadata)))
    try:
        from evalkit.sandbox import preflight

        preflight(sandbox, unsafe_no_isolation=unsafe_no_isolation)
    except EvalkitError as e:
        return [Check("sandbox", False, str(e))]
    wrong: dict[str, list[str]] = {"code": [], "choice": []}
    with LocalGradingPool(workers) as pool:
        futures = [(fam, kind, sid, pool.submit(job)) for fam, kind, sid, job in jobs]
        for fam, kind, sid, future in futures:
            score = future.result()
            expected = EXPECTED_VERDICT[fam][kind]
            if score.verdict != expected:
                wrong[fam].append(f"{sid} {kind.value}: {score.verdict}, expected {expected} ({score.explanation})")
    counts = Counter(fam for fam, *_ in jobs)
    return [
        Check(
            f"{fam} grader" + (f" in the {sandbox} sandbox" if fam == "code" else ""),
            not wrong[fam],
            f"{counts[fam]} built-in responses got the verdicts of their kinds"
            if not wrong[fam]
            else "; ".join(wrong[fam]),
        )
        for fam in ("code", "choice")
    ]


def _job(ref: GraderRef, sample: Sample, grader: str, kind: Kind, metadata: dict[str, Any]) -> GradeJob:
    request = Request(
        task="selfcheck",
        task_version="1",
        sample_id=sample.id,
        sample_index=0,
        seed=0,
        prompt_hash="",
        params=SamplingParams(max_tokens=256),
        metadata=metadata,
    )
    sim = respond(kind, sample, "selfcheck", grader, 0, 0, metadata, 256)
    gen = Generation.completed(request, sim.text, finish_reason=sim.finish_reason)
    return GradeJob(grader=ref, sample=sample, generation=gen, think=ThinkSettings(), timeout_s=60.0)


def format_report(checks: Sequence[Check]) -> list[str]:
    """The report's lines: one per check, then the verdict."""
    lines = [f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in checks]
    failed = [c for c in checks if not c.ok]
    lines.append(
        f"selfcheck (simulated model) passed: all {len(checks)} checks."
        if not failed
        else f"selfcheck (simulated model) FAILED: {len(failed)} of {len(checks)} checks: "
        + ", ".join(c.name for c in failed)
    )
    return lines
