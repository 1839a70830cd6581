"""Chat messages: the one parser from a reply to an action, and an episode as a conversation."""

from __future__ import annotations

import gymnasium as gym
import pytest

from r1gym.core.actions import parse_action_text
from r1gym.errors import EpisodeOverError, InvalidActionError
from r1gym.integrations.chat import (
    ChatEpisode,
    WriteModeUnavailableError,
    render,
    state_text,
    system_message,
)

K = 4  # expand 0..3, backtrack 4, submit 5

LENIENT = [
    ("<submit>", 5),
    ("  <SUBMIT>\n", 5),
    ("< expand_2 >", 2),
    ("<Expand-3>", 3),
    ("<backtrack>", 4),
    ("Action: submit", 5),
    ("action:submit", 5),
    ("**Action:** expand 1", 1),
    ("Action = 3", 3),
    ("I am sure the path is done, so <submit> it is.", 5),
    ("<expand_0>\n\nExplanation: it is the most confident step and the arithmetic checks out.", 0),
    ("Let me think. 12 + 4 = 16 looks right.\nAction: <expand_1>", 1),
    ("submit", 5),
    ("Submit. The answer is 42.", 5),
    ("Backtrack, the last step was wrong", 4),
    ("expand 2 because it is right", 2),
    ("expand_2", 2),
    ("[3] looks best", 3),
    ("3", 3),
    (" 5. ", 5),
    ("<expand_1> ... yes, <expand_1>", 1),  # the same action twice is one action
    ("Action: submit\n<submit>", 5),
]


@pytest.mark.parametrize("reply, action", LENIENT)
def test_lenient(reply, action):
    parsed = parse_action_text(reply, K)
    assert parsed.ok and parsed.action == action, parsed


STRICT = [
    ("<expand_0> or maybe <submit>", "ambiguous"),
    ("Action: backtrack\n<submit>", "ambiguous"),
    ("<expand_1> then <expand_2>", "ambiguous"),
    ("<expand_4>", "out_of_range"),  # K = 4: expand 0..3
    ("<expand_15>", "out_of_range"),
    ("Action: expand 9", "out_of_range"),
    ("6", "out_of_range"),  # the menu is 0..5
    ("", "none"),
    ("   ", "none"),
    ("I am not sure what to do.", "none"),
    ("The answer is 42.", "none"),
    ("3 + 4 = 7", "none"),  # a step that starts with a number is not an action
    ("42 is the answer", "none"),
    ("I should submit now", "none"),  # no token, no Action: line, not leading
    ("submitted", "none"),
    ("<submitt>", "none"),
]


@pytest.mark.parametrize("reply, status", STRICT)
def test_strict(reply, status):
    parsed = parse_action_text(reply, K)
    assert parsed.action is None and parsed.status == status and parsed.detail, parsed


def test_parser_arguments():
    with pytest.raises(TypeError):
        parse_action_text(None, K)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        parse_action_text("<submit>", 0)
    assert parse_action_text("<expand_15>", 16).action == 15


# -- the conversation -----------------------------------------------------------------------------------


def test_messages_and_state():
    chat = ChatEpisode("R1Math-v0")
    messages, info = chat.reset(seed=0)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "<expand_i>" in messages[0]["content"] and "<submit>" in messages[0]["content"]
    assert messages[0] == system_message(4, 40)
    user = messages[1]["content"]
    assert user.startswith(chat.obs["context"]) and user == chat.state
    assert "<backtrack>" not in user  # masked at the root
    assert info["invalid_replies"] == 0 and info["turns"] == 0
    messages, reward, terminated, truncated, info = chat.step("<expand_0>")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "Step 1:" in messages[-1]["content"] and "<backtrack>" in messages[-1]["content"]
    messages, *_ = chat.step("<backtrack>")
    assert "(tried)" in messages[-1]["content"]


def test_same_seed_same_conversation():
    def play():
        chat = ChatEpisode("R1Arith-v0")
        chat.reset(seed=7, options={"problem_index": 3})
        for reply in ["<expand_1>", "nonsense", "Action: backtrack", "<expand_0>", "<submit>"]:
            *_, done, trunc, info = chat.step(reply)
            if done or trunc:
                break
        return chat.messages, info

    assert play() == play()


def test_a_reply_that_names_no_action_is_a_counted_invalid_action():
    chat = ChatEpisode("R1Math-v0")
    chat.reset(seed=1)
    before = dict(chat.obs), chat.state
    for n, reply in enumerate(["What a nice problem.", "<expand_0> or <expand_1>", "<expand_9>"], start=1):
        messages, reward, terminated, truncated, info = chat.step(reply)
        assert (reward, terminated, truncated) == (-0.05, False, False)
        assert info["invalid_reply"] and info["invalid_action"] and info["invalid_replies"] == n
        assert info["parse_status"] in ("none", "ambiguous", "out_of_range") and info["invalid_reason"]
        assert messages[-1]["content"].startswith("That reply is not a valid move")
        assert chat.state == before[1]  # nothing changed
    messages, reward, terminated, truncated, info = chat.step("<submit>")
    assert terminated and info["invalid_replies"] == 3 and info["turns"] == 4 and not info["invalid_reply"]
    assert "reward_terms" in info
    with pytest.raises(EpisodeOverError):
        chat.step("<submit>")


def test_invalid_replies_count_toward_the_step_limit():
    chat = ChatEpisode(gym.make("R1Math-v0", obs_mode="text", max_episode_steps=5))
    chat.reset(seed=0)
    results = [chat.step("hmm") for _ in range(5)]
    assert [r[3] for r in results] == [False] * 4 + [True]  # truncated at the fifth move
    assert results[-1][4]["invalid_replies"] == 5
    with pytest.raises(EpisodeOverError):
        chat.step("<submit>")


