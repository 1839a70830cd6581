"""DQN (stable-baselines3) with r1gym's prioritized replay on an r1gym environment.

    python agents/dqn_per.py --env-id R1Math-v0 --total-timesteps 100000 --out runs/dqn_per
    python agents/dqn_per.py --uniform --out runs/dqn_uniform      # the same with uniform replay

Transitions are drawn from ``r1gym.replay.PrioritizedDictReplayBuffer`` with probability
``P(i) = (|delta_i| + eps)^omega / sum_j (|delta_j| + eps)^omega``, ``omega = 0.7`` (the buffer's
``alpha``), and each sample's Huber loss is weighted by its importance weight
``w_i = (p_min / p_i)^beta``, beta annealed to 1 over the run. SB3's ``DQN.train`` does neither,
so :class:`r1gym.replay.dqn.DQNPER` overrides it: the same step, plus the weights and the
write-back of the new TD errors through ``update_priorities``. ``--uniform`` swaps in
``r1gym.replay.NStepDictReplayBuffer`` (SB3's uniform sampling, the same n-step returns, the
same loss with every weight 1) for the replay comparison.

The levers that make it learn R1Math-v0 (all on by default; docs/results.md, section 4,
measures each; ``--no-mask --no-double-q --no-dueling --n-steps 1 --step-cost 0`` is the plain
DQN of earlier versions, which loops to the step limit and never learns the task):

* ``--mask``: greedy actions, epsilon-greedy exploration (a uniform valid action per copy), the
  warm-up's random actions and the TD target's max skip what ``action_mask`` forbids; the
  policy (``MaskedDQNPolicy``) masks by itself, so the saved model masks when evaluated;
* ``--n-steps 3``: n-step TD targets, cut at the end of an episode, in both buffers;
* ``--step-cost 0.01``: subtracted from every stored reward (the environment's own reward, which
  is logged and evaluated, is unchanged), so a loop is worth less than a submit;
* ``--double-q``: double Q-learning targets; ``--dueling``: a dueling head.

Checkpoints hold the replay buffer too (the newest only: it can take hundreds of MB). The run
(resume, checkpoints, logs, the final evaluation) is ``r1gym.training.sb3.train``: run the same
command again with the same ``--out`` to resume. See agents/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stable_baselines3.common.vec_env import VecEnv

from r1gym.replay.dqn import DQNPER, MaskedDQNPolicy
from r1gym.replay.sb3_buffer import NStepDictReplayBuffer, PrioritizedDictReplayBuffer
from r1gym.training.args import SB3Args, net_arch, parse_args
from r1gym.training.sb3 import train

CONFIGS = Path(__file__).resolve().parent / "configs"


@dataclass
class Args(SB3Args):
    """The run's arguments (environment, budget, --out, checkpoints, evaluation) come from SB3Args."""

    learning_rate: float = 1e-4
    """Adam step size"""
    buffer_size: int = 50_000
    """transitions the replay buffer keeps (about 2.7 kB each for R1Math-v0's observation)"""
    learning_starts: int = 1_000
    """environment steps before the first gradient step"""
    batch_size: int = 64
    """transitions per gradient step"""
    train_freq: int = 4
    """a training round every this many steps of each environment copy"""
    gradient_steps: int = 1
    """gradient steps per training round"""
    target_update_interval: int = 1_000
    """environment steps between copies of the Q-network to the target network"""
    exploration_fraction: float = 0.2
    """share of the run over which epsilon falls from 1 to its final value"""
    exploration_final_eps: float = 0.05
    """final epsilon of the epsilon-greedy exploration"""
    gamma: float = 0.99
    """discount factor"""
    max_grad_norm: float = 10.0
    """gradient norm clip"""
    net_arch: str = "128,128"
    """hidden layers of the Q-network, comma-separated"""
    uniform: bool = False
    """draw uniformly (NStepDictReplayBuffer: SB3's DictReplayBuffer, same n-step returns), not by priority"""
    mask: bool = True
    """choose, explore and bootstrap among the actions the observation's action_mask allows"""
    double_q: bool = True
    """double Q-learning: the target network evaluates the online network's argmax"""
    dueling: bool = True
    """a dueling head, Q = V + A - mean(A)"""
    n_steps: int = 3
    """steps summed in each TD target (1: one-step DQN)"""
    step_cost: float = 0.01
    """subtracted from every stored reward (what the Q-network learns from; the environment's reward is unchanged)"""
    per_alpha: float = 0.7
    """priority exponent omega (the buffer's alpha; 0 is uniform)"""
    per_beta: float = 0.4
    """importance-weight exponent at the start, annealed to 1 over the run"""
    per_eps: float = 1e-3
    """added to |TD error| so that no transition's priority is 0"""

    def validate(self) -> None:
        super().validate()
        net_arch(self.net_arch)
        if self.n_steps < 1:
            raise ValueError(f"--n-steps must be >= 1, got {self.n_steps}")
        if not self.step_cost >= 0:
            raise ValueError(f"--step-cost must be >= 0, got {self.step_cost}")


def main() -> None:
    args = parse_args(Args, run_name=lambda a: "dqn_uniform" if a.uniform else "dqn_per", configs=CONFIGS)

    # The prioritized buffer, or SB3's uniform one. Beta reaches 1 at the last gradient step.
    gradient_rounds = max(1, (args.total_timesteps - args.learning_starts) // (args.train_freq * args.n_envs))
    # Both buffers compute the same n-step returns: the comparison differs in the sampling only.
    nstep = {"n_steps": args.n_steps, "gamma": args.gamma}
    if args.uniform:
        buffer_class, buffer_kwargs = NStepDictReplayBuffer, nstep
    else:
        buffer_class = PrioritizedDictReplayBuffer
        buffer_kwargs = {
            "alpha": args.per_alpha,
            "beta": args.per_beta,
            "beta_final": 1.0,
            "beta_steps": gradient_rounds * args.gradient_steps,
            "eps": args.per_eps,
            "seed": args.seed,
            **nstep,
        }

    def new_model(env: VecEnv) -> DQNPER:
        return DQNPER(
            MaskedDQNPolicy,
            env,
            mask_actions=args.mask,
            double_q=args.double_q,
            step_cost=args.step_cost,
            learning_rate=args.learning_rate,
            buffer_size=args.buffer_size,
            learning_starts=args.learning_starts,
            batch_size=args.batch_size,
            train_freq=args.train_freq,
            gradient_steps=args.gradient_steps,
            target_update_interval=args.target_update_interval,
            exploration_fraction=args.exploration_fraction,
            exploration_final_eps=args.exploration_final_eps,
            gamma=args.gamma,
            max_grad_norm=args.max_grad_norm,
            replay_buffer_class=buffer_class,
            replay_buffer_kwargs=buffer_kwargs,
            policy_kwargs={"net_arch": net_arch(args.net_arch), "dueling": args.dueling, "mask_actions": args.mask},
            seed=args.seed,
            device="cpu",
        )

    # A resumed run loads the newest checkpoint with its replay buffer instead of new_model.
    train(args, "dqn_uniform" if args.uniform else "dqn_per", DQNPER, new_model)


if __name__ == "__main__":
    main()
