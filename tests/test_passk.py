"""pass@k: the unbiased estimator, evaluate(..., samples=n) and r1gym eval --samples."""

from __future__ import annotations

import io
import itertools
import json
import math

import numpy as np
import pytest

from r1gym.baselines import GreedyAgent, MCTSAgent, RandomAgent
from r1gym.cli import main
from r1gym.evaluation import check_samples, evaluate
from r1gym.stats import mean_interval_01, pass_at_k


def brute_pass_at_k(outcomes: list[bool], k: int) -> float:
    """The share of the k-subsets of the samples that hold at least one correct one."""
    subsets = list(itertools.combinations(range(len(outcomes)), k))
    return sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_estimator_matches_brute_force(n: int) -> None:
    for c in range(n + 1):
        outcomes = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(outcomes, k), abs=1e-12), (n, c, k)
            assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)


def test_estimator_edges() -> None:
    assert pass_at_k(10, 0, 1) == 0.0 and pass_at_k(10, 0, 10) == 0.0  # c = 0
    assert pass_at_k(10, 10, 1) == 1.0 and pass_at_k(10, 10, 10) == 1.0  # c = n
    assert pass_at_k(10, 3, 8) == 1.0  # n - c = 7 < k: every 8-subset holds a correct sample
    assert pass_at_k(10, 3, 7) < 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 is c / n
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0
    # stable where the binomials overflow a float
    p = pass_at_k(5000, 1, 2500)
    assert math.isfinite(p) and p == pytest.approx(0.5)
    ks = [pass_at_k(64, 5, k) for k in range(1, 65)]
    assert all(a <= b for a, b in zip(ks, ks[1:]))  # non-decreasing in k


@pytest.mark.parametrize(
    ("n", "c", "k", "err"),
    [(0, 0, 1, ValueError), (4, 5, 1, ValueError), (4, -1, 1, ValueError), (4, 2, 5, ValueError)]
    + [(4, 2, 0, ValueError), (4.0, 2, 1, TypeError), (4, 2, 1.5, TypeError), (True, 1, 1, TypeError)],
)
def test_estimator_bad_input(n, c, k, err) -> None:
    with pytest.raises(err):
        pass_at_k(n, c, k)


def test_mean_interval_01() -> None:
    lo, hi = mean_interval_01([0.0, 1.0, 1.0, 1.0])
    assert 0.0 <= lo < 0.75 < hi <= 1.0
    assert mean_interval_01([1.0, 1.0]) == (1.0, 1.0)
    assert all(math.isnan(v) for v in mean_interval_01([0.5]))


def test_evaluate_random_agent_pass_at_k() -> None:
    rep = evaluate(RandomAgent(0), "R1Arith-v0", episodes=6, samples=5, difficulty="easy")
    assert (rep.problems, rep.samples, rep.episodes) == (6, 5, 30)
    assert list(rep.pass_at_k) == [1, 2, 3, 4, 5] and list(rep.pass_at_k_ci) == [1, 2, 3, 4, 5]
    assert rep.pass_at_k[1] == pytest.approx(rep.accuracy)
    vals = list(rep.pass_at_k.values())
    assert all(a <= b + 1e-12 for a, b in zip(vals, vals[1:]))
    for k, (lo, hi) in rep.pass_at_k_ci.items():
        assert 0.0 <= lo <= rep.pass_at_k[k] <= hi <= 1.0
    d = json.loads(json.dumps(rep.to_dict(), allow_nan=False))
    assert d["samples"] == 5 and set(d["pass_at_k"]) == {"1", "2", "3", "4", "5"}
    assert "pass@1" in rep.row() and "pass@5" in rep.row() and rep.row()["episodes"] == "6 x 5"


def test_evaluate_pass_at_k_is_reproducible_and_matches_recount() -> None:
    """Same seed, same report; the pass@k is the estimator applied to each problem's count."""
    runs = [evaluate(RandomAgent(0), "R1Arith-v0", episodes=5, samples=4, seed=3, difficulty="easy") for _ in range(2)]
    timing = {"decisions_per_second": 0, "env_steps_per_second": 0}
    assert runs[0].to_dict() | timing == runs[1].to_dict() | timing
    other = evaluate(RandomAgent(0), "R1Arith-v0", episodes=5, samples=4, seed=4, difficulty="easy")
    assert other.to_dict() | timing != runs[0].to_dict() | timing


