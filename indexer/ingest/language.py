"""The language of an article's text, when its input names none: py3langid, offline.

py3langid's model ships inside its wheel (a naive Bayes model over byte n-grams, 97
languages) and is read once, on first use. Its confidence is a probability scaled to the
text's length, so a short text rarely reaches the threshold: below it, or below
``MIN_CHARS`` letters, the language stays unknown rather than guessed.
"""

from __future__ import annotations

import threading

# Measured on cleaned texts of the shared data (benchmarks/bench_language.py, which prints
# the table in docs/inputs.md): every ABP and BBC article is English, and cut to their first
# 60 characters or more, none was labelled another language at 0.9 or above.
MIN_CONFIDENCE = 0.9
MIN_CHARS = 40  # letters: figures, dates and punctuation say nothing of a language
# The detector reads the text's first characters only: past a few hundred the answer no
# longer changes on the shared data, and its cost grows with the length.
READ_CHARS = 2_000
# Labels that name no language: "zxx" (no linguistic content) and "und" (undetermined).
_NOT_LANGUAGES = frozenset({"zxx", "und"})

_identifier = None
_loading = threading.Lock()


def _model():
    global _identifier
    if _identifier is None:
        with _loading:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def detect(text: str) -> tuple[str | None, float]:
    """The language code of ``text`` (ISO 639-1 where there is one) and the confidence,
    or None when the text is too short or the detector is not confident enough."""
    sample = text[:READ_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_CHARS:
        return None, 0.0
    language, confidence = _model().classify(sample)
    if language in _NOT_LANGUAGES or confidence < MIN_CONFIDENCE:
        return None, confidence
    return language, confidence


def detect_language(text: str) -> str | None:
    """``detect`` without the confidence."""
    return detect(text)[0]
