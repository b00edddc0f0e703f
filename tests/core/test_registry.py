"""One registry mechanism for tasks, graders, backends and sandboxes, with plugins found through entry points.

Plugins here are real distributions as importlib.metadata finds them: a `*.dist-info` folder with
an entry_points.txt on sys.path (what pip writes). tests/plugins/ checks a pip-installed one end to end.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit.adapters.base import BACKENDS, check_backend, make_adapter
from evalkit.config import BackendConfig, RunConfig
from evalkit.errors import EvalkitError
from evalkit.graders.base import GRADERS, GraderRef, ThinkSettings, make_grader, register_grader
from evalkit.registry import Registry, file_module_name, load_target, module_from_file
from evalkit.sandbox.base import SANDBOXES, make_sandbox
from evalkit.tasks import get_task, task_names
from evalkit.testing import generation_for
from evalkit.types import Sample

PLUGIN_MODULE = """
import dataclasses

from evalkit import Adapter, DatasetSpec, Generation, Grader, Sample, Score, Task


class EchoAdapter(Adapter):
    name = "echo"

    def __init__(self, config):
        self.model = config.model

    def identity(self):
        return {"engine": "echo", "model": self.model}

    async def generate(self, requests):
        for request in requests:
            yield Generation.completed(request, request.prompt or "", finish_reason="stop")

    async def aclose(self):
        pass


def create_adapter(config):
    return EchoAdapter(config)


class NullSandbox:
    name = "null"

    def __init__(self, **options):
        self.options = options


class LengthGrader(Grader):
    name = "length"
    version = "1"

    def __init__(self, limit=3):
        self.limit = limit

    def judge(self, sample, generation, answer):
        ok = len(answer.text) <= self.limit
        return Score(1.0 if ok else 0.0, "correct" if ok else "wrong")


def plugin_task(n: int = 2) -> Task:
    return Task(
        name="plugin_task",
        version="1",
        dataset=DatasetSpec.local_jsonl("problems.jsonl"),
        record_to_sample=lambda r: Sample(id=str(r["id"]), input=r["q"], target=r["a"]),
        template="math.j2",
        grader="length",
        n=n,
    )


def misnamed() -> Task:
    return dataclasses.replace(plugin_task(), name="something_else")
