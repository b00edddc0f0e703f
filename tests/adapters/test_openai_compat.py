"""The OpenAI-compatible adapter against the real scripted server on 127.0.0.1 (real aiohttp client)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, overload

import pytest

from evalkit.adapters.base import Adapter, make_adapter
from evalkit.adapters.openai_compat import OpenAICompatAdapter, parse_completion, parse_retry_after
from evalkit.config import BackendConfig, RunConfig
from evalkit.errors import EvalkitError
from evalkit.testing.server import Fault, Reply, ScriptedServer
from evalkit.types import Generation, Message, Request, SamplingParams

PARAMS = SamplingParams(temperature=0.7, top_p=0.9, max_tokens=321)


def _requests(count: int, *, prompt: bool = False) -> list[Request]:
    return [
        Request(
            task="t",
            task_version="1",
            sample_id=f"p{i // 4}",
            sample_index=i % 4,
            seed=1000 + i,
            prompt_hash="h",
            params=PARAMS,
            messages=None if prompt else (Message("user", f"question {i // 4}"),),
            prompt=f"question {i // 4}" if prompt else None,
            metadata={"i": i},
        )
        for i in range(count)
    ]


def _adapter(*urls: str, **backend: Any) -> OpenAICompatAdapter:
    settings: dict[str, Any] = {"max_retries": 2, "request_timeout_s": 5.0, "concurrency": 8, **backend}
    cfg = RunConfig(model="m", tasks="t", backend=BackendConfig(name="openai", base_urls=urls, **settings))
    return OpenAICompatAdapter(cfg, backoff_base_s=0.005, backoff_max_s=0.02, check_attempts=2)


def _generate(adapter: OpenAICompatAdapter, requests: Sequence[Request]) -> list[Generation]:
    async def go() -> list[Generation]:
        try:
            return [g async for g in adapter.generate(requests)]
        finally:
            await adapter.aclose()

    return asyncio.run(go())


def _one_per_request(gens: list[Generation], requests: list[Request]) -> dict[tuple[str, str, int], Generation]:
    keys = Counter(g.key for g in gens)
    assert keys == Counter(r.key for r in requests), "exactly one generation per request"
    return {g.key: g for g in gens}


class Recorder:
    """A script that answers with the seed it was sent and remembers every body."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.reply = reply or Reply(text="ok")

    def __call__(self, body: dict[str, Any], attempt: int) -> Reply:
        self.bodies.append(body)
        return replace(self.reply, text=f"seed={body.get('seed')}" if self.reply.text == "ok" else self.reply.text)


def test_create_is_the_registered_openai_backend() -> None:
    cfg = RunConfig(model="m", tasks="t", backend=BackendConfig(base_urls=("http://127.0.0.1:1/v1",)))
    adapter = make_adapter("openai", cfg)
    assert isinstance(adapter, OpenAICompatAdapter) and isinstance(adapter, Adapter)
    typed: Adapter = OpenAICompatAdapter(cfg)  # mypy checks the class against the Protocol
    assert typed.name == "openai"


def test_each_request_carries_its_own_seed_and_the_sampling_params() -> None:
    script = Recorder()
    requests = _requests(12)
    with ScriptedServer(script) as server:
        gens = _one_per_request(_generate(_adapter(server.url), requests), requests)
    assert sorted(b["seed"] for b in script.bodies) == [r.seed for r in requests]
    for body in script.bodies:
        assert body["model"] == "m" and body["n"] == 1
        assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.7, 0.9, 321)
        assert body["messages"][0]["role"] == "user"
    for r in requests:
        g = gens[r.key]
        assert g.text == f"seed={r.seed}" and g.error is None
        assert (g.seed, g.prompt_hash, g.task_version, g.metadata) == (r.seed, "h", "1", r.metadata)
        assert g.latency_s > 0


def test_reasoning_content_finish_reason_and_usage_are_recorded() -> None:
    reply = Reply(text="42", reasoning="let me think", finish_reason="length", completion_tokens=77, prompt_tokens=9)
    with ScriptedServer(lambda body, attempt: reply) as server:
        (g,) = _generate(_adapter(server.url), _requests(1))
    assert (g.text, g.reasoning, g.finish_reason) == ("42", "let me think", "length")
    assert (g.prompt_tokens, g.completion_tokens) == (9, 77)


def test_reasoning_field_name_variants_and_null_content_are_read() -> None:
    data = {"choices": [{"message": {"content": None, "reasoning": "hmm"}, "finish_reason": "length"}]}
    parsed = parse_completion(data, chat=True)
    assert (parsed.text, parsed.reasoning, parsed.finish_reason) == (None, "hmm", "length")
    assert parsed.prompt_tokens is None and parsed.completion_tokens is None


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"choices": []}, "empty_choices"),
        ({"id": "x"}, "empty_choices"),
        ({"error": {"message": "overloaded"}}, "server error: overloaded"),
        ([1, 2], "malformed"),
        ({"choices": [{"text": "no message"}]}, "malformed"),
        ({"choices": [{"message": {"content": 5}}]}, "malformed"),
    ],
)
def test_unusable_responses_are_rejected_for_retry(data: Any, kind: str) -> None:
    with pytest.raises(Exception, match=kind) as info:
        parse_completion(data, chat=True)
    assert getattr(info.value, "retry", None) is True


