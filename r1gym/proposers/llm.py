"""The LLM proposer: K next steps sampled from a causal language model, scored by its log-probabilities.

``gym.make("R1Math-v0", proposer="llm", proposer_kwargs={"model": "/path/to/model"})`` samples
the candidates of every node from a ``transformers`` causal LM: a local directory (loaded with
``local_files_only=True``: nothing is downloaded) or a model object with its tokenizer.

**Prompt.** The question and the path so far, laid out as the text observation's context
(``Step i: ...`` lines) under a one-line instruction, ending with ``Step n:`` so that the model
writes step n; for code problems (``answer_mode="program"``) the program so far, so that the
model writes the next line. ``prompt_fn(problem, texts) -> str`` replaces it (a chat template,
few-shot examples).

**Sampling.** One batched ``generate`` call per node with ``num_return_sequences=K``, stopped at
the end of the first non-blank line (or ``<eos>``, or ``max_new_tokens``). A candidate is that
line; empty lines and duplicates are dropped, so a node may show fewer than K candidates.

**Confidence.** A candidate's score is its length-normalized log-probability under the model:
the mean over its tokens (the one that ends the line included) of ``log p(token | prefix)``,
read from the raw logits (before temperature or top-p), so the score is the model's own
judgement whatever the sampling settings. The confidences are ``softmax(score / score_temperature)``
over the candidates of the node, as DESIGN.md defines confidence.

**Determinism.** The sampling seed of a node comes from the node's generator, which the
environment keys on (tree seed, path), mixed with ``seed``: a node gets the same candidates
whatever order the tree is explored in, lookahead included. ``generate`` takes no
``torch.Generator``, so sampling runs inside ``torch.random.fork_rng`` seeded with that seed: the
global torch random state is the same afterwards (do not sample from two threads at once).
Results are reproducible on one device and software stack, not across CPU and GPU.

**Answers and verification.** A step that says "The answer is X" completes the path with the
answer X (:func:`parse_answer`: the text after the last "The answer is", up to the end of that
sentence). The environment submits it and judges it with the problem's verifier against the
reference answer, as for any proposer. An unfinished path submits the last number of its last
step (the environment's rule).

**On the reference path.** A free-text step has no program behind it, so whether it follows the
reference solution is unknown. The convention here: *a step is on the path until it is known to
be wrong*, that is, until a step states an answer the verifier rejects (``kind="sampled"``
for every candidate). Hence, with this proposer, ``info["on_path"]`` means "not known to be
wrong", ``left_path`` and the error-recovery rate count episodes that took a step stating a
wrong answer (and recovered from it), and ``oracle_action`` is the first candidate not known to
be wrong (backtrack after a wrong answer): a hint, not an oracle (the oracle agent does not
score 1.0). Steps of code problems never state an answer: their paths count as on the path
until submitted.
"""

from __future__ import annotations

import difflib
import math
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from r1gym.core.problem import ANSWER_PREFIX, Problem
from r1gym.core.text import last_number_in_text, to_ascii
from r1gym.core.tree import Candidate, PathState
from r1gym.core.verify import get_verifier
from r1gym.proposers.procedural import PRESETS

DEFAULT_INSTRUCTION = (
    'Solve the problem step by step, one step a line. The last step says "The answer is" and the answer.'
)
INSTALL_HINT = "pip install 'r1gym[llm]' (install torch first with: pip install torch==2.13.0)"
_ANSWER = re.compile(re.escape(ANSWER_PREFIX), re.IGNORECASE)
_SENTENCE_END = re.compile(r"\.(?:\s|$)")
_PRINTABLE = frozenset(string.printable)


