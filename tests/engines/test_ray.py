"""Scale-out on a local Ray cluster: replicas and grading tasks give what the local path gives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import wait
from pathlib import Path
from typing import Any

import pytest

from evalkit.config import BackendConfig, RunConfig, ScaleConfig
from evalkit.errors import EvalkitError
from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.jobs import GradeJob
from evalkit.graders.pool import LocalGradingPool
from evalkit.testing import generation_for
from evalkit.testing.graders import register_test_graders, unregister_test_graders
from evalkit.types import Generation, Sample

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    pytest.importorskip("ray")
    from evalkit.testing.ray_cluster import local_ray_cluster

    with local_ray_cluster(num_cpus=2) as ray:
        yield ray


@pytest.fixture(scope="module")
def local_texts(engine_config: Callable[..., RunConfig], requests_for: Any, run_adapter: Any) -> dict[Any, str]:
    from evalkit.adapters import transformers_engine

    adapter = transformers_engine.create(engine_config("transformers"))
    return {k: g.text for k, g in run_adapter(adapter, requests_for(indices=range(4))).items()}


def test_two_replicas_give_the_local_samples_key_for_key(
    ray_cluster: Any, engine_config: Callable[..., RunConfig], requests_for: Any, run_adapter: Any, local_texts: Any
) -> None:
    from evalkit.adapters.ray_replicas import RayReplicaAdapter

    adapter = RayReplicaAdapter("transformers", engine_config("transformers", replicas=2, ray=True))
    try:
        out = run_adapter(adapter, requests_for(indices=range(4)))
        assert {k: g.text for k, g in out.items()} == local_texts
        identity = adapter.identity()
        assert identity["engine"] == "transformers" and identity["replicas"] == 2
    finally:
        asyncio.run(adapter.aclose())


def test_a_replica_killed_mid_run_loses_only_its_in_flight_samples(
    ray_cluster: Any, engine_config: Callable[..., RunConfig], requests_for: Any, local_texts: Any
) -> None:
    from evalkit.adapters.ray_replicas import RayReplicaAdapter

    adapter = RayReplicaAdapter("transformers", engine_config("transformers", replicas=2, ray=True))
    requests = requests_for(indices=range(4))

    async def run() -> list[Generation]:
        got = []
        async for generation in adapter.generate(requests):
            got.append(generation)
            if len(got) == 2:
                ray_cluster.kill(adapter.replicas[0], no_restart=True)
        return got

    try:
        got = asyncio.run(run())
        assert adapter.live_replicas == 1
        assert len(got) == len(requests)
        assert sorted(g.key for g in got) == sorted(r.key for r in requests)
        assert all(g.error is None for g in got), [g.error for g in got if g.error]
        # Redone samples are the same samples: seeds are per key.
        assert {g.key: g.text for g in got} == local_texts
    finally:
        asyncio.run(adapter.aclose())


def _jobs(grader: GraderRef, texts: list[str], timeout_s: float = 20.0) -> list[GradeJob]:
    sample = Sample("s1", "What is 2+3?", "5")
    return [
        GradeJob(
            grader=grader,
            sample=sample,
            generation=generation_for(sample, text, task="toy", index=i),
            think=ThinkSettings(policy="none"),
            timeout_s=timeout_s,
        )
        for i, text in enumerate(texts)
    ]


def test_grading_as_ray_tasks_equals_the_local_pool(ray_cluster: Any) -> None:
    from evalkit.graders.ray_pool import RayGradingPool

    texts = ["\\boxed{5}", "\\boxed{5.0}", "\\boxed{6}", "no answer here", "\\boxed{\\frac{10}{2}}"]
    jobs = _jobs(GraderRef("math"), texts)
    with LocalGradingPool(2) as local:
        expected = [f.result() for f in [local.submit(j) for j in jobs]]
        expected_classes = local.same_class(GraderRef("math"), jobs[0].sample, ["5", "5.0", "6", "10/2"]).result()
    with RayGradingPool() as remote:
        got = [f.result() for f in [remote.submit(j) for j in jobs]]
        classes = remote.same_class(GraderRef("math"), jobs[0].sample, ["5", "5.0", "6", "10/2"]).result()
    assert got == expected
    assert [s.verdict for s in got][:3] == ["correct", "correct", "wrong"]
    assert classes == expected_classes == [0, 0, 1, 0]


def test_ray_grading_times_out_and_redoes_jobs_of_dead_workers(ray_cluster: Any, tmp_path: Path) -> None:
    from evalkit.graders.ray_pool import RayGradingPool

    register_test_graders()
    pool = RayGradingPool(2)
    try:
        slow = pool.submit(_jobs(GraderRef("test_sleep", {"seconds": 2.0}), ["x"], timeout_s=0.5)[0])
        crashing = [
            pool.submit(j) for j in _jobs(GraderRef("test_crash_once", {"marker_dir": str(tmp_path)}), ["a", "b", "c"])
        ]
        wait([slow, *crashing], timeout=120)
        assert slow.result().verdict == "timeout"
        # Each job killed its worker once; Ray ran it again and only then did it count.
        assert [f.result().verdict for f in crashing] == ["correct"] * 3
        assert [f.result().extracted for f in crashing] == ["a", "b", "c"]
        assert len(list(tmp_path.iterdir())) == 3
    finally:
        pool.close()
        unregister_test_graders()


def test_an_address_that_does_not_answer_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    from evalkit import cluster

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(EvalkitError, match=r"127.0.0.1:1 does not answer.*ray start --head"):
        cluster.connect(RunConfig(model="m", tasks="t", scale=ScaleConfig(ray_address="127.0.0.1:1")))
    with pytest.raises(EvalkitError, match="is not host:port"):
        cluster.connect(RunConfig(model="m", tasks="t", scale=ScaleConfig(ray_address="somewhere")))


def test_engine_start_errors_inside_replicas_surface_as_evalkit_errors(
    ray_cluster: Any, engine_config: Callable[..., RunConfig]
) -> None:
    from evalkit.adapters.ray_replicas import RayReplicaAdapter

    with pytest.raises(EvalkitError, match="does not exist"):
        RayReplicaAdapter("transformers", engine_config("transformers", model="/no/such/model", ray=True))


def test_replicas_fit_max_tokens_and_a_refusal_is_an_evalkit_error(
    ray_cluster: Any, engine_config: Callable[..., RunConfig], requests_for: Any
) -> None:
    from evalkit.adapters.ray_replicas import RayReplicaAdapter

    # The tiny model's 2,048 positions leave enough after a short prompt: fitted. A 1,030-token context
    # leaves less than the 1,024-token floor: refused, as an EvalkitError rather than a RayError.
    adapter = RayReplicaAdapter("transformers", engine_config("transformers", replicas=1, ray=True))
    small = RayReplicaAdapter("transformers", engine_config("transformers", replicas=1, ray=True, max_model_len=1030))
    try:
        requests = requests_for(indices=(0,), max_tokens=32768)
        fitted = asyncio.run(adapter.fit(requests))
        assert all(1024 <= r.params.max_tokens < 2048 for r in fitted)
        with pytest.raises(EvalkitError, match="leave too little room to generate"):
            asyncio.run(small.fit(requests))
    finally:
        asyncio.run(adapter.aclose())
        asyncio.run(small.aclose())


def test_openai_endpoints_are_dealt_over_replicas() -> None:
    from evalkit.adapters.ray_replicas import replica_configs

    urls = tuple(f"http://127.0.0.1:{8000 + i}/v1" for i in range(5))
    backend = BackendConfig(name="openai", base_urls=urls, concurrency=60)
    configs = replica_configs("openai", RunConfig(model="m", tasks="t", backend=backend))
    assert [c.backend.base_urls for c in configs] == [(u,) for u in urls]
    two = replica_configs("openai", RunConfig(model="m", tasks="t", backend=backend, scale=ScaleConfig(replicas=2)))
    assert [c.backend.base_urls for c in two] == [urls[0::2], urls[1::2]]
    assert all(c.backend.concurrency == 30 for c in two)
