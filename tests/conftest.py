"""Fixtures shared by the tests."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from helpers import ENV_IDS

# Nothing is downloaded in tests: the Hugging Face libraries fail at once instead of retrying a
# network that CI does not have (datasets' GSM8K loader waited 23 s on its back-off per call).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

#: GSM8K's training split, beside the repository (never copied into it).
GSM8K_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k" / "train.jsonl"
if GSM8K_TRAIN.exists():
    os.environ.setdefault("R1GYM_GSM8K_PATH", str(GSM8K_TRAIN))


@pytest.fixture(params=ENV_IDS)
def env_id(request: pytest.FixtureRequest) -> str:
    if request.param == "R1GSM8K-v0" and not os.environ.get("R1GYM_GSM8K_PATH"):
        pytest.skip(f"R1GSM8K-v0 needs GSM8K's train.jsonl at {GSM8K_TRAIN} (or R1GYM_GSM8K_PATH)")
    if request.param == "R1Open-v0":  # its actions are text: tests/test_open.py checks it in write mode
        pytest.skip("R1Open-v0 is a write-mode id; the suites over every id play the menu (see tests/test_open.py)")
    return request.param


@pytest.fixture
def listener():
    """A TCP server on 127.0.0.1 that records any connection it gets (``helpers.connected``)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    yield server
    server.close()


@pytest.fixture(autouse=True, scope="session")
def _sb3_logs_in_the_test_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """stable-baselines3's default logger makes a folder ``/tmp/SB3-<date>`` per ``learn()``
    (even with nothing to write) unless ``SB3_LOGDIR`` names one: the tests' go to pytest's
    temporary folder (and any script they start inherits it)."""
    os.environ["SB3_LOGDIR"] = str(tmp_path_factory.mktemp("sb3-logs"))
