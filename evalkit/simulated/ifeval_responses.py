"""IFEval responses of the simulated model: built to follow, or to break, one instruction.

Only prompts with a single instruction of a type listed in `_WRITERS` get such responses (about half
of the 541 prompts); a violating response breaks its instruction under the official loose variants
too, so strict and loose outcomes are both known. Prompts with several instructions, or with an
instruction no writer handles (response language, a non-letter `letter_frequency`), have accuracy 0
for the simulated model: it only produces responses whose thinking never closes for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Writer = Callable[[Mapping[str, Any], bool], str | None]
_FILLER = "simulated text"


def _words(count: int) -> str:
    return " ".join(["simulated"] * max(count, 0))


def _at_least(relation: str) -> bool:
    return relation == "at least"


def _count(kwargs: Mapping[str, Any], key: str, relation_key: str, follow: bool) -> int | None:
    """A count that satisfies (follow) or breaks (not follow) `relation N`; None when impossible."""
    n = int(kwargs[key])
    satisfy = _at_least(kwargs[relation_key])  # `at least N` is satisfied by more, `less than N` by fewer
    wants_more = satisfy if follow else not satisfy
    if wants_more:
        return n + 2
    return n - 1 if n >= 1 else None


def _no_comma(kw: Mapping[str, Any], follow: bool) -> str:
    return f"{_FILLER} without that mark." if follow else "one, two, three.\nfour, five, six.\nseven, eight."


def _lowercase(kw: Mapping[str, Any], follow: bool) -> str:
    text = "this is a short answer written in plain english, and every letter in it is a small letter."
    return text if follow else text.upper()


def _capital(kw: Mapping[str, Any], follow: bool) -> str:
    text = "this is a short answer written in plain english, and every letter in it is a capital letter."
    return text.upper() if follow else text


def _title(kw: Mapping[str, Any], follow: bool) -> str:
    return f"<<A Simulated Title>>\n{_FILLER}." if follow else f"{_FILLER}."


def _postscript(kw: Mapping[str, Any], follow: bool) -> str:
    return f"{_FILLER}.\n{kw['postscript_marker']} a closing note." if follow else f"{_FILLER}."


def _end_checker(kw: Mapping[str, Any], follow: bool) -> str:
    return f"{_FILLER}.\n{kw['end_phrase']}" if follow else f"{_FILLER}."


def _quotation(kw: Mapping[str, Any], follow: bool) -> str:
    return f'"{_FILLER}."' if follow else f"{_FILLER}."


def _highlights(kw: Mapping[str, Any], follow: bool) -> str:
    n = int(kw["num_highlights"])
    return " ".join(f"*highlight {i}*" for i in range(n)) if follow else f"{_FILLER}."


def _placeholders(kw: Mapping[str, Any], follow: bool) -> str:
    n = int(kw["num_placeholders"])
    return " ".join(f"[slot {i}]" for i in range(n)) if follow else f"{_FILLER}."


def _existence(kw: Mapping[str, Any], follow: bool) -> str:
    return f"{_FILLER}: " + " ".join(kw["keywords"]) + "." if follow else f"{_FILLER}."


def _forbidden(kw: Mapping[str, Any], follow: bool) -> str:
    return f"{_FILLER}." if follow else f"{_FILLER}: " + " ".join(kw["forbidden_words"]) + "."


def _frequency(kw: Mapping[str, Any], follow: bool) -> str | None:
    count = _count(kw, "frequency", "relation", follow)
    return None if count is None else " ".join([f"{_FILLER}.", *[kw["keyword"]] * count])


def _number_words(kw: Mapping[str, Any], follow: bool) -> str | None:
    count = _count(kw, "num_words", "relation", follow)
    return None if not count else _words(count)


def _number_sentences(kw: Mapping[str, Any], follow: bool) -> str | None:
    count = _count(kw, "num_sentences", "relation", follow)
    return None if not count else " ".join(["This is a sentence."] * count)


def _repeat_prompt(kw: Mapping[str, Any], follow: bool) -> str:
    return f"{kw['prompt_to_repeat']}\n{_FILLER}." if follow else f"{_FILLER}."


def _constrained(kw: Mapping[str, Any], follow: bool) -> str:
    return "My answer is yes." if follow else f"{_FILLER}."


def _json(kw: Mapping[str, Any], follow: bool) -> str:
    return '{"answer": "simulated"}' if follow else f"{_FILLER}."


def _two_responses(kw: Mapping[str, Any], follow: bool) -> str:
    return "first answer.\n******\nsecond answer." if follow else f"{_FILLER}."


def _bullets(kw: Mapping[str, Any], follow: bool) -> str | None:
    n = int(kw["num_bullets"])
    # Three extra bullets: the loose variants drop at most two lines, so they cannot reach n.
    return "\n".join(f"* item {i}" for i in range(n if follow else n + 3)) or None


def _paragraphs(kw: Mapping[str, Any], follow: bool) -> str | None:
    n = int(kw["num_paragraphs"])
    if not follow and n <= 2:
        return None  # loose variants without asterisks leave one paragraph: hard to break for small n
    return "\n***\n".join(f"paragraph {i}." for i in range(n if follow else n + 3))


def _sections(kw: Mapping[str, Any], follow: bool) -> str:
    splitter = str(kw["section_spliter"]).strip()
    n = int(kw["num_sections"])
    return "\n".join(f"{splitter} {i}\n{_FILLER}." for i in range(1, n + 1)) if follow else f"{_FILLER}."


def _nth_first_word(kw: Mapping[str, Any], follow: bool) -> str:
    n, nth, word = int(kw["num_paragraphs"]), int(kw["nth_paragraph"]), str(kw["first_word"])
    paragraphs = [f"{word if follow and i == nth else 'simulated'} paragraph." for i in range(1, n + 1)]
    return "\n\n".join(paragraphs)


def _letter_frequency(kw: Mapping[str, Any], follow: bool) -> str | None:
    letter = kw.get("letter")
    if not isinstance(letter, str) or len(letter) != 1 or not "a" <= letter.lower() <= "z":
        return None
    count = _count(kw, "let_frequency", "let_relation", follow)
    # Digits only besides the letter, so the count is exactly what is written.
    return None if count is None else " ".join([letter] * count + ["123"])


def _capital_words(kw: Mapping[str, Any], follow: bool) -> str | None:
    count = _count(kw, "capital_frequency", "capital_relation", follow)
    return None if count is None else " ".join(["WORD"] * count + ["lower", "case", "end"])


_WRITERS: dict[str, Writer] = {
    "punctuation:no_comma": _no_comma,
    "change_case:english_lowercase": _lowercase,
    "change_case:english_capital": _capital,
    "change_case:capital_word_frequency": _capital_words,
    "detectable_format:title": _title,
    "detectable_content:postscript": _postscript,
    "startend:end_checker": _end_checker,
    "startend:quotation": _quotation,
    "detectable_format:number_highlighted_sections": _highlights,
    "detectable_content:number_placeholders": _placeholders,
    "keywords:existence": _existence,
    "keywords:forbidden_words": _forbidden,
    "keywords:frequency": _frequency,
    "keywords:letter_frequency": _letter_frequency,
    "length_constraints:number_words": _number_words,
    "length_constraints:number_sentences": _number_sentences,
    "length_constraints:number_paragraphs": _paragraphs,
    "length_constraints:nth_paragraph_first_word": _nth_first_word,
    "combination:repeat_prompt": _repeat_prompt,
    "combination:two_responses": _two_responses,
    "detectable_format:constrained_response": _constrained,
    "detectable_format:json_format": _json,
    "detectable_format:number_bullet_lists": _bullets,
    "detectable_format:multiple_sections": _sections,
}


def responses(ids: Sequence[str], kwargs: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """(a response following the prompt's instruction, one breaking it), or None when not supported."""
    if len(ids) != 1 or ids[0] not in _WRITERS:
        return None
    writer = _WRITERS[ids[0]]
    follow, violate = writer(kwargs[0], True), writer(kwargs[0], False)
    return None if follow is None or violate is None else (follow, violate)
