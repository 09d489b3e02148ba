"""The words of a question that its embedding blurs, and that a cached answer must agree on.

Embeddings place "How many vacation days in 2023?" and "... in 2024?" at cosine 0.97: close
enough for any similarity threshold that still lets paraphrases hit. So a semantic-cache hit
also needs the two questions to agree on what a similarity cannot see:

- **exact terms**, equal as sets: numbers (`3,357` = `3357`; `two` = `2`), dates (`2024-03-01`,
  `03/01/2024`, month and weekday names, `last year`), quoted strings, identifiers (`E44-4471`,
  `v2.3.1`, `5GB`, `GDPR`), negation (`not`, `no`, `never`, `without`, `-n't`, all one `not`)
  and words of one of two opposite directions (`before`/`after`, `minimum`/`maximum`, ...);
- **names**: a capitalised word not first in its sentence (`Kindle Oasis`) must appear, in any
  case, among the other question's words; a sentence's first word is capitalised by position.

Sets, not sequences: a paraphrase may reorder ("in 2024, how many ..." / "how many ... in
2024"). The exact terms travel as one hash (`key`), compared in the cache's `VSIM FILTER`; the
names are compared after it, against the candidate's stored question (`agree`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

__all__ = ["QuestionTerms", "agree", "question_terms"]

_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
    "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "hundred", "thousand": "thousand", "million": "million", "billion": "billion",
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
    "half": "half", "quarter": "quarter", "double": "double", "twice": "twice",
}  # fmt: skip
_MONTHS = {
    "january": "jan", "february": "feb", "march": "mar", "april": "apr", "june": "jun",
    "july": "jul", "august": "aug", "september": "sep", "october": "oct", "november": "nov",
    "december": "dec", "jan": "jan", "feb": "feb", "mar": "mar", "apr": "apr", "jun": "jun",
    "jul": "jul", "aug": "aug", "sep": "sep", "sept": "sep", "oct": "oct", "nov": "nov",
    "dec": "dec",
}  # fmt: skip
_DAYS = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "today", "tomorrow", "yesterday", "tonight", "weekend", "weekday", "weekdays",
}  # fmt: skip
_NEGATIONS = {
    "not", "no", "never", "without", "none", "nobody", "nothing", "neither", "nor",
    "cannot", "except", "excluding", "unless", "non",
}  # fmt: skip
# One of two opposite directions: "before the surgery" and "after the surgery" embed at 0.92.
_OPPOSITES = {
    "before", "after", "minimum", "maximum", "min", "max", "more", "less", "fewer", "most",
    "least", "higher", "lower", "highest", "lowest", "earlier", "later", "earliest", "latest",
    "above", "below", "increase", "decrease", "enable", "disable", "upload", "download",
    "import", "export", "inbound", "outbound", "incoming", "outgoing", "buy", "sell",
    "add", "remove", "allow", "deny",
}  # fmt: skip
# Words a question capitalises for reasons other than being a name.
_NOT_NAMES = {"i", "i'm", "i've", "i'd", "i'll", "ok"}

_QUOTED = re.compile(r'"([^"]{1,200})"|“([^”]{1,200})”|‘([^’]{1,200})’|`([^`]{1,200})`'
                     r"|(?<!\w)'([^']{1,200})'(?!\w)")  # fmt: skip
_DATE = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b")
_RELATIVE = re.compile(
    r"\b(last|next|this|previous|coming|past|current)\s+(week|month|year|quarter|day|weekend)\b",
    re.IGNORECASE,
)
# A word: letters, digits and the joiners inside identifiers (E44-4471, v2.3.1, 3,357, $5).
_WORD = re.compile(r"[$€£¥%]?[\w][\w'’.,/:+#-]*[\w%+#]|[$€£¥]?\w")
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"[$€£¥]?\d[\d,]*(\.\d+)?%?")


@dataclass(frozen=True, slots=True)
class QuestionTerms:
    exact: frozenset[str]  # must be equal
    names: frozenset[str]  # must each be among the other question's words
    words: frozenset[str]  # every word, lower case

    @property
    def key(self) -> str:
        """A hash of the exact terms: a fixed-size, quote-free value for a `FILTER`."""
        # ASCII escapes: a lone surrogate in a question still hashes.
        blob = json.dumps(sorted(self.exact), separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def agree(a: QuestionTerms, b: QuestionTerms) -> bool:
    """Whether an answer to one question may serve the other (besides their similarity)."""
    return a.exact == b.exact and a.names <= b.words and b.names <= a.words


def question_terms(question: str) -> QuestionTerms:
    text = question.replace("’", "'")
    exact: set[str] = set()
    for match in _QUOTED.finditer(text):
        quoted = next(g for g in match.groups() if g is not None)
        exact.add('"' + " ".join(quoted.lower().split()) + '"')
    for match in _DATE.finditer(text):
        exact.add(re.sub(r"[./]", "/", match.group()))
    text = _DATE.sub(" ", text)
    for match in _RELATIVE.finditer(text):
        exact.add(f"{match.group(1).lower()} {match.group(2).lower()}")
    words: set[str] = set()
    names: set[str] = set()
    previous_end = 0
    for i, match in enumerate(_WORD.finditer(text)):
        # A sentence's first word is capitalised by position: "Thanks. What is ...?"
        first = i == 0 or any(c in ".!?:;\n" for c in text[previous_end : match.start()])
        previous_end = match.end()
        raw = match.group().rstrip(".,/:'-")
        if not raw:
            continue
        word = raw.lower()
        if word.endswith("'s"):
            word = word[:-2]  # Saturn's rings, the rings of Saturn
        words.add(word)
        term = _exact_term(raw, word)
        if term is not None:
            exact.add(term)
        elif not first and raw[0].isupper() and word not in _NOT_NAMES:
            names.add(word)
    return QuestionTerms(frozenset(exact), frozenset(names), frozenset(words))


def _exact_term(raw: str, word: str) -> str | None:
    if word.endswith("n't") or word in _NEGATIONS:
        return "not"
    if _NUMBER.fullmatch(word):
        # 3,357 and 3357 are one number; 1.50 and 1.5 too.
        number = word.replace(",", "")
        if "." in number:
            number = number.rstrip("0").rstrip(".")
        return number
    if _DIGIT.search(word):
        return word  # an identifier: E44-4471, v2.3.1, 5GB, Q3, 2nd
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    if word in _MONTHS and (word != "mar" or raw[0].isupper()):
        return _MONTHS[word]
    if word in _DAYS or word in _OPPOSITES:
        return word
    if len(raw) >= 2 and raw.isupper() and raw.isalpha():
        return word  # an acronym: GDPR vs HIPAA, SSO vs MFA
    return None
