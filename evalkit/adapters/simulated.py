"""`--model simulated`: evalkit's built-in simulated model, in-process (see evalkit.simulated).

It needs no server, no weights and no network. To answer, it needs each problem's gold, so it loads
the run's tasks itself (from the same source as the run: bundled copy, Hub or data dir).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

from evalkit import __version__
from evalkit.adapters.base import Adapter
from evalkit.adapters.options import NoEngineOptions
from evalkit.config import RunConfig
from evalkit.data import load_task_samples, resolve_data_dir
from evalkit.errors import EvalkitError
from evalkit.simulated import SIMULATED_MODEL, simulate
from evalkit.simulated.responses import family
from evalkit.tasks import parse_task_list
from evalkit.types import Generation, Request, Sample

# Generation metadata key holding the simulated response's kind (what its grade must be).
SIMULATED_KEY = "simulated"
NOTICE = (
    "simulated model: responses are written by evalkit with a known accuracy, not by a language model; "
    "the numbers test the harness on this machine, not a model."
)


class SimulatedAdapter(Adapter):
    """Answers every request with the simulated model's response for its (task, sample, index, seed)."""

    name = "simulated"

    def __init__(self, samples: dict[str, dict[str, Sample]], graders: dict[str, str]) -> None:
        self._samples = samples
        self._graders = graders

    def identity(self) -> dict[str, Any]:
        """Marks the run as simulated in the manifest (engine, version, what it is)."""
        return {
            "engine": "simulated",
            "simulated": True,
            "model": SIMULATED_MODEL,
            "version": __version__,
            "notice": NOTICE,
        }

    async def generate(self, requests: Sequence[Request]) -> AsyncIterator[Generation]:
        """One simulated Generation per request; its kind is kept in the metadata for `evalkit selfcheck`."""
        for request in requests:
            sample = self._samples[request.task][request.sample_id]
            sim = simulate(
                sample,
                request.task,
                self._graders[request.task],
                request.sample_index,
                request.seed,
                request.metadata,
                request.params.max_tokens,
            )
            gen = Generation.completed(
                request,
                sim.text,
                finish_reason=sim.finish_reason,
                prompt_tokens=sum(len(m.content.split()) for m in request.messages or ()),
                completion_tokens=sim.completion_tokens,
            )
            yield replace(gen, metadata={**gen.metadata, SIMULATED_KEY: {"kind": sim.kind.value}})

    async def aclose(self) -> None:
        """Nothing to release."""


def create(config: RunConfig) -> SimulatedAdapter:
    """The simulated model for the run's tasks (their samples loaded as the run loads them)."""
    NoEngineOptions.of(config, "simulated")
    if config.model != SIMULATED_MODEL:
        raise EvalkitError(
            f"--backend simulated runs only evalkit's built-in simulated model: pass --model {SIMULATED_MODEL} "
            f"(got --model {config.model})."
        )
    data_dir = resolve_data_dir(config.data_dir, config.data_source)
    samples: dict[str, dict[str, Sample]] = {}
    graders: dict[str, str] = {}
    for spec in parse_task_list(config.tasks):
        task = spec.build()
        graders[task.name] = family(task.grader)
        loaded = load_task_samples(task, data_dir, config.limit, source=config.data_source)
        samples[task.name] = {s.id: s for s in loaded.samples}
    return SimulatedAdapter(samples, graders)
