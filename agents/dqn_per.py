"""DQN (stable-baselines3) with r1gym's prioritized replay on an r1gym environment.

    python agents/dqn_per.py --env-id R1Math-v0 --total-timesteps 200000 --out runs/dqn_per
    python agents/dqn_per.py --uniform --out runs/dqn_uniform      # the same with uniform replay

Transitions are drawn from ``r1gym.replay.PrioritizedDictReplayBuffer`` with probability
``P(i) = (|delta_i| + eps)^omega / sum_j (|delta_j| + eps)^omega``, ``omega = 0.7`` (the buffer's
``alpha``), and each sample's Huber loss is weighted by its importance weight
``w_i = (p_min / p_i)^beta``, beta annealed to 1 over the run. SB3's ``DQN.train`` does neither,
so :class:`DQNPER` overrides it: the same step, plus the weights and the write-back of the new
TD errors through ``update_priorities``. ``--uniform`` swaps in SB3's plain ``DictReplayBuffer``
(same class, same loss with every weight 1) for the replay comparison.

A Q-network cannot be masked by SB3: the agent may pick a masked action (a no-op costing 0.05)
and must learn from ``action_mask`` in its observation not to. Checkpoints hold the replay
buffer too (the newest only: it can take hundreds of MB). The run (resume, checkpoints, logs, the
final evaluation) is ``r1gym.training.sb3.train``: run the same command again with the same
``--out`` to resume. See agents/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from stable_baselines3 import DQN
from stable_baselines3.common.buffers import DictReplayBuffer
from stable_baselines3.common.vec_env import VecEnv

from r1gym.replay.sb3_buffer import PrioritizedDictReplayBuffer
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
    """use SB3's uniform DictReplayBuffer instead of the prioritized one"""
    per_alpha: float = 0.7
    """priority exponent omega (the buffer's alpha; 0 is uniform)"""
    per_beta: float = 0.4
    """importance-weight exponent at the start, annealed to 1 over the run"""
    per_eps: float = 1e-3
    """added to |TD error| so that no transition's priority is 0"""

    def validate(self) -> None:
        super().validate()
        net_arch(self.net_arch)


class DQNPER(DQN):
    """DQN whose training step weights the loss by importance and feeds TD errors back.

    ``train`` is SB3 2.9's ``DQN.train`` with three changes, marked PER below: the Huber loss
    is computed per sample, weighted by the buffer's ``last_weights``, and the absolute TD
    errors go back through ``update_priorities(last_indices, ...)``. With a buffer that has no
    ``update_priorities`` (SB3's uniform ones) it is exactly ``DQN.train``.
    """

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        prioritized = hasattr(self.replay_buffer, "update_priorities")

        losses, td_abs, weights_mean, key_share = [], [], [], []
        for _ in range(gradient_steps):
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            # The share of "key experience" in the batch: rewarded transitions (a paying submit).
            key_share.append(float((replay_data.rewards > 0).float().mean()))
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            with torch.no_grad():
                next_q_values = self.q_net_target(replay_data.next_observations)
                next_q_values, _ = next_q_values.max(dim=1)
                next_q_values = next_q_values.reshape(-1, 1)
                target_q_values = replay_data.rewards + (1 - replay_data.dones) * discounts * next_q_values

            current_q_values = self.q_net(replay_data.observations)
            current_q_values = torch.gather(current_q_values, dim=1, index=replay_data.actions.long())

            # PER: per-sample Huber loss, weighted by the importance weights of the batch.
            per_sample = F.smooth_l1_loss(current_q_values, target_q_values, reduction="none").reshape(-1)
            if prioritized:
                weights = torch.as_tensor(self.replay_buffer.last_weights, device=self.device)  # type: ignore[union-attr]
                loss = (weights * per_sample).mean()
                weights_mean.append(float(weights.mean()))
            else:
                loss = per_sample.mean()
            losses.append(loss.item())

            self.policy.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()

            # PER: the new |TD errors| become the priorities of the transitions just drawn.
            td = (current_q_values - target_q_values).detach().abs().reshape(-1)
            td_abs.append(float(td.mean()))
            if prioritized:
                self.replay_buffer.update_priorities(self.replay_buffer.last_indices, td)  # type: ignore[union-attr]

        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))
        self.logger.record("train/td_error", np.mean(td_abs))
        self.logger.record("train/key_share", np.mean(key_share))
        if prioritized:  # PER
            self.logger.record("train/is_weight_mean", np.mean(weights_mean))
            self.logger.record("train/per_beta", self.replay_buffer.beta)  # type: ignore[union-attr]


def main() -> None:
    args = parse_args(Args, run_name=lambda a: "dqn_uniform" if a.uniform else "dqn_per", configs=CONFIGS)

    # The prioritized buffer, or SB3's uniform one. Beta reaches 1 at the last gradient step.
    gradient_rounds = max(1, (args.total_timesteps - args.learning_starts) // (args.train_freq * args.n_envs))
    if args.uniform:
        buffer_class, buffer_kwargs = DictReplayBuffer, {}
    else:
        buffer_class = PrioritizedDictReplayBuffer
        buffer_kwargs = {
            "alpha": args.per_alpha,
            "beta": args.per_beta,
            "beta_final": 1.0,
            "beta_steps": gradient_rounds * args.gradient_steps,
            "eps": args.per_eps,
            "seed": args.seed,
        }

    def new_model(env: VecEnv) -> DQNPER:
        return DQNPER(
            "MultiInputPolicy",
            env,
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
            policy_kwargs={"net_arch": net_arch(args.net_arch)},
            seed=args.seed,
            device="cpu",
        )

    # A resumed run loads the newest checkpoint with its replay buffer instead of new_model.
    train(args, "dqn_uniform" if args.uniform else "dqn_per", DQNPER, new_model)


if __name__ == "__main__":
    main()