ALL_FAULTS: list[Fault] = ["429", "500", "503", "timeout", "reset", "malformed", "empty_choices"]


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_a_fault_is_retried_and_the_retry_gives_the_good_row(fault: Fault) -> None:
    def script(body: dict[str, Any], attempt: int) -> Reply:
        return Reply(text=f"ok {body['seed']}", fault=fault if attempt == 0 else None)

    requests = _requests(6)
    with ScriptedServer(script) as server:
        gens = _one_per_request(_generate(_adapter(server.url, request_timeout_s=0.5), requests), requests)
        assert server.request_count == 2 * len(requests)
    for r in requests:
        assert gens[r.key].error is None and gens[r.key].text == f"ok {r.seed}"


EXPECTED_ERROR = {
    "429": "http 429: ",
    "500": "http 500: ",
    "503": "http 503: ",
    "timeout": "timeout: ",
    "reset": "connection: ",
    "malformed": "malformed: ",
    "empty_choices": "empty_choices: ",
}


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_a_persistent_fault_ends_in_an_error_row_after_bounded_attempts(fault: Fault) -> None:
    requests = _requests(5)
    with ScriptedServer(lambda body, attempt: Reply(text="never", fault=fault)) as server:
        gens = _one_per_request(_generate(_adapter(server.url, request_timeout_s=0.5), requests), requests)
        assert server.request_count == 3 * len(requests), "max_retries=2 means 3 attempts, no more"
    for g in gens.values():
        assert g.text is None and g.finish_reason == "error"
        assert g.error is not None and g.error.startswith(EXPECTED_ERROR[fault]), g.error
        assert g.error.endswith("after 3 attempts")


def test_a_trickling_reply_within_the_timeout_is_a_good_row() -> None:
    with ScriptedServer(lambda body, attempt: Reply(text="slow but fine", fault="trickle", delay_s=0.2)) as server:
        (g,) = _generate(_adapter(server.url, request_timeout_s=5.0), _requests(1))
        assert server.request_count == 1
    assert g.text == "slow but fine" and g.error is None


def test_a_reply_trickling_past_the_request_timeout_is_a_timeout() -> None:
    with ScriptedServer(lambda body, attempt: Reply(text="x", fault="trickle", delay_s=3.0)) as server:
        (g,) = _generate(_adapter(server.url, request_timeout_s=0.3, max_retries=1), _requests(1))
        assert server.request_count == 2
    assert g.error == "timeout: no complete response within 0.3 s after 2 attempts"


def test_retry_after_is_honoured() -> None:
    arrivals: list[float] = []

    def script(body: dict[str, Any], attempt: int) -> Reply:
        arrivals.append(time.monotonic())
        return Reply(text="ok", fault="429" if attempt == 0 else None, retry_after=0.3)

    with ScriptedServer(script) as server:
        (g,) = _generate(_adapter(server.url), _requests(1))
    assert g.error is None and len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.3, "the client waited at least Retry-After before retrying"


def test_retry_after_header_values() -> None:
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 < (parse_retry_after(later) or 0) <= 30
    assert parse_retry_after(format_datetime(datetime(2000, 1, 1, tzinfo=timezone.utc), usegmt=True)) == 0.0


def test_a_bad_request_is_not_retried_and_keeps_the_server_message() -> None:
    requests = _requests(3)
    with ScriptedServer(lambda body, attempt: Reply(fault="400")) as server:
        gens = _one_per_request(_generate(_adapter(server.url), requests), requests)
        assert server.request_count == len(requests)
    for g in gens.values():
        assert g.error == "http 400: scripted fault 400 (not retried)" and g.text is None


def test_least_outstanding_balancing_sends_less_to_a_slow_server() -> None:
    fast = Recorder(Reply(text="fast", delay_s=0.01))
    slow = Recorder(Reply(text="slow", delay_s=0.3))
    requests = _requests(80)
    with ScriptedServer(fast) as a, ScriptedServer(slow) as b:
        gens = _one_per_request(_generate(_adapter(a.url, b.url, concurrency=8), requests), requests)
    assert all(g.error is None for g in gens.values())
    assert len(fast.bodies) + len(slow.bodies) == len(requests)
    assert slow.bodies, "both servers get traffic"
    assert len(slow.bodies) < len(fast.bodies) / 2


