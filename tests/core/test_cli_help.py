"""`--help` that cannot rot: `evalkit run` groups its options in panels, every command shows examples, the
`-B` help names each engine option the backends take, and every command line in the README parses."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from evalkit.adapters.options import NoEngineOptions, TransformersOptions, VllmOptions
from evalkit.cli import app
from evalkit.commands.run import run_config_fields
from evalkit.config import RunConfig

README = Path(__file__).resolve().parents[2] / "README.md"

PANELS = {
    "What to run": ["--model", "--tasks", "--limit", "--data-dir", "--data-source"],
    "Sampling": ["--n", "--temperature", "--top-p", "--max-tokens", "--max-tokens-floor", "--seed", "--send-seed"],
    "Backend and engine": [
        "--backend", "--base-url", "--api", "--concurrency", "--request-timeout", "--max-retries", "--replay",
        "--backend-option", "--tensor-parallel-size", "--dtype", "--max-model-len", "--gpu-memory-utilization",
        "--chat-template", "--enforce-eager",
    ],
    "Grading": ["--grading-workers", "--think-marker", "--think-policy"],
    "Sandbox": ["--sandbox", "--unsafe-no-isolation"],
    "Scale (Ray)": ["--ray", "--ray-address", "--replicas"],
    "Output": ["--output", "--overwrite", "--quiet"],
}  # fmt: skip


def _root() -> Any:
    return typer.main.get_command(app)


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name), command
        if hasattr(command, "list_commands"):
            yield from _commands(command, (*path, name))


def test_run_help_groups_its_options_in_panels() -> None:
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    panels: dict[str, list[str]] = {}
    current = None
    for line in result.output.splitlines():
        title = re.match(r"\s*╭─ (.+?) ─", line)
        if title:
            current = panels.setdefault(title.group(1), [])
        elif current is not None:
            current += re.findall(r"│\s+(?:\*\s+)?(--[a-z-]+)", line)
    assert {k: v for k, v in panels.items() if k != "Options"} == PANELS
    assert panels["Options"] == ["--help"]
    # Every option of the command is in a panel, and each panel lists its options in this order.
    declared = {opt for p in _root().get_command(typer.Context(_root()), "run").params for opt in p.opts}
    assert {o for o in declared if o.startswith("--")} | {"--help"} == {o for opts in panels.values() for o in opts}


def test_every_command_has_help_with_examples() -> None:
    commands = dict(_commands(_root()))
    assert {("run",), ("grade",), ("tasks",), ("report",), ("compare",), ("gate",), ("codeforces", "fetch")} <= set(
        commands
    )
    for path in commands:
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
        assert result.exit_code == 0, (path, result.output)
        assert "Example" in result.output, f"`evalkit {' '.join(path)} --help` shows no example"


def test_the_engine_option_help_names_what_each_backend_takes() -> None:
    run = _root().get_command(typer.Context(_root()), "run")
    (param,) = [p for p in run.params if "-B" in p.opts]
    listed = dict(re.findall(r"(vllm|transformers): ([a-z_, ]+)", param.help))
    for backend, model in (("vllm", VllmOptions), ("transformers", TransformersOptions)):
        assert set(listed[backend].split(", ")) == set(model.model_fields), backend


def _readme_commands() -> list[str]:
    """Full command lines of the README: those in code blocks and in the backends table."""
    text = README.read_text()
    lines: list[str] = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        block = block.replace("\\\n", " ")
        for line in block.splitlines():
            lines += [
                c.strip().removeprefix("$ ")
                for c in line.split("&&")
                if c.strip().startswith(("evalkit ", "$ evalkit "))
            ]
    lines += re.findall(r"^\|.*?\| `(evalkit run [^`]+)` \|$", text, flags=re.M)
    return lines


@pytest.mark.parametrize("line", _readme_commands())
def test_every_readme_command_line_parses(line: str) -> None:
    args = shlex.split(line, comments=True)[1:]
    command, ctx = _root(), None
    while hasattr(command, "list_commands"):
        ctx = typer.Context(command, parent=ctx, info_name=getattr(ctx, "info_name", "evalkit"))
        name, args = args[0], args[1:]
        command = command.get_command(ctx, name)
        assert command is not None, f"no command {name!r} in: {line}"
    parsed = command.make_context(command.name, list(args), parent=ctx)  # raises on an unknown option or value
    if command.name == "run":
        # The engine options given are ones the backend named takes.
        config = RunConfig.model_validate(run_config_fields(parsed.params))
        backend = config.backend.name if config.backend.name != "auto" or not config.backend.base_urls else "openai"
        options = {"vllm": VllmOptions, "transformers": TransformersOptions}.get(backend, NoEngineOptions)
        if backend != "auto":
            options.of(config, backend)


def test_the_readme_shows_the_backends_table() -> None:
    table = re.findall(r"^\|.*?\| `(evalkit run [^`]+)` \|$", README.read_text(), flags=re.M)
    assert len(table) >= 5 and any("-B " in line for line in table)
