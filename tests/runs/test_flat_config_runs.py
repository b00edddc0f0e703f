"""Runs stored before the config had groups keep working: grade, resume, refusals, --output-less reruns, reports.

flat_config_run/ is a run directory written by the evalkit of this round before RunConfig was grouped
(`evalkit run --model scripted --base-url URL --tasks aime24 --n 2 --max-retries 1 --request-timeout 20`
against answer_script.py, on `write_problems(count=3)`): its manifest's `config` is the flat dict of
that version. Its paths and URL are placeholders filled in here.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from evalkit.cli import app
from evalkit.config import RunConfig
from evalkit.testing.server import ScriptedServer

STORED = Path(__file__).resolve().parent / "flat_config_run"
Snapshot = Callable[[Path], dict[str, bytes]]


@pytest.fixture
def data(tmp_path: Path, script: ModuleType) -> Path:
    path: Path = script.write_problems(tmp_path / "data", count=3)
    return path


def _place(out: Path, data: Path, url: str, *, status: str | None = None) -> Path:
    """The stored run at `out`, its placeholders filled in (and its status changed, if asked)."""
    shutil.copytree(STORED, out)
    text = (out / "manifest.json").read_text()
    text = text.replace("@DATA_DIR@", str(data)).replace("@OUTPUT@", str(out)).replace("@BASE_URL@", url)
    manifest = json.loads(text)
    if status is not None:
        manifest["status"] = status
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


def _flat(out: Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((out / "manifest.json").read_text())["config"]
    return config


def test_the_stored_config_is_the_flat_form_and_loads_into_groups(tmp_path: Path, data: Path) -> None:
    out = _place(tmp_path / "run", data, "http://127.0.0.1:9/v1")
    flat = _flat(out)
    assert "sampling" not in flat and flat["backend"] == "auto" and flat["max_retries"] == 1
    config = RunConfig.from_manifest(flat)
    assert (config.sampling.n, config.sampling.seed, config.backend.max_retries) == (2, 0, 1)
    assert config.backend.base_urls == ("http://127.0.0.1:9/v1",) and config.backend.request_timeout_s == 20
    assert config.backend.options == {}, "engine settings left at their defaults are not engine options"
    assert config.data_dir == data and config.grading.think_policy == "auto"


def test_grade_regrades_a_flat_config_run(tmp_path: Path, data: Path, cli: Callable[..., Result]) -> None:
    out = _place(tmp_path / "run", data, "http://127.0.0.1:9/v1")
    stored = json.loads((STORED / "summary.json").read_text())["tasks"]["aime24"]
    result = cli("grade", out, "--quiet")
    assert result.exit_code == 0, result.output
    regraded = json.loads((out / "summary.json").read_text())["tasks"]["aime24"]
    assert regraded["metrics"] == stored["metrics"] and regraded["n"] == 2


def test_a_rerun_resumes_a_flat_config_run_without_a_request(
    tmp_path: Path, data: Path, server: ScriptedServer, cli: Callable[..., Result], run_args: Callable[..., list[str]]
) -> None:
    out = _place(tmp_path / "run", data, server.url)
    before = {name: (out / name).read_bytes() for name in ("generations.jsonl", "grades.jsonl")}
    requests = server.request_count
    result = cli(*run_args(out, data, "--n", "2"))
    assert result.exit_code == 0, result.output
    assert server.request_count == requests, "a resumed run asked for samples it had"
    assert {name: (out / name).read_bytes() for name in before} == before
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["sampling"]["n"] == 2 and manifest["status"] == "complete"
    assert len(manifest["resumed_at"]) == 1


def test_a_rerun_regenerates_only_what_a_flat_config_run_lacks(
    tmp_path: Path, data: Path, server: ScriptedServer, cli: Callable[..., Result], run_args: Callable[..., list[str]]
) -> None:
    out = _place(tmp_path / "run", data, server.url)
    rows = (out / "generations.jsonl").read_text().splitlines(keepends=True)
    (out / "generations.jsonl").write_text("".join(rows[1:]))
    requests = server.request_count
    result = cli(*run_args(out, data, "--n", "2"))
    assert result.exit_code == 0, result.output
    assert server.request_count == requests + 1
    got = {json.loads(r)["sample_id"]: json.loads(r) for r in (out / "generations.jsonl").read_text().splitlines()}
    assert len((out / "generations.jsonl").read_text().splitlines()) == 6
    first = json.loads(rows[0])
    assert got[first["sample_id"]]["identity_hash"] == first["identity_hash"], "the same generation identity"


def test_a_changed_setting_is_still_refused_naming_old_and_new(
    tmp_path: Path,
    data: Path,
    server: ScriptedServer,
    cli: Callable[..., Result],
    run_args: Callable[..., list[str]],
    snapshot: Snapshot,
) -> None:
    out = _place(tmp_path / "run", data, server.url)
    before = snapshot(out)
    result = cli(*run_args(out, data, "--n", "2", "--seed", "3"))
    assert result.exit_code == 2, result.output
    assert "aime24 seed 0 -> 3" in " ".join(result.output.split())
    assert snapshot(out) == before


def test_a_rerun_without_output_finds_the_unfinished_flat_config_run(
    tmp_path: Path,
    data: Path,
    server: ScriptedServer,
    run_args: Callable[..., list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    out = _place(tmp_path / "results" / "scripted-20250101T000000Z", data, server.url, status="incomplete")
    args = run_args(out, data, "--n", "2")
    at = args.index("--output")
    del args[at : at + 2]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "results").iterdir()] == [out.name]
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_reports_read_a_flat_config_run(tmp_path: Path, data: Path, cli: Callable[..., Result]) -> None:
    from evalkit.report.html import drilldown_data
    from evalkit.report.runs import load_run

    out = _place(tmp_path / "run", data, "http://127.0.0.1:9/v1")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["config"]["think_marker"] = "Let me see."  # the report splits answers by the stored marker
    (out / "manifest.json").write_text(json.dumps(manifest))
    run = load_run(out)
    assert run.config["grading"]["think_marker"] == "Let me see." and run.config["limit"] is None
    first = drilldown_data([run], {})["aime24"]["problems"][0]["runs"][0]["samples"][0]
    assert first["answer"] == "</think>The answer is $\\boxed{181}$." and first["thinking"] == "<think>"
    html = tmp_path / "report.html"
    result = cli("report", out, "--format", "html", "--output", html)
    assert result.exit_code == 0, result.output
