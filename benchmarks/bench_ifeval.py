"""IFEval grading throughput and agreement: evalkit vs lm-eval's implementation (when lm-eval is installed).

Data: the 541 IFEval prompts of ../shared/data with `--n` synthetic responses each. A response is a
few paragraphs of plain text that follows each of its prompt's instructions with probability 1/2
(keywords, title, postscript, bullets, highlights, sections, case, JSON, quotes, end phrase, ...), so
both implementations see passes and failures of every checker.

Timed, on the same responses in the same run:
- lm-eval: `lm_eval.tasks.ifeval.utils.process_results` in a loop, one process (the baseline);
- evalkit, one process: `IFEvalGrader.grade` in a loop (the same work, like for like);
- evalkit, GradingPool: the path `evalkit run` / `evalkit grade` take, `--workers` processes.
Agreement: the share of responses whose prompt-level strict and loose results, and whose
per-instruction results, are the same in both.

lm-eval is optional (never an evalkit dependency): `pip install --no-deps lm-eval` is enough, since only
its IFEval files are loaded. Its module downloads NLTK punkt data at import unless NLTK already finds
it, which fails offline; evalkit's lookup (evalkit/ifeval/nlp.py) makes the installed copy findable
first. Without lm-eval the table says "skipped" and why.

Run: python benchmarks/bench_ifeval.py [--n 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import random
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.graders.base import GraderRef, ThinkSettings
from evalkit.graders.ifeval import IFEvalGrader
from evalkit.graders.jobs import GradeJob, GradingPool
from evalkit.graders.pool import LocalGradingPool
from evalkit.types import Generation, Sample, Score

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data"
WORDS = [
    "the",
    "river",
    "valley",
    "held",
    "a",
    "small",
    "town",
    "where",
    "people",
    "traded",
    "grain",
    "and",
    "stories",
    "about",
    "distant",
    "mountains",
    "while",
    "travelers",
    "rested",
    "near",
    "the",
    "old",
    "bridge",
    "before",
    "continuing",
    "their",
    "long",
    "journey",
    "north",
]

Result = tuple[bool, bool, list[bool], list[bool]]  # prompt strict, prompt loose, inst strict, inst loose


@dataclass(frozen=True)
class Item:
    row: dict[str, Any]
    sample: Sample
    response: str


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randrange(6, 16))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randrange(2, 6)))


def respond(row: dict[str, Any], rng: random.Random) -> str:
    """A plain response that follows each instruction of `row` with probability 1/2."""
    ids, kwargs = (
        row["instruction_id_list"],
        [{k: v for k, v in (kw or {}).items() if v is not None} for kw in row["kwargs"]],
    )
    follow = {i: rng.random() < 0.5 for i in ids}
    paragraphs = [_paragraph(rng) for _ in range(rng.randrange(2, 6))]
    prefix, suffix, separator = "", "", "\n\n"
    for instruction, kw in zip(ids, kwargs, strict=True):
        if not follow[instruction]:
            continue
        kind = instruction.split(":", 1)[1]
        if kind in ("existence", "frequency") and kw.get("keywords" if kind == "existence" else "keyword"):
            words = kw.get("keywords") or [kw["keyword"]] * int(kw.get("frequency", 1))
            paragraphs[0] += " " + " ".join(f"We mention {w}." for w in words)
        elif kind == "title":
            prefix = "<<A Journey North>>\n\n" + prefix
        elif kind == "postscript":
            suffix += f"\n\n{kw.get('postscript_marker', 'P.S.')} Thanks for reading."
        elif kind == "number_bullet_lists":
            paragraphs.append("\n".join(f"* {_sentence(rng)}" for _ in range(int(kw.get("num_bullets", 3)))))
        elif kind == "number_highlighted_sections":
            paragraphs[0] += " " + " ".join(f"*highlight {i}*" for i in range(int(kw.get("num_highlights", 1))))
        elif kind == "multiple_sections":
            spliter = kw.get("section_spliter", "Section")
            paragraphs = [f"{spliter} {i + 1}\n{_paragraph(rng)}" for i in range(int(kw.get("num_sections", 2)))]
        elif kind == "number_paragraphs":
            paragraphs = [_paragraph(rng) for _ in range(int(kw.get("num_paragraphs", 2)))]
            separator = "\n\n***\n\n"
        elif kind == "number_placeholders":
            paragraphs[-1] += " " + " ".join(f"[place {i}]" for i in range(int(kw.get("num_placeholders", 1))))
        elif kind == "end_checker":
            suffix += "\n" + str(kw.get("end_phrase", ""))
        elif kind == "repeat_prompt":
            prefix = str(kw.get("prompt_to_repeat", "")) + "\n" + prefix
        elif kind == "two_responses":
            paragraphs = [paragraphs[0], "******", _paragraph(rng)]
        elif kind == "constrained_response":
            paragraphs.append("My answer is yes.")
        elif kind == "no_comma":
            paragraphs = [p.replace(",", "") for p in paragraphs]
        elif kind == "number_words" and kw.get("relation") == "at least":
            paragraphs += [_paragraph(rng) for _ in range(int(kw.get("num_words", 0)) // 40 + 1)]
    text = prefix + separator.join(paragraphs) + suffix
    if rng.random() < 0.3:
        text = text.replace(".", ", and so on.", 1)
    if follow.get("change_case:english_lowercase"):
        text = text.lower()
    if follow.get("change_case:english_capital"):
        text = text.upper()
    if follow.get("detectable_format:json_format"):
        text = "```json\n" + json.dumps({"answer": text}) + "\n```"
    if follow.get("startend:quotation"):
        text = f'"{text}"'
    return text.strip()


def load_items(data_dir: Path, n: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    rows = [json.loads(line) for line in (data_dir / "ifeval" / "input_data.jsonl").open() if line.strip()]
    items = []
    for row in rows:
        kwargs = [{k: v for k, v in (kw or {}).items() if v is not None} for kw in row["kwargs"]]
        sample = Sample(
            id=str(row["key"]),
            input=row["prompt"],
            target="",
            metadata={"instruction_id_list": list(row["instruction_id_list"]), "kwargs": kwargs},
        )
        items += [Item(row, sample, respond(row, rng)) for _ in range(n)]
    return items


def _nltk_punkt_tab(root: Path) -> None:
    """Write NLTK's punkt_tab/english files under `root` from evalkit's checked tables; NLTK searches `root`."""
    import nltk
    from nltk.tabdata import TabEncoder

    from evalkit.ifeval.nlp import punkt_parameters

    params, encode = punkt_parameters(), TabEncoder()
    folder = root / "tokenizers" / "punkt_tab" / "english"
    folder.mkdir(parents=True)
    (folder / "collocations.tab").write_text(encode.tups2tab(sorted(params.collocations)) + "\n")
    (folder / "sent_starters.txt").write_text(encode.set2txt(sorted(params.sent_starters)) + "\n")
    (folder / "abbrev_types.txt").write_text(encode.set2txt(sorted(params.abbrev_types)) + "\n")
    (folder / "ortho_context.tab").write_text(encode.ivdict2tab(dict(sorted(params.ortho_context.items()))) + "\n")
    nltk.data.path.insert(0, str(root))


def lm_eval_ifeval() -> tuple[Callable[..., dict[str, Any]] | None, str]:
    """lm-eval's `process_results` for IFEval, or None and the reason it cannot be used here."""
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        return None, "lm-eval is not installed (`pip install --no-deps lm-eval` is enough)"
    from evalkit.errors import EvalkitError
    from evalkit.ifeval.nlp import ensure_punkt

    try:
        ensure_punkt()
    except EvalkitError as e:
        return None, f"NLTK punkt data not found ({e})"
    # lm-eval's module calls nltk.download at import unless NLTK finds punkt_tab, and the download
    # fails offline: NLTK gets the same verified English tables evalkit uses, in a data dir of its own.
    _nltk_punkt_tab(Path(tempfile.mkdtemp(prefix="evalkit-nltk-")))
    # lm_eval.tasks/__init__ imports the whole task manager (datasets, evaluate, ...); the IFEval files
    # need none of it, so a bare package with the same path stands in for it.
    # Its checkers log a warning per text langdetect cannot classify; the table is what matters here.
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    tasks = types.ModuleType("lm_eval.tasks")
    tasks.__path__ = [str(Path(spec.submodule_search_locations[0]) / "tasks")]
    sys.modules.setdefault("lm_eval.tasks", tasks)
    try:
        module = importlib.import_module("lm_eval.tasks.ifeval.utils")
    except Exception as e:  # any import-time failure of an optional third-party module is a skip reason
        return None, f"lm-eval's IFEval module does not import: {type(e).__name__}: {e}"
    from importlib.metadata import version

    return module.process_results, f"lm-eval {version('lm_eval')}"