# -- parsing and verification (no torch needed) --------------------------------------------------
def parse_answer(text: str) -> str | None:
    """The answer a step states: the text after its last "The answer is", to the end of that sentence.

    >>> parse_answer("So 6 * 7 = 42. The answer is 42."), parse_answer("The answer is: $3.50. Done")
    ('42', '$3.50')
    >>> parse_answer("the answer is 12 m/s"), parse_answer("6 * 7 = 42.") is None
    ('12 m/s', True)
    """
    last = None
    for last in _ANSWER.finditer(text):  # noqa: B007  (the loop keeps the last match)
        pass
    if last is None:
        return None
    rest = text[last.end() :].lstrip(" :\t")
    end = _SENTENCE_END.search(rest)
    answer = (rest[: end.start()] if end else rest).strip()
    return answer or None


def path_answer(texts: Sequence[str]) -> str:
    """The answer a path submits: the last stated answer, else the last number of the last step."""
    for t in reversed(texts):
        answer = parse_answer(t)
        if answer is not None:
            return answer
    return last_number_in_text(texts[-1]) if texts else ""


def verify_path(problem: Problem, texts: Sequence[str]) -> bool:
    """Whether the answer of a free-text path (:func:`path_answer`) is accepted by the problem's verifier."""
    answer = path_answer(texts)
    return bool(answer) and get_verifier(problem.verifier)(answer, problem.answer, problem)


def step_prompt(problem: Problem, texts: Sequence[str], instruction: str = DEFAULT_INSTRUCTION) -> str:
    """The text the model continues to write the next step of the path ``texts``.

    The question and ``Step i: ...`` lines (the text observation's context) under ``instruction``,
    ending with ``Step n:``; for code problems the program so far.
    """
    if problem.answer_mode == "program":
        return problem.program_text(tuple(texts))
    lines = [instruction, ""] if instruction else []
    lines.append(problem.question)
    lines += [f"Step {i}: {t}" for i, t in enumerate(texts, 1)]
    lines.append(f"Step {len(texts) + 1}:")
    return "\n".join(lines)


def first_line(text: str, keep_indent: bool = False) -> str:
    """The first non-blank line of ``text``, folded into the observation's charset (printable ASCII)."""
    for line in text.split("\n"):
        if line.strip():
            line = line.rstrip() if keep_indent else line.strip()
            return "".join(c if c in _PRINTABLE else "?" for c in to_ascii(line))
    return ""


def _line_done(text: str) -> bool:
    """A newline after some text: the step is written (leading blank lines do not count)."""
    return "\n" in text.lstrip()