def test_masked_menu_action_is_the_env_s_invalid_action():
    chat = ChatEpisode("R1Math-v0")
    chat.reset(seed=0)
    messages, reward, terminated, truncated, info = chat.step("<backtrack>")  # at the root
    assert info["invalid_action"] and not info["invalid_reply"] and reward == -0.05
    assert messages[-1]["content"].startswith("That move is not allowed here")


def test_invalid_action_raise_mode_raises():
    chat = ChatEpisode("R1Math-v0", invalid_action="raise")
    chat.reset(seed=0)
    with pytest.raises(InvalidActionError, match="names no action"):
        chat.step("hello")


def test_no_action_as_an_error_changes_nothing():
    chat = ChatEpisode("R1Math-v0", on_no_action="error")
    messages, _ = chat.reset(seed=0)
    n = len(messages)
    with pytest.raises(WriteModeUnavailableError, match="write mode"):
        chat.step("Elif sells 40 tickets.")
    assert len(chat.messages) == n and chat.turns == 0
    assert chat.step("<expand_0> <expand_1>")[4]["invalid_reply"]  # two actions stay an invalid move


def test_step_action_and_arguments():
    chat = ChatEpisode("R1Math-v0")
    chat.reset(seed=0)
    messages, *_ = chat.step_action(2)
    assert messages[-2] == {"role": "assistant", "content": "<expand_2>"}
    for bad, err in [(True, TypeError), ("1", TypeError), (6, ValueError), (-1, ValueError)]:
        with pytest.raises(err):
            chat.step_action(bad)
    with pytest.raises(ValueError, match="obs_mode"):
        ChatEpisode("R1Math-v0", obs_mode="vector")
    with pytest.raises(ValueError, match="obs_mode"):
        ChatEpisode(gym.make("R1Math-v0"))
    with pytest.raises(ValueError, match="on_no_action"):
        ChatEpisode("R1Math-v0", on_no_action="ignore")
    with pytest.raises(TypeError):
        state_text({"context": [1], "action_mask": [1, 1]})


# -- rendering with a tokenizer's chat template (built offline) ------------------------------------------

TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(scope="module")
def tokenizer():
    pytest.importorskip("transformers")
    from r1gym.tokenizer import load_tokenizer

    tok = load_tokenizer()  # r1gym's shipped tokenizer file: nothing is downloaded
    tok.chat_template = TEMPLATE
    return tok


def test_render_with_a_chat_template(tokenizer):
    chat = ChatEpisode("R1Arith-v0", tokenizer=tokenizer)
    messages, _ = chat.reset(seed=0)
    text = chat.prompt()
    assert text.startswith("<|system|>You solve a problem") and text.endswith("<|assistant|>")
    assert f"<|user|>{messages[1]['content']}<|end|>" in text
    chat.step("<expand_0>")
    assert "<|assistant|><expand_0><|end|>" in chat.prompt()
    ids = tokenizer(chat.prompt())["input_ids"]
    assert tokenizer.convert_tokens_to_ids("<expand_0>") in ids  # the action token stays one id
    assert render(messages, tokenizer, add_generation_prompt=False).endswith("<|end|>\n")


def test_render_without_a_template(tokenizer):
    messages = [{"role": "user", "content": "hi"}]
    assert render(messages) == "<|user|>\nhi\n<|assistant|>\n"
    tokenizer.chat_template = None
    try:
        with pytest.raises(ValueError, match="no chat template"):
            render(messages, tokenizer)
    finally:
        tokenizer.chat_template = TEMPLATE


# -- write mode: a reply that names no action is the model's own step ------------------------------
@pytest.mark.parametrize(
    ("reply", "k", "expected"),
    [
        ("24", 4, ("none", None)),  # a number is a step, not a menu action
        ("Action: 3", 4, ("none", None)),
        ("Submit.", 0, ("ok", 1)),  # K = 0: backtrack 0, submit 1
        ("backtrack", 0, ("ok", 0)),
        ("Submit the total: 3 + 4 = 7", 4, ("none", None)),
        ("<expand_1>", 0, ("out_of_range", None)),
        ("<expand_1>", 4, ("ok", 1)),
        ("<backtrack> or <submit>", 0, ("ambiguous", None)),
    ],
)
def test_the_parser_in_write_mode(reply: str, k: int, expected: tuple) -> None:
    parsed = parse_action_text(reply, k, write=True)
    assert (parsed.status, parsed.action) == expected, parsed


def test_a_write_mode_chat_episode_judges_the_replies() -> None:
    chat = ChatEpisode("R1Arith-v0", action_mode="write", num_candidates=0, reveal=True)
    messages, info = chat.reset(seed=3)
    assert "writing your own reasoning" in messages[0]["content"] and "<expand_" not in messages[0]["content"]
    assert messages[1]["content"].endswith("Reply with your next step, or one action.")
    labels = []
    for reply in ("42 ÷ 3 = 14", "14 + 12 = 26", "26 * 5 = 130", "130 * 3 = 390", "390 / 10 = 39. The answer is 39."):
        messages, reward, terminated, truncated, info = chat.step(reply)
        labels.append(info["step_label"])
        assert messages[-2] == {"role": "assistant", "content": reply} and not info["invalid_reply"]
    assert labels == ["correct"] * 5
    _, reward, terminated, _, info = chat.step("  <SUBMIT> because it is done")
    assert terminated and info["is_correct"] and reward > 0.7 and info["invalid_replies"] == 0


def test_write_mode_step_action_writes_the_token() -> None:
    chat = ChatEpisode("R1Math-v0", action_mode="write", reveal=True)
    chat.reset(seed=0)
    messages, *_, info = chat.step_action(0)
    assert messages[-2]["content"] == "<expand_0>" and info["depth"] == 1
