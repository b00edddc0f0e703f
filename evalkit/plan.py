"""Planning a run: resolve tasks, sampling, data and the requests each task needs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from evalkit import prompts
from evalkit.config import RunConfig
from evalkit.data import LoadedDataset, load_task_samples
from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings, make_grader
from evalkit.graders.jobs import GradeJob
from evalkit.headline import metric_roles
from evalkit.seeds import derive_seed, stable_hash
from evalkit.tasks import Task, TaskSpec, parse_task_list
from evalkit.types import Generation, Request, Sample, SamplingParams


@dataclass(frozen=True)
class PlannedTask:
    """One task of a run with everything resolved: n, sampling, data, grader and hashes."""

    spec: TaskSpec
    task: Task
    n: int
    params: SamplingParams
    data: LoadedDataset
    grader: GraderRef
    grader_version: str
    params_hash: str
    template_hash: str
    samples_by_id: dict[str, Sample]

    @property
    def name(self) -> str:
        return self.task.name

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "version": self.task.version,
            "n": self.n,
            "options": dict(self.spec.options),
            "sampling": self.params.to_dict(),
            "dataset": self.data.manifest_entry(),
            "template": self.task.template,
            "template_hash": self.template_hash,
            "grader": {
                "name": self.grader.name,
                "version": self.grader_version,
                "options": dict(self.grader.options),
            },
            **metric_roles(self.task).manifest_fields(),
        } | ({"file": self.spec.file} if self.spec.file else {})

    def requests(self, run_seed: int) -> Iterator[Request]:
        """Every (sample, sample_index) request of this task, in problem order."""
        for sample in self.data.samples:
            shared = None if self.task.build_prompt is not None else self.task.prompt(sample, 0)
            for index in range(self.n):
                prompt = shared or self.task.prompt(sample, index)
                yield Request(
                    task=self.task.name,
                    task_version=self.task.version,
                    sample_id=sample.id,
                    sample_index=index,
                    seed=derive_seed(run_seed, self.task.name, sample.id, index),
                    prompt_hash=stable_hash(json.dumps([m.to_dict() for m in prompt.messages], ensure_ascii=False)),
                    params=self.params,
                    messages=prompt.messages,
                    metadata=dict(prompt.metadata),
                )

    def sample(self, sample_id: str) -> Sample:
        return self.samples_by_id[sample_id]

    @property
    def runs_code(self) -> bool:
        """Whether this task's grader runs model-written code (the run then needs a working sandbox)."""
        return make_grader(self.grader).runs_code

    def grade_job(self, gen: Generation, think: ThinkSettings, default_timeout_s: float) -> GradeJob:
        """The grading-pool job for one of this task's generations."""
        sample = self.sample(gen.sample_id)
        return GradeJob(
            grader=self.grader,
            sample=sample,
            generation=gen,
            think=think,
            timeout_s=self.job_timeout(sample, default_timeout_s),
        )

    def job_timeout(self, sample: Sample, default_timeout_s: float) -> float:
        """The hard time limit for grading one generation of `sample`.

        Code graders need time for all of a solution's tests, so their own estimate can raise the limit.
        """
        own = make_grader(self.grader).job_timeout_s(sample)
        return max(default_timeout_s, own) if own is not None else default_timeout_s

    def grade_key(self, sample_id: str, generation_hash: str, think: ThinkSettings, timeout_s: float) -> str:
        """Everything that decides a grade: a stored grade is reused only while this key is unchanged.

        The generation; the whole sample (gold, choices, tests, checker: anything a grader may read);
        the grader's name, version and options (for code graders: the sandbox); the answer-region
        settings; and the grading time limit (a timeout under a shorter limit is not a verdict to keep).
        """
        return stable_hash(
            self.grader.name,
            self.grader_version,
            json.dumps(dict(self.grader.options), sort_keys=True, default=str),
            self._sample_hashes[sample_id],
            generation_hash,
            json.dumps(asdict(think), sort_keys=True),
            repr(timeout_s),
        )

    @cached_property
    def _sample_hashes(self) -> dict[str, str]:
        return {
            s.id: stable_hash(json.dumps(s.to_dict(), sort_keys=True, ensure_ascii=False, default=str))
            for s in self.data.samples
        }


def plan_task(spec: TaskSpec, config: RunConfig, data_dir: Path | None) -> PlannedTask:
    """Resolve one `--tasks` entry against the run's options and load its data."""
    task = spec.build()
    sampling = config.sampling
    n = spec.n or sampling.n or task.n
    params = SamplingParams(
        temperature=task.temperature if sampling.temperature is None else sampling.temperature,
        top_p=task.top_p if sampling.top_p is None else sampling.top_p,
        max_tokens=task.max_tokens if sampling.max_tokens is None else sampling.max_tokens,
    )
    data = load_task_samples(task, data_dir, config.limit, source=config.data_source)
    task = task.bound(data_dir)
    options = dict(task.grader_options)
    if make_grader(GraderRef(task.grader, options)).runs_code:
        options |= {"sandbox": config.sandbox.name, "unsafe_no_isolation": config.sandbox.unsafe_no_isolation}
    ref = GraderRef(task.grader, options)
    grader = make_grader(ref)
    return PlannedTask(
        spec=spec,
        task=task,
        n=n,
        params=params,
        data=data,
        grader=ref,
        grader_version=grader.version,
        # n is left out: sample i is the same whatever n is, so raising n only adds samples.
        params_hash=stable_hash(json.dumps(params.to_dict(), sort_keys=True), str(sampling.seed)),
        template_hash=prompts.template_hash(task.template),
        samples_by_id={s.id: s for s in data.samples},
    )


def plan_run(config: RunConfig, data_dir: Path | None) -> list[PlannedTask]:
    """All tasks of a run; a task named twice is an error."""
    specs = parse_task_list(config.tasks)
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise EvalkitError(
            f"Task(s) listed more than once in --tasks: {', '.join(dupes)}. List each task once (task@n=N sets its n)."
        )
    return [plan_task(spec, config, data_dir) for spec in specs]
