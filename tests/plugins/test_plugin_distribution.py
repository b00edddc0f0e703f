"""Plugins for real: build and pip-install the distributions next to this file into a throw-away
virtualenv, then run `evalkit` there. evalkit_example_plugin adds a task and a grader through entry
points (the grader runs in the grading workers); evalkit_broken_plugin fails to load."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

pytestmark = pytest.mark.slow

Evalkit = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Evalkit]:
    """A virtualenv seeing the system's packages, with evalkit from this checkout and the example plugin."""
    root = tmp_path_factory.mktemp("plugins")
    env_dir = root / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _install(python, root, "evalkit_example_plugin")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "HF_HUB_OFFLINE": "1"}

    def evalkit(*args: str | Path, cwd: Path = root) -> subprocess.CompletedProcess[str]:
        command = [str(python), "-m", "evalkit.cli", *map(str, args)]
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)

    return python, evalkit


def _install(python: Path, root: Path, name: str) -> None:
    """Build the distribution's wheel (offline: this interpreter's setuptools, no build isolation, no
    index; from a copy, so the build leaves nothing in the checkout), then pip-install it into the venv."""
    source, dist = root / "src" / name, root / "dist" / name
    shutil.copytree(HERE / name, source)
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index", "--no-build-isolation"]
    subprocess.run([*build, "-w", str(dist), str(source)], check=True, capture_output=True)
    (wheel,) = dist.glob("*.whl")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)


def test_an_installed_plugin_adds_a_task_and_a_grader(environment: tuple[Path, Evalkit], tmp_path: Path) -> None:
    python, evalkit = environment
    where = subprocess.run(
        [str(python), "-c", "import evalkit, evalkit_example_plugin; print(evalkit.__file__, evalkit_example_plugin.__file__)"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    ours, plugin = where.stdout.split()
    assert ours == str(ROOT / "evalkit" / "__init__.py") and str(python.parents[1]) in plugin

    listed = evalkit("tasks")
    assert listed.returncode == 0, listed.stderr
    assert "plugin_words" in listed.stdout and "(plugin evalkit-example-plugin)" in listed.stdout
    assert "aime24" in listed.stdout

    answers = {
        ("sky", 0): "Blue.", ("sky", 1): "It is blue", ("sky", 2): "grey",
        ("grass", 0): "Grass is green", ("grass", 1): "", ("grass", 2): "GREEN",
        ("snow", 0): "black", ("snow", 1): "black", ("snow", 2): "white.",
    }  # fmt: skip
    replay = tmp_path / "replay.jsonl"
    replay.write_text(
        "".join(
            json.dumps({"task": "plugin_words", "sample_id": sid, "sample_index": i, "text": text}) + "\n"
            for (sid, i), text in answers.items()
        )
    )
    out = tmp_path / "run"
    run = evalkit("run", "--model", "m", "--backend", "replay", "--replay", replay, "--tasks", "plugin_words",
                  "--output", out, "--quiet")  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text())["tasks"]["plugin_words"]
    # Right: sky 2 of 3, grass 2 of 3 (one empty answer), snow 1 of 3. cons@3: blue, green win; snow votes black.
    assert summary["metrics"]["pass@1"]["value"] == pytest.approx((2 + 2 + 1) / 9)
    assert summary["metrics"]["cons@3"]["value"] == pytest.approx(2 / 3)
    assert summary["rates"]["no_answer"] == pytest.approx(1 / 9)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tasks"]["plugin_words"]["grader"]["name"] == "last_word"
    assert manifest["tasks"]["plugin_words"]["dataset"]["source"] == "local"

    graded = evalkit("grade", out, "--quiet")
    assert graded.returncode == 0, graded.stderr
    assert json.loads((out / "summary.json").read_text())["tasks"]["plugin_words"]["metrics"] == summary["metrics"]


def test_a_plugin_that_fails_to_load_says_which_distribution(environment: tuple[Path, Evalkit], tmp_path: Path) -> None:
    python, evalkit = environment
    _install(python, tmp_path, "evalkit_broken_plugin")
    try:
        run = evalkit("run", "--model", "m", "--backend", "replay", "--replay", tmp_path / "none.jsonl",
                      "--tasks", "broken_words", "--output", tmp_path / "run")  # fmt: skip
        assert run.returncode == 2, run.stderr
        message = " ".join(run.stderr.split())
        for words in ("task 'broken_words'", "evalkit-broken-plugin 0.2.0", "evalkit_dependency_that_is_not_installed",
                      "pip uninstall evalkit-broken-plugin"):  # fmt: skip
            assert words in message, message
        assert not (tmp_path / "run").exists(), "a refused command writes nothing"

        listed = evalkit("tasks")
        assert listed.returncode == 2
        assert "plugin_words" in listed.stdout and "broken_words" in listed.stdout
        assert "1 task(s) cannot be built: broken_words" in " ".join(listed.stderr.split())
    finally:
        subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "evalkit-broken-plugin"], check=True)
