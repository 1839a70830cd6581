"""DQN for r1gym's vector observations: prioritized replay, masks, double and dueling Q-learning.

:class:`DQNPER` is stable-baselines3's ``DQN`` with what ``agents/dqn_per.py`` needs to learn
R1Math-v0 (docs/results.md, section 4, measures each lever):

* **prioritized replay**: with a buffer that has ``update_priorities``
  (:class:`~r1gym.replay.sb3_buffer.PrioritizedDictReplayBuffer`) each sample's Huber loss is
  weighted by its importance weight and its new ``|TD error|`` goes back as its priority;
* **action masks** (``mask_actions``): the observation's ``action_mask`` rules masked actions
  out of the greedy action (:class:`MaskedDQNPolicy`, so a saved model masks when evaluated
  too), of epsilon-greedy exploration and of the warm-up's random actions (uniform over the
  valid ones), and of the ``max`` of the TD target;
* **double Q-learning** (``double_q``): the target evaluates with the target network the action
  the online network picks, ``r + gamma^m Q_target(s', argmax_a Q_online(s', a))``;
* **a dueling head** (``policy_kwargs={"dueling": True}``): ``Q = V + A - mean(A)``;
* **n-step returns**: from the buffer (``n_steps`` in ``replay_buffer_kwargs``), which sets the
  batch's ``discounts`` to ``gamma^m``;
* **a step cost** (``step_cost``): subtracted from every stored reward, submit included, so a
  loop that never submits is worth less than a submit. The environment's own reward (logged,
  evaluated) is untouched: only what the Q-network learns from changes.

With every lever off it trains as SB3's ``DQN.train`` does, plus the prioritized replay.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
import torch.nn.functional as F
from stable_baselines3 import DQN
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.dqn.policies import MultiInputPolicy, QNetwork
from torch import nn

__all__ = ["DQNPER", "MaskedDQNPolicy", "MaskedQNetwork", "masked_argmax", "random_valid_actions"]


def _mask_of(obs: Any) -> th.Tensor | None:
    """The boolean action mask of a batch of observations, or None if they carry none."""
    if isinstance(obs, dict) and "action_mask" in obs:
        return th.as_tensor(obs["action_mask"]) > 0
    return None


def masked_argmax(q: th.Tensor, mask: th.Tensor | None) -> th.Tensor:
    """``argmax`` over the actions ``mask`` allows, per row (all actions where a row allows none)."""
    if mask is None:
        return q.argmax(dim=1)
    mask = mask.reshape(q.shape).to(q.device)
    mask = mask | ~mask.any(dim=1, keepdim=True)
    return q.masked_fill(~mask, -th.inf).argmax(dim=1)


def random_valid_actions(mask: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """One action per row of ``mask`` (``[n, A]``), uniform over the row's valid actions (over all
    of them where a row has none). Draws from ``np.random`` (seeded by SB3) unless ``rng`` is given."""
    m = np.asarray(mask).reshape(-1, np.shape(mask)[-1]) > 0
    m = m | ~m.any(axis=1, keepdims=True)
    u = rng.random(m.shape) if rng is not None else np.random.random(m.shape)
    return np.where(m, u + 1.0, 0.0).argmax(axis=1)


class MaskedQNetwork(QNetwork):
    """SB3's ``QNetwork`` with a greedy action that skips masked actions and an optional dueling
    head (``Q = V + A - mean(A)`` over one shared trunk of ``net_arch``)."""

    def __init__(self, *args: Any, dueling: bool = False, mask_actions: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dueling, self.mask_actions = dueling, mask_actions
        if dueling:
            trunk = create_mlp(self.features_dim, -1, self.net_arch, self.activation_fn)
            hidden = self.net_arch[-1] if self.net_arch else self.features_dim
            self.q_net = nn.Sequential(*trunk)
            self.value_head = nn.Linear(hidden, 1)
            self.advantage_head = nn.Linear(hidden, int(self.action_space.n))

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        h = self.q_net(self.extract_features(obs, self.features_extractor))
        if not self.dueling:
            return h
        advantage = self.advantage_head(h)
        return self.value_head(h) + advantage - advantage.mean(dim=1, keepdim=True)

    def _predict(self, observation: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        mask = _mask_of(observation) if self.mask_actions else None
        return masked_argmax(self(observation), mask).reshape(-1)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "dueling": self.dueling, "mask_actions": self.mask_actions}


class MaskedDQNPolicy(MultiInputPolicy):
    """``MultiInputPolicy`` whose Q-networks are :class:`MaskedQNetwork` (``dueling``,
    ``mask_actions`` in ``policy_kwargs``). A model saved with it loads with plain
    ``DQN.load`` and still masks its greedy actions (the class is pickled by reference)."""

    def __init__(self, *args: Any, dueling: bool = False, mask_actions: bool = True, **kwargs: Any) -> None:
        # make_q_net runs inside the parent's __init__ and reads these
        self.dueling, self.mask_actions = dueling, mask_actions
        super().__init__(*args, **kwargs)

    def make_q_net(self) -> MaskedQNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return MaskedQNetwork(**net_args, dueling=self.dueling, mask_actions=self.mask_actions).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "dueling": self.dueling, "mask_actions": self.mask_actions}


class DQNPER(DQN):
    """SB3's ``DQN`` with prioritized replay, action masks, double Q-learning and a step cost.

    Args:
        mask_actions: choose (greedy, exploring, warming up) and bootstrap among the actions the
            observation's ``action_mask`` allows. Use it with :class:`MaskedDQNPolicy`.
        double_q: double Q-learning targets.
        step_cost: subtracted from every reward before it is stored (>= 0).
        *args: as for ``DQN``.
        **kwargs: as for ``DQN``; n-step returns come from the replay buffer.
    """

    def __init__(
        self, *args: Any, mask_actions: bool = False, double_q: bool = False, step_cost: float = 0.0, **kwargs: Any
    ) -> None:
        if not (np.isfinite(step_cost) and step_cost >= 0):
            raise ValueError(f"step_cost must be a finite number >= 0, got {step_cost!r}")
        self.mask_actions, self.double_q, self.step_cost = bool(mask_actions), bool(double_q), float(step_cost)
        super().__init__(*args, **kwargs)

    # -- acting --------------------------------------------------------------------------------

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Epsilon-greedy as ``DQN.predict``, except with ``mask_actions``: each environment copy
        explores on its own draw, with a random valid action."""
        mask = observation.get("action_mask") if isinstance(observation, dict) else None
        if not self.mask_actions or mask is None:
            return super().predict(observation, state, episode_start, deterministic)
        action, state = self.policy.predict(observation, state, episode_start, deterministic=True)
        if deterministic:
            return action, state
        flat = np.array(action).reshape(-1)
        explore = np.random.random(flat.shape) < self.exploration_rate
        if explore.any():
            flat[explore] = random_valid_actions(np.asarray(mask).reshape(len(flat), -1)[explore])
        return flat.reshape(np.shape(action)), state

    def _sample_action(
        self, learning_starts: int, action_noise: Any = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.mask_actions and self.num_timesteps < learning_starts and isinstance(self._last_obs, dict):
            action = random_valid_actions(self._last_obs["action_mask"])
            return action, action
        return super()._sample_action(learning_starts, action_noise, n_envs)

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray | dict[str, np.ndarray],
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        if self.step_cost:
            reward = reward - self.step_cost
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)

    # -- learning ------------------------------------------------------------------------------

    def td_targets(self, rewards: th.Tensor, next_obs: PyTorchObs, dones: th.Tensor, discounts: Any) -> th.Tensor:
        """``r + (1 - done) * discount * Q_target(s', a*)``, ``a*`` the (masked) argmax of the
        target network, or of the online one with ``double_q``."""
        with th.no_grad():
            target_q = self.q_net_target(next_obs)
            chooser = self.q_net(next_obs) if self.double_q else target_q
            best = masked_argmax(chooser, _mask_of(next_obs) if self.mask_actions else None)
            next_q = target_q.gather(1, best.reshape(-1, 1))
            return rewards + (1 - dones) * discounts * next_q

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """SB3 2.9's ``DQN.train`` with the targets of :meth:`td_targets`, the importance weights
        and priority updates of a prioritized buffer (marked PER), and the key-experience share."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        prioritized = hasattr(self.replay_buffer, "update_priorities")

        losses, td_abs, weights_mean, key_share = [], [], [], []
        for _ in range(gradient_steps):
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            # "Key experience": a rewarded transition (a paying submit). Its one-step reward: with
            # n-step returns ``rewards`` holds the return, which pays wherever a submit is near.
            step_rewards = getattr(self.replay_buffer, "last_step_rewards", None)
            if step_rewards is None or len(step_rewards) != batch_size:
                step_rewards = replay_data.rewards.cpu().numpy()
            key_share.append(float((np.asarray(step_rewards) > 0).mean()))
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            target_q_values = self.td_targets(
                replay_data.rewards, replay_data.next_observations, replay_data.dones, discounts
            )
            current_q_values = self.q_net(replay_data.observations)
            current_q_values = th.gather(current_q_values, dim=1, index=replay_data.actions.long())

            # PER: per-sample Huber loss, weighted by the importance weights of the batch.
            per_sample = F.smooth_l1_loss(current_q_values, target_q_values, reduction="none").reshape(-1)
            if prioritized:
                weights = th.as_tensor(self.replay_buffer.last_weights, device=self.device)  # type: ignore[union-attr]
                loss = (weights * per_sample).mean()
                weights_mean.append(float(weights.mean()))
            else:
                loss = per_sample.mean()
            losses.append(loss.item())

            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
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
