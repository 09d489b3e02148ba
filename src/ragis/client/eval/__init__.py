"""`ragis eval`: how well a running ragis finds, over its gateway API, what a question set expects.

questions.py  the JSONL question file, validated line by line
metrics.py    one question's scores, and their aggregates per kind (pure, no I/O)
calibrate.py  the grounded threshold the best scores suggest (pure, no I/O)
run.py        asks the gateway each question in each retrieval mode, timing the stream
report.py     the summary table and the JSON object
"""

from ragis.client.eval.calibrate import Calibration, calibrate
from ragis.client.eval.metrics import NOT_FOUND_PHRASES, Cited, Outcome, Scores, summarize
from ragis.client.eval.questions import MAX_QUESTIONS, Question, load_questions
from ragis.client.eval.run import DEFAULT_MODE, MODES, evaluate, parse_modes

__all__ = [
    "DEFAULT_MODE",
    "MAX_QUESTIONS",
    "MODES",
    "NOT_FOUND_PHRASES",
    "Calibration",
    "Cited",
    "Outcome",
    "Question",
    "Scores",
    "calibrate",
    "evaluate",
    "load_questions",
    "parse_modes",
    "summarize",
]