def test_attempts_share_the_problem_and_differ_in_play(monkeypatch) -> None:
    """Every attempt at problem i resets to episode i's problem and tree; attempts differ in play."""
    import r1gym.evaluation as ev

    seen: list[tuple] = []
    real = ev._episode

    def spy(env, agent, obs, info):
        rec = real(env, agent, obs, info)
        seen.append((info["problem_index"], env.unwrapped.episode.tree_seed, rec.steps, rec.ret))
        return rec

    monkeypatch.setattr(ev, "_episode", spy)
    evaluate(RandomAgent(0), "R1Arith-v0", episodes=3, samples=6, seed=1)
    groups = [seen[i * 6 : (i + 1) * 6] for i in range(3)]
    for g in groups:
        assert len({(p, t) for p, t, _, _ in g}) == 1  # one problem, one tree
        assert len({(s, r) for _, _, s, r in g}) > 1  # different episodes
    assert len({g[0][0] for g in groups}) == 3  # three different problems
    # the same problems, in order, as the run without samples
    plain: list[int] = []
    seen.clear()
    evaluate(GreedyAgent(), "R1Arith-v0", episodes=3, seed=1)
    plain = [p for p, _, _, _ in seen]
    assert plain == [g[0][0] for g in groups]


def test_samples_one_equals_plain_run_for_a_deterministic_agent() -> None:
    a = evaluate(GreedyAgent(), "R1Arith-v0", episodes=12, seed=2)
    b = evaluate(GreedyAgent(), "R1Arith-v0", episodes=12, seed=2, samples=1)
    assert (
        a.accuracy == b.accuracy == b.pass_at_k[1] and a.mean_reward == b.mean_reward and a.mean_steps == b.mean_steps
    )
    assert a.pass_at_k == {} and a.samples == 1 and a.problems == 12  # without samples: no pass@k


def test_mcts_is_stochastic_and_sampled() -> None:
    rep = evaluate(MCTSAgent(simulations=4, seed=0), "R1Arith-v0", episodes=2, samples=2, ks=[2])
    assert list(rep.pass_at_k) == [2]


def test_specific_ks() -> None:
    rep = evaluate(RandomAgent(0), "R1Arith-v0", episodes=3, samples=4, ks=[4, 1, 2, 2])
    assert list(rep.pass_at_k) == [1, 2, 4]


@pytest.mark.parametrize(
    ("kwargs", "err", "words"),
    [
        ({"samples": 0}, ValueError, "samples must be >= 1"),
        ({"samples": -3}, ValueError, "samples must be >= 1"),
        ({"samples": 2.0}, TypeError, "samples must be an integer"),
        ({"samples": "4"}, TypeError, "samples must be an integer"),
        ({"samples": True}, TypeError, "samples must be an integer"),
        ({"samples": 4, "ks": [5]}, ValueError, "1 <= k <= samples = 4"),
        ({"samples": 4, "ks": [0]}, ValueError, "1 <= k <= samples = 4"),
        ({"samples": 4, "ks": [1.5]}, TypeError, "must be an integer"),
        ({"samples": 4, "ks": []}, ValueError, "ks is empty"),
        ({"ks": [1]}, ValueError, "needs samples"),
    ],
)
def test_evaluate_bad_input(kwargs, err, words) -> None:
    with pytest.raises(err, match=words):
        evaluate(RandomAgent(0), "R1Arith-v0", episodes=2, **kwargs)


def test_samples_side_by_side_are_the_sequential_run_for_an_agent_without_act_batch() -> None:
    """num_envs copies facing the same problem: an agent without act_batch gets a copy per
    attempt with the sequential run's stream [seed, i, j], so every figure is the same."""
    a = evaluate(RandomAgent(0), "R1Arith-v0", episodes=4, samples=6, seed=5)
    for width in (4, 6, 16):
        b = evaluate(RandomAgent(0), "R1Arith-v0", episodes=4, samples=6, seed=5, num_envs=width)
        assert b.pass_at_k == a.pass_at_k and b.mean_reward == a.mean_reward and b.mean_steps == a.mean_steps
    with pytest.raises(ValueError, match="plans through one environment"):
        evaluate(MCTSAgent(simulations=2, seed=0), "R1Arith-v0", episodes=1, samples=2, num_envs=2)


