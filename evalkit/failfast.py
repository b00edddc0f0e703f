"""Stop sending requests when the server keeps failing the same way.

A server that rejects every request (a context-length error, a wrong model name, a bad key) would
otherwise receive every request of the run, and "rerun the same command" would fail identically.
After `limit` generations in a row fail with the same kind of error the run stops, keeps what is
done, and says what the server said and what to try.
"""

from __future__ import annotations

from evalkit.types import Generation

# Requests in a row that fail the same way before a run stops sending.
DEFAULT_LIMIT = 16


def error_kind(error: str) -> str:
    """The kind of a generation error: its text up to the first colon (`http 400`, `connection`...)."""
    return error.split(":", 1)[0].strip().lower()


class FailFast:
    """Watches generations in completion order; `observe` returns True when the run should stop."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.reason: str | None = None
        self._kind: str | None = None
        self._count = 0
        self._last = ""

    def observe(self, gen: Generation) -> bool:
        """Record one finished generation; True once `limit` in a row failed with one kind of error."""
        if gen.error is None:
            self._kind, self._count = None, 0
            return False
        kind = error_kind(gen.error)
        self._count = self._count + 1 if kind == self._kind else 1
        self._kind, self._last = kind, gen.error
        if self._count < self.limit:
            return False
        self.reason = (
            f"stopped after {self._count} requests in a row failed the same way; the last: {self._last}. "
            f"{hint(self._last)}"
        )
        return True


def hint(error: str) -> str:
    """What to try for a run stopped by `error`."""
    text = error.lower()
    kind = error_kind(error)
    if "max_tokens" in text or "context length" in text or "max_model_len" in text:
        advice = "Lower --max-tokens, or raise the server's context (vLLM: --max-model-len)"
    elif kind in ("http 401", "http 403"):
        advice = "Check the API key (--api-key or OPENAI_API_KEY)"
    elif kind == "http 404":
        advice = "Check --model (the name the server serves) and --base-url"
    elif kind in ("connection", "timeout"):
        advice = "Check that the server is up and reachable at --base-url"
    else:
        advice = "Fix what the server reports"
    return f"{advice}, then rerun the same command: finished samples are kept."
