"""``render_mode="rgb_array"``: the tree as an image. Every frame has the same size, the same
episode gives the same pixels, the picture shows the episode (one disc per node reached, in the
colour of its label; the current path drawn in the path colour; the candidates not yet taken),
and Gymnasium's ``RecordVideo`` films an episode with one frame per step."""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import pytest

import r1gym  # noqa: F401  (registers the ids)
from r1gym.baselines import BacktrackAgent
from r1gym.core.picture import FRAME_SIZE, PATH, Scene, layout, node_colour
from r1gym.errors import UnsupportedRenderModeError

ENV, SEED = "R1Math-v0", 7  # the backtracking agent backtracks in this episode


def play(env_id: str = ENV, seed: int = SEED, **kwargs) -> tuple[gym.Env, list[np.ndarray], dict]:
    env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    agent = BacktrackAgent()
    obs, info = env.reset(seed=seed)
    frames, done = [env.render()], False
    while not done:
        obs, _, term, trunc, info = env.step(agent.act(obs, info))
        frames.append(env.render())
        done = term or trunc
    return env, frames, info


def scene_of(env: gym.Env) -> Scene:
    return env.unwrapped.scene()


def test_frames_have_one_size_and_change_with_the_episode() -> None:
    _, frames, info = play(step_labels=True)
    assert info["backtracks"] >= 1
    for f in frames:
        assert f.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3) and f.dtype == np.uint8
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))


def test_the_same_episode_gives_the_same_pixels() -> None:
    _, first, _ = play(step_labels=True)
    _, second, _ = play(step_labels=True)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("kwargs", [{"step_labels": True}, {"reveal": True}, {}])
def test_the_picture_shows_the_tree_of_the_episode(kwargs) -> None:
    """Each node reached is a disc of its label's colour (the judge's, else the oracle's when
    revealed, else grey); each edge of the current path is drawn in the path colour."""
    env, frames, info = play(**kwargs)
    frame, scene = frames[-1], scene_of(env)
    nodes, ghosts = layout(scene)
    assert set(nodes) == set(scene.nodes) and len(nodes) == len(scene.nodes)
    assert not ghosts  # the path states its answer: no candidates left at the end
    colours = set()
    for path, (x, y) in nodes.items():
        r = 11 if path == scene.cur else 9
        colour = node_colour(scene.nodes[path], scene.reveal)
        colours.add(colour)
        assert tuple(frame[int(y), int(x - r + 3)]) == colour, path  # inside the disc, left of its number
    if kwargs:
        assert len(colours) >= 2  # labels show: the backtracked steps were wrong, the path's correct
    for i in range(1, len(scene.cur) + 1):
        (x0, y0), (x1, y1) = nodes[scene.cur[: i - 1]], nodes[scene.cur[:i]]
        mid = (x0 + x1) / 2, (y0 + y1) / 2
        assert tuple(frame[int(round(mid[1])), int(round(mid[0]))]) == PATH
    assert len(scene.nodes) == info["steps"] - info["backtracks"]  # each expand reached a new node here


def test_the_current_candidates_are_drawn_as_hollow_discs() -> None:
    env = gym.make(ENV, render_mode="rgb_array")
    env.reset(seed=SEED)
    frame, scene = env.render(), scene_of(env)
    nodes, ghosts = layout(scene)
    assert list(nodes) == [()] and len(ghosts) == env.unwrapped.num_candidates
    bg = frame[80, 10]
    for path, (x, y) in ghosts.items():
        assert tuple(frame[int(y), int(x)]) == tuple(bg)  # hollow: the background at the centre
        r = 4 + 8 * float(scene.nodes[()].confidence[path[-1]])
        assert tuple(frame[int(y), int(x - r + 0.5)]) != tuple(bg)  # the ring


def test_a_written_step_is_a_node_too() -> None:
    env = gym.make("R1Arith-v0", action_mode="write", render_mode="rgb_array")
    env.reset(seed=0)
    env.step("I think the answer is 12.")
    frame, scene = env.render(), scene_of(env)
    nodes, _ = layout(scene)
    assert any(isinstance(p[-1], str) for p in nodes if p) and frame.shape[:2] == (FRAME_SIZE[1], FRAME_SIZE[0])


def test_record_video_films_an_episode(tmp_path) -> None:
    pytest.importorskip("moviepy")
    import imageio.v3 as iio

    env = gym.wrappers.RecordVideo(
        gym.make(ENV, render_mode="rgb_array", step_labels=True),
        str(tmp_path / "videos"),
        episode_trigger=lambda e: True,
        disable_logger=True,
    )
    agent = BacktrackAgent()
    obs, info = env.reset(seed=SEED)
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(agent.act(obs, info))
        done = term or trunc
    env.close()
    (video,) = (tmp_path / "videos").glob("*.mp4")
    frames = iio.imread(video, plugin="pyav") if _has_pyav() else list(iio.imiter(video))
    assert len(frames) == info["steps"] + 1  # the reset and every step
    assert frames[0].shape[:2] == (FRAME_SIZE[1], FRAME_SIZE[0])


def _has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def test_without_pillow_the_mode_is_refused_with_the_install_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    with pytest.raises(UnsupportedRenderModeError, match=r"pip install 'r1gym\[render\]'"):
        gym.make(ENV, render_mode="rgb_array")
    with pytest.raises(TypeError):  # what stable-baselines3's make_vec_env retries on
        gym.make(ENV, render_mode="rgb_array")


def test_before_reset_the_frame_is_blank_and_the_scene_refused() -> None:
    from r1gym.errors import EpisodeOverError

    env = gym.make(ENV, render_mode="rgb_array", disable_env_checker=True)
    frame = env.unwrapped.render()
    assert frame.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3) and (frame == 255).all()
    with pytest.raises(EpisodeOverError, match="reset"):
        env.unwrapped.scene()