def test_equal_servers_share_the_load() -> None:
    one, two = Recorder(Reply(text="x", delay_s=0.05)), Recorder(Reply(text="x", delay_s=0.05))
    requests = _requests(40)
    with ScriptedServer(one) as a, ScriptedServer(two) as b:
        _one_per_request(_generate(_adapter(a.url, b.url, concurrency=8), requests), requests)
    assert len(one.bodies) >= 10 and len(two.bodies) >= 10


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_check_raises_a_clear_error_when_no_server_answers() -> None:
    adapter = _adapter(_closed_port_url())
    with pytest.raises(EvalkitError, match=r"Cannot reach the OpenAI-compatible server at http://127\.0\.0\.1:\d+/v1"):
        asyncio.run(adapter.check())


def test_unreachable_server_during_a_run_gives_error_rows_not_exceptions() -> None:
    requests = _requests(3)
    gens = _one_per_request(_generate(_adapter(_closed_port_url()), requests), requests)
    assert all(g.error and g.error.startswith("connection: ") for g in gens.values())


def test_check_drops_an_unreachable_url_and_the_run_uses_the_other() -> None:
    script = Recorder()
    requests = _requests(8)
    with ScriptedServer(script) as server:
        adapter = _adapter(_closed_port_url(), server.url)
        asyncio.run(adapter.check())
        assert adapter.identity()["base_urls"] == [server.url]
        gens = _one_per_request(_generate(adapter, requests), requests)
    assert all(g.error is None for g in gens.values())


def test_check_refuses_a_model_the_server_does_not_serve() -> None:
    with (
        ScriptedServer(Recorder(), model="other-model") as server,
        pytest.raises(EvalkitError, match="serves other-model, not 'm'"),
    ):
        asyncio.run(_adapter(server.url).check())


def test_identity_reports_the_served_model_card_and_never_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    with ScriptedServer(Recorder(), model="m") as server:
        adapter = _adapter(server.url)
        asyncio.run(adapter.check())
        identity = adapter.identity()
        url = server.url
    assert identity == {
        "engine": "openai-compatible",
        "model": "m",
        "base_urls": [url],
        "served_model": {"id": "m", "root": "m", "owned_by": "evalkit-testing", "max_model_len": 32768},
    }
    assert "sk-secret" not in json.dumps(identity)


def test_identity_without_a_reachable_server_is_still_reported() -> None:
    url = _closed_port_url()
    assert _adapter(url).identity() == {"engine": "openai-compatible", "model": "m", "base_urls": [url]}


def test_completions_api_sends_the_prompt_to_completions() -> None:
    script = Recorder()
    requests = _requests(4, prompt=True)
    with ScriptedServer(script) as server:
        gens = _one_per_request(_generate(_adapter(server.url, api="completions"), requests), requests)
    assert all(b["prompt"].startswith("question") and "messages" not in b for b in script.bodies)
    assert {g.text for g in gens.values()} == {f"seed={r.seed}" for r in requests}


def test_chat_api_with_prompt_only_requests_is_a_usage_error() -> None:
    adapter = _adapter("http://127.0.0.1:1/v1")
    with pytest.raises(EvalkitError, match="--api completions"):
        _generate(adapter, _requests(2, prompt=True))


class CountingRequests(Sequence[Request]):
    """A request list that records how far the adapter has iterated it."""

    def __init__(self, items: list[Request]) -> None:
        self.items = items
        self.pulled = 0

    def __iter__(self) -> Iterator[Request]:
        for item in self.items:
            self.pulled += 1
            yield item

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Request: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Request]: ...
    def __getitem__(self, index: int | slice) -> Request | Sequence[Request]:
        return self.items[index]


def test_requests_are_pulled_as_workers_free_up_not_all_at_once() -> None:
    requests = CountingRequests(_requests(200))
    pulled_at_first: list[int] = []
    with ScriptedServer(lambda body, attempt: Reply(text="x", delay_s=0.02)) as server:
        adapter = _adapter(server.url, concurrency=4)

        async def go() -> int:
            count = 0
            async for _ in adapter.generate(requests):
                if not pulled_at_first:
                    pulled_at_first.append(requests.pulled)
                count += 1
            await adapter.aclose()
            return count

        assert asyncio.run(go()) == 200
    assert pulled_at_first[0] <= 8


def test_stopping_early_cancels_outstanding_requests() -> None:
    started = threading.Event()

    def script(body: dict[str, Any], attempt: int) -> Reply:
        started.set()
        return Reply(text="x", delay_s=0.01 if body["seed"] == 1000 else 30)

    with ScriptedServer(script) as server:
        adapter = _adapter(server.url, concurrency=4)

        async def go() -> Generation:
            gen = adapter.generate(_requests(8))
            first = await anext(gen)
            await gen.aclose()
            await adapter.aclose()
            return first

        first = asyncio.run(asyncio.wait_for(go(), timeout=10))
    assert started.is_set() and first.seed == 1000