def _from_lm_eval(out: dict[str, Any]) -> Result:
    return (
        bool(out["prompt_level_strict_acc"]),
        bool(out["prompt_level_loose_acc"]),
        list(out["inst_level_strict_acc"]),
        list(out["inst_level_loose_acc"]),
    )


def _from_score(score: Score) -> Result:
    strict, loose = list(score.details["strict"]), list(score.details["loose"])
    return all(strict), all(loose), strict, loose


def _generation(item: Item, index: int) -> Generation:
    return Generation("ifeval", "1", item.sample.id, index, index, "", text=item.response, finish_reason="stop")


def run_lm_eval(process: Callable[..., dict[str, Any]], items: Sequence[Item]) -> list[Result]:
    return [_from_lm_eval(process(item.row, [item.response])) for item in items]


def run_in_process(items: Sequence[Item]) -> list[Result]:
    grader, think = IFEvalGrader(), ThinkSettings()
    return [_from_score(grader.grade(item.sample, _generation(item, i), think)) for i, item in enumerate(items)]


def run_pool(items: Sequence[Item], pool: GradingPool) -> list[Result]:
    ref, think = GraderRef("ifeval"), ThinkSettings()
    futures = [pool.submit(GradeJob(ref, it.sample, _generation(it, i), think)) for i, it in enumerate(items)]
    return [_from_score(f.result()) for f in futures]


