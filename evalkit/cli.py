"""The `evalkit` command line: a thin typer layer over runner, regrade, report and gate.

Exit codes: 0 success, 1 a gate found a regression, 2 bad usage or bad input (with a message),
3 a run (or re-grade) that ended incomplete: samples failed to generate or to grade, or the run
stopped early; what is done is kept and rerunning the same command retries the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from evalkit.errors import EvalkitError

F = TypeVar("F", bound=Callable[..., Any])
err_console = Console(stderr=True)


@functools.cache
def task_command_groups() -> dict[str, TyperGroup]:
    """The command groups benchmarks add through `Task.commands` (e.g. a data download step), by name."""
    from evalkit.tasks import get_task, task_names

    groups: dict[str, TyperGroup] = {}
    for name in task_names():
        try:
            commands = get_task(name).commands
        except EvalkitError:
            continue  # a task that needs options to be built adds no commands
        if commands is not None:
            group = typer.main.get_group(commands())
            groups[group.name or name] = group
    return groups


class _Commands(TyperGroup):
    """evalkit's own commands, then the benchmarks' groups, which load the tasks only when asked for.

    `ctx` and the command are click's types, which typer re-exports under no stable public name
    (recent typer versions vendor click): hence Any.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        own = super().list_commands(ctx)
        return own + sorted(name for name in task_command_groups() if name not in own)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return super().get_command(ctx, cmd_name) or task_command_groups().get(cmd_name)


