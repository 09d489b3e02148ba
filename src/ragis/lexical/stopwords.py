"""The English stopwords the lexical index drops: short on purpose.

Function words that occur in nearly every chunk only cost postings (each is a sorted-set entry
per chunk) and add no ranking signal: BM25's idf already makes them near-worthless. The list is
the closed-class core of English (articles, pronouns, auxiliaries, prepositions, conjunctions),
not a search-engine list of hundreds: words such as "first", "system" or "value" carry meaning
in a manual and stay. Negations ("not", "no") stay too, since "not supported" is a question.
Only whole words are dropped; an identifier (`the_value`, `is-a`) is never.
"""

from __future__ import annotations

__all__ = ["ENGLISH", "for_language"]

_ENGLISH_WORDS = """
    a an the and or but if then else of at by for with about against between into through
    during before after above below to from up down in out on off over under again further
    once here there when where why how all any both each few more most other some such only
    own same so than too very can will just should would could may might must shall
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing as until while because s t d ll m o re ve y
    """
ENGLISH: frozenset[str] = frozenset(_ENGLISH_WORDS.split())


def for_language(language: str) -> frozenset[str]:
    """The stopwords of `language`: English's list; none for another language (a wrong list
    would drop real words, a missing one only costs a little memory)."""
    return ENGLISH if language == "english" else frozenset()
