"""`evalkit run`: its options (grouped into --help panels) become a RunConfig, then the run stage runs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from evalkit.commands.incomplete import exit_if_incomplete
from evalkit.errors import EvalkitError

RUN_HELP = """Sample, grade and summarise a model on benchmark tasks (resumable).

Examples:

* `evalkit run --model deepseek-r1-distill-qwen-7b --base-url http://127.0.0.1:8000/v1 --tasks aime24,aime25,math500`

* `evalkit run --model ./my-checkpoint --backend vllm --tasks math500@n=8 --limit 50`

* `evalkit run --model ./my-checkpoint --backend vllm -B tensor_parallel_size=2 -B max_num_seqs=128 --tasks aime24`

* `evalkit run --model m --backend replay --replay gens.jsonl --tasks aime24`

* `evalkit run --model m --base-url http://127.0.0.1:8000/v1 --tasks my_benchmark.py@n=8` (a task file of
  your own: docs/add-a-benchmark.md)

Rerunning the same command resumes: only missing samples are requested.
"""

# `evalkit run --help` panels.
WHAT, SAMPLING, BACKEND, GRADING, SANDBOX, SCALE, OUTPUT = (
    "What to run",
    "Sampling",
    "Backend and engine",
    "Grading",
    "Sandbox",
    "Scale (Ray)",
    "Output",
)


def run_config_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """RunConfig's fields from `evalkit run`'s parameters, each named for its place (`group__field`).

    The engine flags (`engine__*`) and the `-B key=value` pairs become `backend.options`, and only
    when given: the backend that runs validates them (evalkit.adapters.options).
    """
    from evalkit.adapters.options import parse_option_pairs
    from evalkit.config import RunConfig

    fields: dict[str, Any] = {}
    options = parse_option_pairs(params["backend_options"])
    for name, value in params.items():
        group, sep, field = name.partition("__")
        if group == "engine":
            if value is None:
                continue
            if field in options:
                raise EvalkitError(
                    f"Engine option '{field}' is given twice: --{field.replace('_', '-')} and -B {field}=. Give it once."
                )
            options[field] = str(value) if isinstance(value, Path) else value
        elif sep:
            fields.setdefault(group, {})[field] = value
        elif name in RunConfig.model_fields:
            fields[name] = value
    fields.setdefault("backend", {})["options"] = options
    return fields


def _invalid_values(error: ValidationError, flags: Mapping[str, str]) -> EvalkitError:
    """The refusal for option values RunConfig rejects, naming each by its flag."""

    def flag(loc: tuple[int | str, ...]) -> str:
        for end in range(len(loc), 0, -1):
            name = "__".join(map(str, loc[:end]))
            if name in flags:
                return flags[name]
        return "--" + str(loc[-1]).replace("_", "-")

    problems = "; ".join(f"{flag(x['loc'])}: {x['msg']}" for x in error.errors())
    return EvalkitError(f"invalid option value: {problems}. See --help.")


def run(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Model name (served name, Hub id or local path).", rich_help_panel=WHAT)],
    tasks: Annotated[
        str,
        typer.Option(
            help="Comma-separated tasks: names, or path/to/file.py[:name] for your own; task@n=N sets n.",
            rich_help_panel=WHAT,
        ),
    ],
    limit: Annotated[
        int | None, typer.Option(help="Only the first N problems of each task.", rich_help_panel=WHAT)
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Offline data folder (else $EVALKIT_DATA_DIR, else bundled copy or Hub).", rich_help_panel=WHAT
        ),
    ] = None,
    data_source: Annotated[
        str,
        typer.Option(
            help="auto (data dir, else the bundled copy, else the Hub) | bundled | hub.", rich_help_panel=WHAT
        ),
    ] = "auto",
    sampling__n: Annotated[
        int | None,
        typer.Option("--n", help="Samples per problem for every task (default: task's).", rich_help_panel=SAMPLING),
    ] = None,
    sampling__temperature: Annotated[
        float | None, typer.Option("--temperature", help="Default 0.6.", rich_help_panel=SAMPLING)
    ] = None,
    sampling__top_p: Annotated[
        float | None, typer.Option("--top-p", help="Default 0.95.", rich_help_panel=SAMPLING)
    ] = None,
    sampling__max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens",
            help="Max generated tokens (default 32768), fitted to the model's context.",
            rich_help_panel=SAMPLING,
        ),
    ] = None,
    sampling__max_tokens_floor: Annotated[
        int,
        typer.Option(
            "--max-tokens-floor",
            help="Refuse to run when fitting max tokens to the context leaves fewer than this.",
            rich_help_panel=SAMPLING,
        ),
    ] = 1024,
    sampling__seed: Annotated[
        int, typer.Option("--seed", help="Run seed; each sample's seed derives from it.", rich_help_panel=SAMPLING)
    ] = 0,
    sampling__send_seed: Annotated[
        bool,
        typer.Option(
            "--send-seed/--no-send-seed",
            help="Send each sample's seed (--no-send-seed: for servers that reject or mishandle it).",
            rich_help_panel=SAMPLING,
        ),
    ] = True,
    backend__name: Annotated[
        str,
        typer.Option(
            "--backend",
            help="auto|vllm|openai|transformers|replay|simulated, or a plugin's backend.",
            rich_help_panel=BACKEND,
        ),
    ] = "auto",
    backend__base_urls: Annotated[
        list[str],
        typer.Option("--base-url", help="OpenAI-compatible endpoint; repeat for several.", rich_help_panel=BACKEND),
    ] = [],  # noqa: B006
    backend__api: Annotated[
        str, typer.Option("--api", help="chat, or completions for base models.", rich_help_panel=BACKEND)
    ] = "chat",
    backend__concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", help="Requests in flight (openai); batch size (transformers).", rich_help_panel=BACKEND
        ),
    ] = 64,
    backend__request_timeout_s: Annotated[
        float,
        typer.Option("--request-timeout", help="Seconds per request before a retry.", rich_help_panel=BACKEND),
    ] = 1800.0,
    backend__max_retries: Annotated[
        int, typer.Option("--max-retries", help="Retries per request before an error row.", rich_help_panel=BACKEND)
    ] = 5,
    backend__replay: Annotated[
        Path | None,
        typer.Option("--replay", help="JSONL of generations to grade (--backend replay).", rich_help_panel=BACKEND),
    ] = None,
    backend_options: Annotated[
        list[str],
        typer.Option(
            "-B",
            "--backend-option",
            metavar="KEY=VALUE",
            help="Engine option for the backend, typed and checked by it; repeat for several. vllm: "
            "tensor_parallel_size, dtype, max_model_len, gpu_memory_utilization, chat_template, enforce_eager, "
            "max_num_seqs, enable_prefix_caching, kv_cache_dtype, quantization; transformers: dtype, "
            "max_model_len, chat_template.",
            rich_help_panel=BACKEND,
        ),
    ] = [],  # noqa: B006
    engine__tensor_parallel_size: Annotated[
        int | None,
        typer.Option("--tensor-parallel-size", help="vLLM tensor parallel size (default 1).", rich_help_panel=BACKEND),
    ] = None,
    engine__dtype: Annotated[
        str | None,
        typer.Option("--dtype", help="Engine dtype (vllm, transformers; default auto).", rich_help_panel=BACKEND),
    ] = None,
    engine__max_model_len: Annotated[
        int | None,
        typer.Option("--max-model-len", help="Engine context length (vllm, transformers).", rich_help_panel=BACKEND),
    ] = None,
    engine__gpu_memory_utilization: Annotated[
        float | None,
        typer.Option(
            "--gpu-memory-utilization", help="vLLM GPU memory fraction (default 0.9).", rich_help_panel=BACKEND
        ),
    ] = None,
    engine__chat_template: Annotated[
        Path | None,
        typer.Option(
            "--chat-template",
            help="Jinja chat template overriding the tokenizer's (vllm, transformers).",
            rich_help_panel=BACKEND,
        ),
    ] = None,
    engine__enforce_eager: Annotated[
        bool | None,
        typer.Option(
            "--enforce-eager/--no-enforce-eager",
            help="vLLM: skip graph capture (much faster start on CPU).",
            rich_help_panel=BACKEND,
        ),
    ] = None,
    grading__workers: Annotated[
        int | None,
        typer.Option("--grading-workers", help="Grading processes (default: CPU count).", rich_help_panel=GRADING),
    ] = None,
    grading__think_marker: Annotated[
        str, typer.Option("--think-marker", help="End-of-thinking marker.", rich_help_panel=GRADING)
    ] = "</think>",
    grading__think_policy: Annotated[
        str,
        typer.Option(
            "--think-policy",
            help="auto|required|none: no marker means no answer / whole text.",
            rich_help_panel=GRADING,
        ),
    ] = "auto",
    sandbox__name: Annotated[
        str, typer.Option("--sandbox", help="Sandbox for model-written code: local|docker.", rich_help_panel=SANDBOX)
    ] = "local",
    sandbox__unsafe_no_isolation: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-isolation/--no-unsafe-no-isolation",
            help="Run code without namespaces (never on shared hosts).",
            rich_help_panel=SANDBOX,
        ),
    ] = False,
    scale__ray: Annotated[
        bool, typer.Option("--ray/--no-ray", help="Scale out on a Ray cluster.", rich_help_panel=SCALE)
    ] = False,
    scale__ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray cluster address (implies --ray).", rich_help_panel=SCALE)
    ] = None,
    scale__replicas: Annotated[
        int, typer.Option("--replicas", help="Engine replicas (with --ray).", rich_help_panel=SCALE)
    ] = 1,
    output: Annotated[
        Path | None, typer.Option(help="Run directory (default `results/<model>-<time>`).", rich_help_panel=OUTPUT)
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(help="Regenerate samples made with another prompt/sampling/model.", rich_help_panel=OUTPUT),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars or table.", rich_help_panel=OUTPUT)] = False,
) -> None:
    from evalkit.adapters.base import check_backend
    from evalkit.config import RunConfig
    from evalkit.runner import run as run_eval

    check_backend(backend__name)
    try:
        config = RunConfig.model_validate(run_config_fields(ctx.params))
    except ValidationError as e:
        flags = {str(p.name): p.opts[0] for p in ctx.command.params if p.opts}
        raise _invalid_values(e, flags) from None
    exit_if_incomplete(run_eval(config, quiet=quiet))