def test_samples_side_by_side_with_a_batch_agent() -> None:
    """An agent with act_batch decides the live copies in one call (stacked observations); a
    second run gives the same figures."""

    class BatchRandom(RandomAgent):
        calls: list[int] = []

        def act_batch(self, obs, infos):
            self.calls.append(len(infos))
            return np.array([self.act({"action_mask": m}, i) for m, i in zip(obs["action_mask"], infos)])

    runs = [evaluate(BatchRandom(0), "R1Arith-v0", episodes=3, samples=5, seed=2, num_envs=5) for _ in range(2)]
    assert runs[0].pass_at_k == runs[1].pass_at_k and runs[0].mean_steps == runs[1].mean_steps
    assert (runs[0].problems, runs[0].samples, runs[0].episodes) == (3, 5, 15)
    assert max(BatchRandom.calls) == 5 and min(BatchRandom.calls) >= 1  # the live copies only


def test_deterministic_agent_refused_for_several_samples() -> None:
    with pytest.raises(ValueError, match="greedy is deterministic"):
        evaluate(GreedyAgent(), "R1Arith-v0", episodes=2, samples=3)
    assert check_samples(GreedyAgent(), 1) == [1]  # one sample is fine for any agent
    assert RandomAgent.deterministic is False and MCTSAgent.deterministic is False


def test_agent_without_a_known_stream_still_reproducible() -> None:
    class Coin:
        """Stochastic through its own private generator, not named rng."""

        def __init__(self) -> None:
            self._g = np.random.default_rng(7)

        def act(self, obs, info) -> int:
            allowed = np.flatnonzero(np.asarray(obs["action_mask"]))
            return int(allowed[self._g.integers(len(allowed))])

    timing = {"decisions_per_second": 0, "env_steps_per_second": 0}
    a = evaluate(Coin(), "R1Arith-v0", episodes=3, samples=3).to_dict() | timing
    b = evaluate(Coin(), "R1Arith-v0", episodes=3, samples=3).to_dict() | timing
    assert a == b


def run(argv) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def test_cli_samples_table_and_json(tmp_path) -> None:
    js = tmp_path / "r.json"
    code, text = run(
        ["eval", "R1Arith-v0", "--agent", "random", "--episodes", "4", "--samples", "3", "--json", str(js)]
    )
    assert code == 0 and "pass@k" in text and "4 problems x 3 samples" in text
    (d,) = json.loads(js.read_text())
    assert (d["problems"], d["samples"], d["episodes"]) == (4, 3, 12) and set(d["pass_at_k"]) == {"1", "2", "3"}
    code, _ = run(["eval", "R1Arith-v0", "--agent", "random", "--episodes", "4", "--samples", "3", "--k", "3"])
    assert code == 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--samples", "0"], "samples must be >= 1"),
        (["--samples", "-2"], "samples must be >= 1"),
        (["--samples", "3", "--k", "4"], "1 <= k <= samples = 3"),
        (["--k", "2"], "--k needs --samples"),
        (["--agent", "greedy", "--samples", "3"], "greedy is deterministic"),
    ],
)
def test_cli_bad_input(argv, words, capsys) -> None:
    agent = [] if "--agent" in argv else ["--agent", "random"]
    code, _ = run(["eval", "R1Arith-v0", *agent, "--episodes", "2", *argv])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["2.5", "two"])
def test_cli_non_integer_samples(value, capsys) -> None:
    with pytest.raises(SystemExit) as e:  # argparse: usage and the reason on stderr, exit status 2
        run(["eval", "R1Arith-v0", "--agent", "random", "--samples", value])
    assert e.value.code == 2 and "invalid int value" in capsys.readouterr().err


def test_cli_num_envs(capsys) -> None:
    code, text = run(
        ["eval", "R1Arith-v0", "--agent", "random", "--episodes", "3", "--samples", "4", "--num-envs", "4"]
    )
    assert code == 0 and "3 problems x 4 samples" in text
    code, _ = run(["eval", "R1Arith-v0", "--agent", "random", "--episodes", "2", "--num-envs", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "--num-envs must be >= 1" in err and "Traceback" not in err
