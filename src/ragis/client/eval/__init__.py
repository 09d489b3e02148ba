"""`ragis eval`: how well a running ragis finds, over its gateway API, what a question set expects.

questions.py  the JSONL question file, validated line by line
metrics.py    one question's scores, and their aggregates per kind (pure, no I/O)
run.py        asks the gateway each question, timing the stream
report.py     the summary table and the JSON object
"""

from ragis.client.eval.metrics import NOT_FOUND_PHRASES, Outcome, summarize
from ragis.client.eval.questions import MAX_QUESTIONS, Question, load_questions
from ragis.client.eval.run import evaluate

__all__ = [
    "MAX_QUESTIONS",
    "NOT_FOUND_PHRASES",
    "Outcome",
    "Question",
    "evaluate",
    "load_questions",
    "summarize",
]