def timed(fn: Callable[[], list[Result]], rounds: int) -> tuple[float, list[Result]]:
    best, out = float("inf"), []
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("EVALKIT_DATA_DIR", DEFAULT_DATA)))
    parser.add_argument("--n", type=int, default=4, help="responses per prompt")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=2, help="best of this many timings per side")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    if not (data_dir / "ifeval" / "input_data.jsonl").is_file():
        print(f"error: {data_dir} has no ifeval/input_data.jsonl; pass --data-dir", file=sys.stderr)
        return 2
    items = load_items(data_dir, args.n, args.seed)
    process, about = lm_eval_ifeval()
    load = os.getloadavg()[0]
    # First calls load punkt, langdetect profiles and regexes: done before any clock starts.
    run_in_process(items[:20])
    if process is not None:
        run_lm_eval(process, items[:20])
    ours_s, ours = timed(lambda: run_in_process(items), args.rounds)
    with LocalGradingPool(args.workers) as pool:
        run_pool(items[: 4 * args.workers], pool)
        pool_s, pooled = timed(lambda: run_pool(items, pool), args.rounds)
    if pooled != ours:
        raise SystemExit("evalkit's pool and in-process grading disagree: a bug")
    print(f"IFEval: {len(items)} synthetic responses ({args.n} per prompt), best of {args.rounds}\n")
    print(
        "| implementation | responses/s | ratio to lm-eval | prompt-level agreement (strict / loose) | instruction-level agreement |"
    )
    print("|---|---:|---:|---:|---:|")
    if process is None:
        print(f"| lm-eval (baseline) | skipped: {about} | | | |")
        base_rate = None
    else:
        lm_s, theirs = timed(lambda: run_lm_eval(process, items), args.rounds)
        base_rate = len(items) / lm_s
        print(f"| {about} `process_results`, 1 process (baseline) | {base_rate:.0f} | 1.00 | | |")
    rows = [("evalkit `IFEvalGrader`, 1 process", ours_s), (f"evalkit GradingPool, {args.workers} workers", pool_s)]
    for name, seconds in rows:
        rate = len(items) / seconds
        if base_rate is None:
            print(f"| {name} | {rate:.0f} | | | |")
            continue
        strict = sum(a[0] == b[0] for a, b in zip(ours, theirs, strict=True)) / len(items)
        loose = sum(a[1] == b[1] for a, b in zip(ours, theirs, strict=True)) / len(items)
        inst = sum(a[2:] == b[2:] for a, b in zip(ours, theirs, strict=True)) / len(items)
        print(f"| {name} | {rate:.0f} | {rate / base_rate:.2f} | {strict:.1%} / {loose:.1%} | {inst:.1%} |")
    if base_rate is not None:
        differ: Counter[str] = Counter()
        for item, a, b in zip(items, ours, theirs, strict=True):
            ids = item.sample.metadata["instruction_id_list"]
            differ.update(i for i, x, y, u, v in zip(ids, a[2], b[2], a[3], b[3], strict=True) if (x, u) != (y, v))
        listed = ", ".join(f"{i} ({c})" for i, c in differ.most_common()) or "none"
        print(f"\nInstructions graded differently (responses): {listed}")
        print(
            "(letter_frequency with a `letter` that is not a letter: the official code, and lm-eval, check a "
            "random letter drawn unseeded, so their verdict changes from run to run; evalkit seeds that draw.)"
        )
    passed = sum(r[0] for r in ours) / len(ours)
    print(f"\nShare of responses following all instructions (strict, evalkit): {passed:.1%}")
    print(f"1-minute load average before / after: {load:.1f} / {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
