"""What a stored generation was made with besides its prompt and sampling: the generation identity.

A stored generation is reused on resume only while its prompt, its sampling settings and this
identity all match the current command. The identity is a small dict of named settings (the model,
its revision and weights, the served model's path, the chat template, the dtype, the API style, and
engine options that change outputs, like a KV-cache dtype), so a refused command can name every
setting that changed with its old and new value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from evalkit.seeds import stable_hash

# Keys of an adapter's identity() that change what the model generates. Engine versions, devices
# and parallelism are recorded in the manifest but are not part of it: the same weights under the
# same settings sample from the same distribution.
_ENGINE_KEYS = ("revision", "weights_hash", "chat_template_sha256", "dtype")


def generation_identity(model: str, api: str, engine: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that decide what is generated, from the run's model and API and the adapter's identity."""
    identity: dict[str, Any] = {"model": model, "api": api}
    identity.update({key: engine[key] for key in _ENGINE_KEYS if engine.get(key) is not None})
    served = engine.get("served_model")
    if isinstance(served, Mapping) and served.get("root"):
        identity["served_model_root"] = served["root"]
    # Engine options that change outputs (evalkit.adapters.options): only those set otherwise than by
    # default are there, so a run made without any keeps the identity it had.
    options = engine.get("generation_options")
    if isinstance(options, Mapping):
        for key, value in options.items():
            identity.setdefault(str(key), value)
    return identity


def identity_hash(identity: Mapping[str, Any]) -> str:
    """The hash stored with each generation row."""
    return stable_hash(json.dumps(dict(identity), sort_keys=True, default=str))


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """`name old -> new` for every setting that differs between two identities (or any flat dicts)."""
    return [
        f"{key} {_show(old.get(key))} -> {_show(new.get(key))}"
        for key in sorted({*old, *new})
        if old.get(key) != new.get(key)
    ]


def _show(value: Any) -> str:
    return "unset" if value is None else repr(value)