"""


def write_distribution(
    site: Path, dist: str, module: str, source: str, entry_points: dict[str, dict[str, str]]
) -> None:
    """What pip leaves on disk for a distribution: the module and its .dist-info with entry points."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    groups = [
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) for group, entries in entry_points.items()
    ]
    (info / "entry_points.txt").write_text("\n".join(groups))


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed distribution `fake-plugin` adding a task, a grader, a backend and a sandbox."""
    site = tmp_path / "site"
    mod = "evalkit_fake_plugin_mod"
    write_distribution(
        site,
        "fake-plugin",
        mod,
        PLUGIN_MODULE,
        {
            "evalkit.tasks": {"plugin_task": f"{mod}:plugin_task", "misnamed": f"{mod}:misnamed"},
            "evalkit.graders": {"length": f"{mod}:LengthGrader"},
            "evalkit.adapters": {"echo": f"{mod}:create_adapter"},
            "evalkit.sandboxes": {"null": f"{mod}:NullSandbox"},
        },
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, mod, raising=False)
    yield site
    sys.modules.pop(mod, None)


def test_plugins_add_a_task_a_grader_a_backend_and_a_sandbox(plugin: Path) -> None:
    assert "plugin_task" in task_names()
    built = get_task("plugin_task", n="5")
    assert (built.name, built.n, built.grader) == ("plugin_task", 5, "length")

    assert "length" in GRADERS and GRADERS.get("length") == "evalkit_fake_plugin_mod:LengthGrader"
    grader = make_grader(GraderRef("length", {"limit": 2}))
    sample = Sample(id="1", input="q", target="a")
    gen = generation_for(sample, "abc")
    assert grader.grade(sample, gen, ThinkSettings()).verdict == "wrong"

    check_backend("echo")
    adapter = make_adapter("echo", RunConfig(model="m", tasks="aime24", backend=BackendConfig(name="echo")))
    assert type(adapter).__name__ == "EchoAdapter" and adapter.model == "m"  # type: ignore[attr-defined]

    sandbox = make_sandbox("null", unsafe_no_isolation=True)
    assert type(sandbox).__name__ == "NullSandbox"


def test_a_plugin_is_found_without_importing_it(plugin: Path) -> None:
    assert "echo" in BACKENDS.names() and "null" in SANDBOXES.names()
    assert BACKENDS.plugin("echo") is not None and BACKENDS.plugin("openai") is None
    assert "evalkit_fake_plugin_mod" not in sys.modules


def test_a_task_plugin_must_build_the_task_it_is_named_for(plugin: Path) -> None:
    with pytest.raises(EvalkitError, match="'misnamed' returned a task named 'something_else'"):
        get_task("misnamed")


def test_names_registered_in_code_take_precedence_over_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_distribution(
        tmp_path, "shadow-plugin", "evalkit_shadow_mod", "def MathGrader(**_): raise AssertionError\n",
        {"evalkit.graders": {"math": "evalkit_shadow_mod:MathGrader"}},
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    assert GRADERS.get("math") == "evalkit.graders.math:MathGrader"
    assert GRADERS.plugin("math") is None


def test_a_plugin_that_fails_to_load_names_its_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_distribution(
        tmp_path, "broken-plugin", "evalkit_broken_mod", "import evalkit_no_such_dependency\n",
        {"evalkit.graders": {"broken": "evalkit_broken_mod:Grader"}, "evalkit.tasks": {"gone": "evalkit_gone_mod:t"}},
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(EvalkitError) as failed:
        make_grader(GraderRef("broken"))
    message = str(failed.value)
    for words in (
        "grader 'broken'",
        "broken-plugin 0.1",
        "evalkit.graders",
        "evalkit_no_such_dependency",
        "pip uninstall broken-plugin",
    ):
        assert words in message, message
    with pytest.raises(
        EvalkitError, match="task 'gone' from the plugin distribution broken-plugin 0.1.*No module named"
    ):
        get_task("gone")


def test_two_distributions_claiming_one_name_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in (1, 2):
        write_distribution(
            tmp_path / f"site{i}", f"twin-{i}", f"evalkit_twin_{i}", "def create(config): return None\n",
            {"evalkit.adapters": {"twin": f"evalkit_twin_{i}:create"}},
        )  # fmt: skip
        monkeypatch.syspath_prepend(str(tmp_path / f"site{i}"))
    with pytest.raises(
        EvalkitError, match="Several installed distributions define the backend 'twin'.*twin-1 0.1.*twin-2 0.1"
    ):
        BACKENDS.load("twin")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: get_task("aime2024"), "Unknown task 'aime2024'. Known tasks: aime24, aime25"),
        (lambda: make_grader(GraderRef("mathh")), "Unknown grader 'mathh'. Known graders: choice, code"),
        (lambda: make_adapter("vlm", RunConfig(model="m", tasks="t")), "Unknown backend 'vlm'. Known backends: openai"),
        (lambda: make_sandbox("podman"), "Unknown sandbox 'podman'. Known sandboxes: docker, local"),
    ],
)
def test_unknown_names_list_the_known_ones(make: Callable[[], object], words: str) -> None:
    with pytest.raises(EvalkitError) as failed:
        make()
    assert words in str(failed.value)


def test_the_cli_refuses_an_unknown_backend_before_anything_else() -> None:
    with pytest.raises(EvalkitError, match="Unknown --backend 'vlm': use one of 'auto', .*'openai'.*'vllm'"):
        check_backend("vlm")
    check_backend("auto")


def test_register_grader_and_file_targets_reach_the_registry(tmp_path: Path) -> None:
    source = tmp_path / "my_graders.py"
    source.write_text(
        "from evalkit import Grader, Score\n\n"
        "class Constant(Grader):\n    name = 'constant'\n    version = '1'\n"
        "    def __init__(self, value=1.0):\n        self.value = value\n"
        "    def judge(self, sample, generation, answer):\n        return Score(self.value, 'correct')\n"
    )
    register_grader("test_constant", f"{source}:Constant")
    try:
        assert make_grader(GraderRef("test_constant", {"value": 0.5})).value == 0.5  # type: ignore[attr-defined]
        assert GRADERS.target("test_constant") == f"{source}:Constant"
    finally:
        GRADERS.pop("test_constant")
    assert "test_constant" not in GRADERS


def test_a_registered_target_that_fails_to_import_is_a_clear_error() -> None:
    registry: Registry[Any] = Registry(
        "widget",
        "widgets",
        "evalkit.test_widgets",
        {"w": "evalkit_no_such_module:W", "v": "evalkit.errors:EvalkitError.exit_code"},
    )
    with pytest.raises(
        EvalkitError, match=r"The widget 'w' \(evalkit_no_such_module:W\) failed to load: ModuleNotFoundError"
    ):
        registry.load("w")
    with pytest.raises(EvalkitError, match="not a factory"):
        registry.load("v")


def test_objects_register_directly_and_name_a_target_other_processes_can_load(tmp_path: Path) -> None:
    registry: Registry[Any] = Registry("widget", "widgets", "evalkit.test_widgets")
    registry.register("error", EvalkitError)
    assert registry.load("error") is EvalkitError
    assert load_target(registry.target("error")) is EvalkitError

    source = tmp_path / "widgets.py"
    source.write_text("def make():\n    return 42\n")
    module = module_from_file(source)
    registry.register("file", module.make)
    assert registry.target("file") == f"{source.resolve()}:make"
    assert load_target(registry.target("file"))() == 42


def test_a_file_module_is_imported_once_under_a_name_derived_from_its_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "same.py", tmp_path / "b" / "same.py"
    first.write_text("COUNT = [0]\nCOUNT[0] += 1\n")
    second.write_text("COUNT = [10]\n")
    assert file_module_name(first) != file_module_name(second)
    assert module_from_file(first) is module_from_file(first)
    assert module_from_file(first).COUNT == [1] and module_from_file(second).COUNT == [10]
    with pytest.raises(EvalkitError, match="not found"):
        module_from_file(tmp_path / "missing.py")
    with pytest.raises(EvalkitError, match="not an import target"):
        load_target("no_colon_here")


def test_the_doctor_reports_plugin_tasks_and_goes_on_past_a_broken_one(
    plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalkit.doctor import data_findings

    write_distribution(
        tmp_path / "broken", "broken-tasks", "evalkit_broken_tasks_mod", "import evalkit_no_such_dependency\n",
        {"evalkit.tasks": {"broken_task": "evalkit_broken_tasks_mod:t"}},
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path / "broken"))
    monkeypatch.chdir(tmp_path)
    findings = {f.name: f for f in data_findings((False, "offline"))}
    assert findings["broken_task"].status == "fail" and "broken-tasks 0.1" in findings["broken_task"].detail
    assert findings["plugin_task"].status == "warn" and "problems.jsonl is missing" in findings["plugin_task"].detail
    (tmp_path / "problems.jsonl").write_text('{"id": 1, "q": "?", "a": "!"}\n')
    assert {f.name: f for f in data_findings((False, "offline"))}["plugin_task"].status == "ok"
    assert findings["aime24"].status == "ok"