# -- configuration ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LLMConfig:
    """Settings of the LLM proposer (every field can be given in ``proposer_kwargs``).

    Attributes:
        num_candidates: K, the samples drawn per node (the env's ``num_candidates``; default the
            difficulty preset's).
        temperature: sampling temperature (> 0).
        top_p: nucleus sampling mass in (0, 1]; 1 turns it off.
        top_k: keep the k most likely tokens; 0 turns it off.
        max_new_tokens: longest step, in tokens.
        seed: mixed into every node's sampling seed (another seed, another tree).
        score_temperature: temperature of the softmax that turns scores into confidences.
        instruction: the line above the question in the prompt ("" for none).
        prompt_fn: ``prompt_fn(problem, texts) -> str`` replaces :func:`step_prompt`.
        device: torch device ("cpu", "cuda", "cuda:1"); default: the model object's device, or
            "cpu" for a path.
        dtype: for a path, the dtype to load the weights in ("float32", "bfloat16", "auto").
    """

    num_candidates: int = 4
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    max_new_tokens: int = 48
    seed: int = 0
    score_temperature: float = 1.0
    instruction: str = DEFAULT_INSTRUCTION
    prompt_fn: Callable[[Problem, tuple[str, ...]], str] | None = None
    device: str | None = None
    dtype: str | None = None

    def validate(self) -> LLMConfig:
        if not 2 <= self.num_candidates <= 16:
            raise ValueError(f"num_candidates must be between 2 and 16, got {self.num_candidates}")
        for name in ("temperature", "score_temperature"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        if not (isinstance(self.top_p, (int, float)) and 0 < self.top_p <= 1):
            raise ValueError(f"top_p must lie in (0, 1], got {self.top_p!r}")
        for name, low in (("top_k", 0), ("max_new_tokens", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an integer, got {self.seed!r}")
        if not isinstance(self.instruction, str):
            raise TypeError(f"instruction must be a string, got {type(self.instruction).__name__}")
        if self.prompt_fn is not None and not callable(self.prompt_fn):
            raise TypeError("prompt_fn must be a callable prompt_fn(problem, texts) -> str")
        return self


CONFIG_FIELDS = tuple(f.name for f in fields(LLMConfig))
#: Keys ``proposer_kwargs`` accepts with ``proposer="llm"`` (K is the env's ``num_candidates``).
OPTIONS = ("model", "tokenizer") + tuple(f for f in CONFIG_FIELDS if f != "num_candidates")


class Sample(NamedTuple):
    """One sampled continuation: the step line, its mean token log-probability, how it ended."""

    text: str
    score: float
    num_tokens: int
    stopped: bool  # ended with a newline or <eos> (False: cut at max_new_tokens)


# -- the proposer ------------------------------------------------------------------------------------
class LLMProposer:
    """Proposes K sampled next steps per node; see the module docstring.

    Args:
        model: a local model directory (loaded with ``AutoModelForCausalLM.from_pretrained(path,
            local_files_only=True)``) or a causal LM object (put in eval mode).
        tokenizer: a tokenizer object or directory; default: the model directory's. Needed with
            a model object (``r1gym.tokenizer.load_tokenizer()`` for a model built on r1gym's).
        config: an :class:`LLMConfig`; ``**options`` override its fields.
    """

    name = "llm"

    def __init__(self, model: Any, tokenizer: Any = None, config: LLMConfig | None = None, **options: Any) -> None:
        unknown = [k for k in options if k not in CONFIG_FIELDS]
        if unknown:
            raise TypeError(_unknown_message(unknown, CONFIG_FIELDS))
        self.config = replace(config or LLMConfig(), **options).validate()
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise ImportError(f"proposer='llm' needs torch and transformers: {INSTALL_HINT}") from e
        self._torch = torch
        cfg = self.config
        if isinstance(model, (str, Path)):
            path = Path(model).expanduser()
            if not path.is_dir():
                raise FileNotFoundError(
                    f"LLM proposer: model directory {str(model)!r} does not exist. r1gym never downloads: pass a "
                    "local directory made by save_pretrained (config.json and weights), or a model object"
                )
            load_kwargs: dict[str, Any] = {"local_files_only": True}
            if cfg.dtype is not None:
                dtype = cfg.dtype if cfg.dtype == "auto" else getattr(torch, str(cfg.dtype), None)
                if not (dtype == "auto" or isinstance(dtype, torch.dtype)):
                    raise ValueError(
                        f"dtype must be 'auto' or a torch dtype name ('float32', 'bfloat16'), got {cfg.dtype!r}"
                    )
                load_kwargs["dtype"] = dtype
            model_obj = AutoModelForCausalLM.from_pretrained(str(path), **load_kwargs)
            if tokenizer is None:
                tokenizer = path
            device = torch.device(cfg.device or "cpu")
            model_obj = model_obj.to(device)
        else:
            if not (callable(getattr(model, "generate", None)) and hasattr(model, "config")):
                raise TypeError(
                    "LLM proposer: model must be a local directory or a transformers causal LM, "
                    f"got {type(model).__name__}"
                )
            if tokenizer is None:
                raise ValueError(
                    "LLM proposer: with a model object, pass its tokenizer too: proposer_kwargs={'model': m, "
                    "'tokenizer': tok} (r1gym.tokenizer.load_tokenizer() for a model built on r1gym's vocabulary)"
                )
            model_obj = model
            if cfg.device is not None:
                device = torch.device(cfg.device)
                model_obj = model_obj.to(device)
            else:
                device = next(model_obj.parameters()).device
        if isinstance(tokenizer, (str, Path)):
            if not Path(tokenizer).exists():
                raise FileNotFoundError(f"LLM proposer: tokenizer path {str(tokenizer)!r} does not exist")
            tokenizer = AutoTokenizer.from_pretrained(str(tokenizer), local_files_only=True)
        if not callable(getattr(tokenizer, "decode", None)):
            raise TypeError(f"LLM proposer: tokenizer must be a transformers tokenizer, got {type(tokenizer).__name__}")
        self.model = model_obj.eval()
        self.tokenizer = tokenizer
        self.device = device
        self._eos = _eos_ids(model_obj, tokenizer)
        pad = tokenizer.pad_token_id
        self._pad = pad if pad is not None else (self._eos[0] if self._eos else 0)
        mc = model_obj.config
        self._max_positions = getattr(mc, "max_position_embeddings", None) or getattr(mc, "n_positions", None)
        if self._max_positions is not None and cfg.max_new_tokens >= self._max_positions:
            raise ValueError(
                f"max_new_tokens ({cfg.max_new_tokens}) must be below the model's {self._max_positions} positions"
            )

    def __deepcopy__(self, memo: dict) -> LLMProposer:
        # Stateless between nodes: a copy (gymnasium deep-copies a spec's kwargs) shares the model.
        return self

    # -- public ---------------------------------------------------------------------------
    def propose(
        self, problem: Problem, state: PathState, texts: tuple[str, ...], rng: np.random.Generator
    ) -> tuple[list[Candidate], np.ndarray]:
        """Candidates for the node at ``state`` (path ``texts``) and their confidences (float32, sum 1)."""
        if state.complete:
            return [], np.zeros(0, dtype=np.float32)
        cfg = self.config
        node_seed = int(rng.integers(0, 2**63))
        seed = int(np.random.SeedSequence([node_seed, cfg.seed & (2**64 - 1)]).generate_state(1, np.uint64)[0])
        prompt = (
            cfg.prompt_fn(problem, texts) if cfg.prompt_fn is not None else step_prompt(problem, texts, cfg.instruction)
        )
        program = problem.answer_mode == "program"
        verifier = None if program else get_verifier(problem.verifier)
        candidates: list[Candidate] = []
        scores: list[float] = []
        seen: set[str] = set()
        for s in self.sample(prompt, seed, keep_indent=program):
            if not s.text or s.text in seen:
                continue
            seen.add(s.text)
            answer = None if program else parse_answer(s.text)
            on_path = state.on_path
            if answer is not None and on_path:
                on_path = bool(verifier(answer, problem.answer, problem))  # type: ignore[misc]
            child = PathState(state.pos + 1, state.slots, on_path, answer is not None, answer)
            candidates.append(Candidate(s.text, child, "sampled"))
            scores.append(s.score / cfg.score_temperature)
        if not candidates:
            return [], np.zeros(0, dtype=np.float32)
        top = max(scores)
        weights = [math.exp(x - top) for x in scores]
        total = sum(weights)
        return candidates, np.array([w / total for w in weights], dtype=np.float32)

    def sample(self, prompt: str, seed: int, keep_indent: bool = False) -> list[Sample]:
        """K continuations of ``prompt`` in one batched ``generate`` call, each cut to its first line.

        Deterministic for a given ``seed``; leaves the global torch random state as it was.
        """
        torch = self._torch
        cfg = self.config
        tok = self.tokenizer
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        if self._max_positions is not None:
            ids = ids[:, -(self._max_positions - cfg.max_new_tokens) :]
        ids = ids.to(self.device)
        n_prompt = ids.shape[1]
        stop = _LineStop(tok, n_prompt, self._eos)
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                do_sample=True,
                temperature=float(cfg.temperature),
                top_p=float(cfg.top_p),
                top_k=cfg.top_k,
                max_new_tokens=cfg.max_new_tokens,
                num_return_sequences=cfg.num_candidates,
                pad_token_id=self._pad,
                eos_token_id=self._eos or None,
                stopping_criteria=[stop],
                return_dict_in_generate=True,
                output_logits=True,
            )
        new = out.sequences[:, n_prompt:]
        logp = torch.stack([torch.log_softmax(x.float(), dim=-1) for x in out.logits], dim=1)  # (K, T, V)
        token_logp = logp.gather(-1, new[:, : logp.shape[1], None]).squeeze(-1).cpu()
        rows = new.cpu().tolist()
        samples = []
        for j, row in enumerate(rows):
            n, stopped = stop.length(row)
            n = min(n, token_logp.shape[1])
            text = tok.decode(row[:n], skip_special_tokens=True)
            score = float(token_logp[j, :n].mean()) if n else -math.inf
            samples.append(Sample(first_line(text, keep_indent), score, n, stopped))
        return samples


class _LineStop:
    """Stops a sequence at the end of its first non-blank line or at ``<eos>`` (a stopping criterion).

    Stateless: ``generate`` may copy it; :meth:`length` finds the same stop afterwards.
    """

    def __init__(self, tokenizer: Any, n_prompt: int, eos: Sequence[int]) -> None:
        self.tokenizer = tokenizer
        self.n_prompt = n_prompt
        self.eos = frozenset(eos)

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        new = input_ids[:, self.n_prompt :].tolist()
        done = [
            bool(r) and (r[-1] in self.eos or _line_done(self.tokenizer.decode(r, skip_special_tokens=True)))
            for r in new
        ]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    def length(self, row: list[int]) -> tuple[int, bool]:
        """Tokens of ``row`` up to the one that ends the step, and whether one did."""
        for t, token in enumerate(row):
            if token in self.eos or _line_done(self.tokenizer.decode(row[: t + 1], skip_special_tokens=True)):
                return t + 1, True
        return len(row), False


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    """End-of-sequence ids of the tokenizer and of the model's generation config, in that order."""
    found: list[int] = []
    gen = getattr(model, "generation_config", None)
    for v in (tokenizer.eos_token_id, getattr(gen, "eos_token_id", None)):
        for i in v if isinstance(v, (list, tuple)) else [v]:
            if i is not None and int(i) not in found:
                found.append(int(i))
    return found


def _unknown_message(unknown: Sequence[str], valid: Sequence[str]) -> str:
    hint = difflib.get_close_matches(unknown[0], valid, n=1)
    did = f" Did you mean {hint[0]!r}?" if hint else ""
    extra = " (K is the environment's num_candidates argument)" if "num_candidates" in unknown else ""
    return f"unknown LLM proposer option(s) {sorted(unknown)}{extra}.{did} Valid: {list(valid)}"


def make_llm_proposer(difficulty: str, num_candidates: int | None, kwargs: Mapping[str, Any]) -> LLMProposer:
    """The proposer behind ``proposer="llm"``: ``kwargs`` are the env's ``proposer_kwargs``.

    The difficulty only sets the default K (its preset's ``num_candidates``).
    """
    if difficulty not in PRESETS:
        raise ValueError(f"unknown difficulty {difficulty!r}; valid: {sorted(PRESETS)}")
    unknown = [k for k in kwargs if k not in OPTIONS]
    if unknown:
        raise TypeError(_unknown_message(unknown, OPTIONS))
    options = dict(kwargs)
    if options.get("model") is None:
        raise ValueError(
            "proposer='llm' needs proposer_kwargs={'model': '/path/to/local/model'} or "
            "{'model': model_object, 'tokenizer': tokenizer}"
        )
    model = options.pop("model")
    tokenizer = options.pop("tokenizer", None)
    k = num_candidates if num_candidates is not None else PRESETS[difficulty].num_candidates
    return LLMProposer(model, tokenizer, num_candidates=k, **options)


__all__ = [
    "DEFAULT_INSTRUCTION",
    "OPTIONS",
    "LLMConfig",
    "LLMProposer",
    "Sample",
    "first_line",
    "make_llm_proposer",
    "parse_answer",
    "path_answer",
    "step_prompt",
    "verify_path",
]