app = typer.Typer(
    name="evalkit",
    cls=_Commands,
    help="Evaluate reasoning models with the DeepSeek-R1 protocol: AIME, MATH-500, GPQA-Diamond, "
    "LiveCodeBench, Codeforces and IFEval, with error bars.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)


def handles_errors(fn: F) -> F:
    """Turn EvalkitError and config validation errors into a message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EvalkitError as e:
            # Messages hold literal brackets (pip install 'evalkit[vllm]'): not rich markup.
            err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
            raise typer.Exit(e.exit_code) from None
        except ValidationError as e:
            problems = "; ".join(f"--{'.'.join(map(str, x['loc'])).replace('_', '-')}: {x['msg']}" for x in e.errors())
            err_console.print(
                f"[bold red]error:[/] invalid option value: {escape(problems)}. See --help.", highlight=False
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


INCOMPLETE_EXIT_CODE = 3


def exit_if_incomplete(run_dir: Path) -> None:
    """Exit 3, saying why and what to do, when the run directory's summary is incomplete."""
    from evalkit.store import RunDir

    store = RunDir(run_dir)
    manifest, summary = store.manifest(), store.summary()
    if manifest.get("status") == "complete" and summary.get("complete"):
        return
    reasons = [f"{task}: {entry['error']}" for task, entry in summary.get("tasks", {}).items() if entry.get("error")]
    if manifest.get("stopped"):
        reasons.insert(0, str(manifest["stopped"]))
    err_console.print(
        f"[bold red]incomplete:[/] {escape(' '.join(reasons) or 'the run did not finish.')} "
        f"Everything finished is kept in {escape(str(run_dir))}; rerun the same command to retry the rest.",
        highlight=False,
    )
    raise typer.Exit(INCOMPLETE_EXIT_CODE)


RUN_HELP = """Sample, grade and summarise a model on benchmark tasks (resumable).

Examples:

* `evalkit run --model deepseek-r1-distill-qwen-7b --base-url http://127.0.0.1:8000/v1 --tasks aime24,aime25,math500`

* `evalkit run --model ./my-checkpoint --backend vllm --tasks math500@n=8 --limit 50`

* `evalkit run --model m --backend replay --replay gens.jsonl --tasks aime24`

* `evalkit run --model m --base-url http://127.0.0.1:8000/v1 --tasks my_benchmark.py@n=8` (a task file of
  your own: docs/add-a-benchmark.md)

Rerunning the same command resumes: only missing samples are requested.
"""


@app.command(help=RUN_HELP)
@handles_errors
def run(
    model: Annotated[str, typer.Option(help="Model name (served name, Hub id or local path).")],
    tasks: Annotated[
        str,
        typer.Option(help="Comma-separated tasks: names, or path/to/file.py[:name] for your own; task@n=N sets n."),
    ],
    backend: Annotated[
        str, typer.Option(help="auto|vllm|openai|transformers|replay|simulated, or a plugin's backend.")
    ] = "auto",
    base_url: Annotated[list[str], typer.Option(help="OpenAI-compatible endpoint; repeat for several.")] = [],  # noqa: B006
    api: Annotated[str, typer.Option(help="chat, or completions for base models.")] = "chat",
    n: Annotated[int | None, typer.Option(help="Samples per problem for every task (default: task's).")] = None,
    temperature: Annotated[float | None, typer.Option(help="Default 0.6.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Default 0.95.")] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Max generated tokens (default 32768), fitted to the model's context.")
    ] = None,
    max_tokens_floor: Annotated[
        int, typer.Option(help="Refuse to run when fitting max tokens to the context leaves fewer than this.")
    ] = 1024,
    seed: Annotated[int, typer.Option(help="Run seed; each sample's seed derives from it.")] = 0,
    send_seed: Annotated[
        bool, typer.Option(help="Send each sample's seed (--no-send-seed: for servers that reject or mishandle it).")
    ] = True,
    limit: Annotated[int | None, typer.Option(help="Only the first N problems of each task.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Offline data folder (else $EVALKIT_DATA_DIR, else bundled copy or Hub).")
    ] = None,
    data_source: Annotated[
        str, typer.Option(help="auto (data dir, else the bundled copy, else the Hub) | bundled | hub.")
    ] = "auto",
    output: Annotated[Path | None, typer.Option(help="Run directory (default results/<model>-<time>).")] = None,
    concurrency: Annotated[int, typer.Option(help="Concurrent requests (openai backend).")] = 64,
    request_timeout: Annotated[float, typer.Option(help="Seconds per request before a retry.")] = 1800.0,
    max_retries: Annotated[int, typer.Option(help="Retries per request before an error row.")] = 5,
    think_marker: Annotated[str, typer.Option(help="End-of-thinking marker.")] = "</think>",
    think_policy: Annotated[
        str, typer.Option(help="auto|required|none: no marker means no answer / whole text.")
    ] = "auto",
    grading_workers: Annotated[int | None, typer.Option(help="Grading processes (default: CPU count).")] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Regenerate samples made with another prompt/sampling/model.")
    ] = False,
    replay: Annotated[Path | None, typer.Option(help="JSONL of generations to grade (--backend replay).")] = None,
    tensor_parallel_size: Annotated[int, typer.Option(help="vLLM tensor parallel size.")] = 1,
    dtype: Annotated[str, typer.Option(help="Engine dtype (vllm, transformers).")] = "auto",
    max_model_len: Annotated[int | None, typer.Option(help="vLLM max model length.")] = None,
    gpu_memory_utilization: Annotated[float, typer.Option(help="vLLM GPU memory fraction.")] = 0.9,
    chat_template: Annotated[Path | None, typer.Option(help="Jinja chat template overriding the tokenizer's.")] = None,
    enforce_eager: Annotated[bool, typer.Option(help="vLLM: skip graph capture (much faster start on CPU).")] = False,
    replicas: Annotated[int, typer.Option(help="Engine replicas (with --ray).")] = 1,
    ray: Annotated[bool, typer.Option(help="Scale out on a Ray cluster.")] = False,
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address (implies --ray).")] = None,
    sandbox: Annotated[str, typer.Option(help="Sandbox for model-written code: local|docker.")] = "local",
    unsafe_no_isolation: Annotated[
        bool, typer.Option(help="Run code without namespaces (never on shared hosts).")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars or table.")] = False,
) -> None:
    from evalkit.adapters.base import check_backend
    from evalkit.config import RunConfig
    from evalkit.runner import run as run_eval

    check_backend(backend)
    config = RunConfig.model_validate(
        {
            "model": model,
            "tasks": tasks,
            "backend": backend,
            "base_urls": tuple(base_url),
            "api": api,
            "n": n,
            "temperature": temperature,
            "top_p": top_p,
            "max_tokens": max_tokens,
            "max_tokens_floor": max_tokens_floor,
            "seed": seed,
            "send_seed": send_seed,
            "limit": limit,
            "data_dir": data_dir,
            "data_source": data_source,
            "output": output,
            "concurrency": concurrency,
            "request_timeout_s": request_timeout,
            "max_retries": max_retries,
            "think_marker": think_marker,
            "think_policy": think_policy,
            "grading_workers": grading_workers,
            "overwrite": overwrite,
            "replay": replay,
            "tensor_parallel_size": tensor_parallel_size,
            "dtype": dtype,
            "max_model_len": max_model_len,
            "gpu_memory_utilization": gpu_memory_utilization,
            "chat_template": chat_template,
            "enforce_eager": enforce_eager,
            "replicas": replicas,
            "ray": ray or ray_address is not None,
            "ray_address": ray_address,
            "sandbox": sandbox,
            "unsafe_no_isolation": unsafe_no_isolation,
        }
    )
    exit_if_incomplete(run_eval(config, quiet=quiet))


