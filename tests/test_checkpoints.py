"""The hand-written loop's checkpoints (r1gym.training.checkpoints): what is kept, what resumes."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from r1gym.replay import PrioritizedReplay  # noqa: E402
from r1gym.training.checkpoints import latest_checkpoint, load_checkpoint, save_checkpoint  # noqa: E402
from r1gym.training.distributed import Dist  # noqa: E402


@pytest.mark.parametrize("every", [1, 2, 3])
def test_the_two_newest_complete_checkpoints_are_kept(tmp_path: Path, every: int) -> None:
    """With --checkpoint-every k the iterations saved are k apart: still two are kept, so a
    damaged newest one leaves an older one to resume from."""
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    replay = PrioritizedReplay(capacity=4)
    dist = Dist()
    for it in range(every, 4 * every + 1, every):
        save_checkpoint(tmp_path, it, model, optimizer, replay, {"iteration": it}, dist)
    kept = sorted(int(p.name.split("_")[1]) for p in tmp_path.glob("iter_*"))
    assert kept == [3 * every, 4 * every]
    newest = latest_checkpoint(tmp_path)
    assert newest is not None and newest.name == f"iter_{4 * every}"
    _, state = load_checkpoint(newest, model, optimizer, dist)
    assert state == {"iteration": 4 * every}
