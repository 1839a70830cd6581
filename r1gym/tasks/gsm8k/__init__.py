"""GSM8K (grade-school math) from a local JSONL file or the ``datasets`` library.

Nothing of GSM8K ships with r1gym: point the task at the data (``GSM8KTask(data_path=...)``, the
``train.jsonl`` / ``test.jsonl`` of https://github.com/openai/grade-school-math, or the
environment variable ``R1GYM_GSM8K_PATH``), or install ``datasets`` and leave ``data_path`` out
to load ``gsm8k`` / ``main`` from the Hugging Face Hub.

Each line is ``{"question": str, "answer": str}``; the answer is the solution, one step a line,
with calculator annotations, and ends with the final answer::

    Natalia sold 48/2 = <<48/2=24>>24 clips in May.
    Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.
    #### 72

Each ``<<expr=result>>`` becomes a step of a :class:`~r1gym.core.problem.Program`, so that
distractors and every branch after a wrong step are re-derived as in ``R1Math-v0``; a solution
whose annotations cannot make one is served as plain text with ``distractors="numbers"``. One
concern a file:

* :mod:`~r1gym.tasks.gsm8k.data`: reading the file or the Hub, and folding the text into ASCII;
* :mod:`~r1gym.tasks.gsm8k.expressions`: an annotation's expression, its shape and the
  ``"gsm8k:"`` operation registered for it (:func:`op_from_name` builds one from its name,
  the factory ``r1gym.tasks`` names for a problem unpickled in a fresh process);
* :mod:`~r1gym.tasks.gsm8k.annotations`: a solution's annotations made into a program, or
  plain-text steps and the reason;
* :mod:`~r1gym.tasks.gsm8k.task`: :class:`GSM8KTask`, which parses the records.

Operations are registered when a problem needs them, never when the package is imported.
"""

from __future__ import annotations

from r1gym.tasks.gsm8k.annotations import (
    LAST_DIFFERS,
    NO_ANNOTATION,
    RESULT_MISMATCH,
    Annotation,
    build_program,
    text_steps,
)
from r1gym.tasks.gsm8k.data import ENV_VAR, HINT, fold
from r1gym.tasks.gsm8k.expressions import (
    OP_PREFIX,
    Shape,
    evaluate,
    op_from_name,
    op_name,
    parse_expression,
    shape_op,
    shape_text,
    siblings,
)
from r1gym.tasks.gsm8k.task import ANSWER_MARK, GSM8KTask

__all__ = [
    "ANSWER_MARK",
    "ENV_VAR",
    "HINT",
    "LAST_DIFFERS",
    "NO_ANNOTATION",
    "OP_PREFIX",
    "RESULT_MISMATCH",
    "Annotation",
    "GSM8KTask",
    "Shape",
    "build_program",
    "evaluate",
    "fold",
    "op_from_name",
    "op_name",
    "parse_expression",
    "shape_op",
    "shape_text",
    "siblings",
    "text_steps",
]