@app.command(help="Re-grade a run's stored generations with the current graders (never calls a model).\n\n"
             "Example: `evalkit grade results/my-model-20250101T000000Z`")  # fmt: skip
@handles_errors
def grade(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by evalkit run.")],
    data_dir: Annotated[Path | None, typer.Option(help="Offline data folder, if it moved since the run.")] = None,
    workers: Annotated[int | None, typer.Option(help="Grading processes (default: CPU count).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
) -> None:
    from evalkit.regrade import regrade

    regrade(run_dir, data_dir=data_dir, workers=workers, quiet=quiet)
    exit_if_incomplete(run_dir)


TASKS_HELP = """List the tasks with their defaults: evalkit's, installed plugins' (entry point group
`evalkit.tasks`), or those a task file defines.

Examples:

* `evalkit tasks`

* `evalkit tasks examples/local_math/local_math.py`
"""


@app.command(name="tasks", help=TASKS_HELP)
@handles_errors
def list_tasks(
    file: Annotated[
        Path | None, typer.Argument(help="A task file: list the tasks it defines (run them with --tasks FILE).")
    ] = None,
) -> None:
    from rich.table import Table

    from evalkit.tasks import TASKS, TaskSpec, file_tasks, task_names

    if file is None:
        specs = [TaskSpec(name) for name in task_names()]
    else:
        specs = [TaskSpec(name, file=str(file.absolute())) for name in file_tasks(file)]
    table = Table(title=f"tasks in {file}" if file is not None else "evalkit tasks")
    for col in ("task", "n", "max tokens", "T", "top-p", "grader", "description"):
        table.add_column(col)
    broken: list[str] = []
    for spec in specs:
        plugin = TASKS.plugin(spec.name) if spec.file is None else None
        source = f" (plugin {plugin.dist.name})" if plugin is not None and plugin.dist is not None else ""
        try:
            t = spec.build()
        except EvalkitError as e:
            broken.append(f"{spec.name}: {e}")
            table.add_row(spec.name, "", "", "", "", "", escape(f"cannot be built{source}: {e}"))
            continue
        description = escape(t.description + source)
        table.add_row(spec.name, str(t.n), str(t.max_tokens), str(t.temperature), str(t.top_p), t.grader, description)
    Console().print(table)
    if broken:
        raise EvalkitError(f"{len(broken)} task(s) cannot be built: " + " ".join(broken))


def _register_optional_commands() -> None:
    # Report, gate, doctor and selfcheck each live in their own module under evalkit/commands/.
    from evalkit.commands import doctor, gate, report, selfcheck

    app.command(name="report")(handles_errors(report.report))
    app.command(name="selfcheck", help=selfcheck.SELFCHECK_HELP)(handles_errors(selfcheck.selfcheck))
    app.command(name="doctor", help=doctor.DOCTOR_HELP)(handles_errors(doctor.doctor))
    app.command(name="compare")(handles_errors(gate.compare))
    app.command(name="gate")(handles_errors(gate.gate))


_register_optional_commands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
