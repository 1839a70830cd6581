"""The hostile-program suite (issue 11): one case per attack, in every mode of full isolation
this machine supports, without the Python-level guard (``guard=False``: what the operating
system alone guarantees). Each case asserts containment and that nothing is left behind: no
process of the run's uid, no file outside its directory, its temporary directory removed.

Modes (``r1gym.sandbox.PROFILES``):

* ``namespaces``: the default where the machine gives mount, network, PID and IPC namespaces;
* ``landlock``: ``namespaces=False, isolation="full"``: Landlock, seccomp and the supervisor's
  disk watch, what a default Docker container allows (``test_docker_like_machine`` runs the
  sandbox in a process that really lacks ``CAP_SYS_ADMIN``).

A mode this machine does not support is skipped with the reason; the refusal itself is tested
in ``test_sandbox.py`` (``weak_machine``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import pytest
from helpers import SandboxRecorder, connected, sandbox_processes

from r1gym import sandbox
from r1gym.sandbox import SandboxResult, run_python, sandbox_info

INFO = sandbox_info()


def _landlock_ok() -> tuple[bool, str]:
    if not INFO["landlock"]:
        return False, f"no Landlock here: {INFO['notes']}"
    r = run_python("pass", namespaces=False, isolation="best-effort")
    missing = [x for x in sandbox.full_isolation(INFO["root"], "landlock") if x not in r.isolation]
    return not missing, f"the landlock profile lacks {missing}: {r.notes}"


_LANDLOCK, _LANDLOCK_WHY = _landlock_ok()
MODES = [
    pytest.param(
        {},
        id="namespaces",
        marks=pytest.mark.skipif(
            INFO["profile"] != "namespaces", reason=f"no namespaces profile here: missing {INFO['missing']}"
        ),
    ),
    pytest.param(
        {"namespaces": False, "isolation": "full"},
        id="landlock",
        marks=pytest.mark.skipif(not _LANDLOCK, reason=_LANDLOCK_WHY),
    ),
]


@pytest.fixture(autouse=True)
def machine_unchanged(monkeypatch: pytest.MonkeyPatch):
    runs = SandboxRecorder(monkeypatch)
    yield runs
    assert sandbox_processes(runs.uids) == []
    assert [d for d in runs.dirs if os.path.exists(d)] == []


@pytest.fixture
def outside() -> Path:
    """A path outside the sandbox that no program may create (removed afterwards if one did)."""
    path = Path(tempfile.gettempdir()) / f"r1gym_hostile_{uuid.uuid4().hex}"
    yield path
    if path.exists():
        path.unlink()


def _sysv_ids() -> set[str]:
    """The System V shared memory, semaphore and message queue ids on this machine."""
    ids = set()
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                ids |= {f"{kind}:{line.split()[1]}" for line in f.readlines()[1:]}
        except OSError:
            pass
    return ids


def run(mode: dict, code: str, **kwargs) -> SandboxResult:
    return run_python(textwrap.dedent(code), guard=False, **{"timeout": 3.0, **mode, **kwargs})


# -- time, processes, memory --------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_infinite_loop(mode: dict) -> None:
    r = run(mode, "while True:\n    pass\n", timeout=1.0)
    assert r.timed_out and r.killed_reason == "timeout" and r.duration < 3.5


@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb(mode: dict, machine_unchanged: SandboxRecorder) -> None:
    r = run(mode, "import os\nwhile True:\n    os.fork()\n", timeout=2.0, max_processes=8)
    assert not r.passed and r.duration < 4.5
    assert sandbox_processes(machine_unchanged.uids) == []  # already, not eventually


@pytest.mark.parametrize("mode", MODES)
def test_memory_bomb(mode: dict) -> None:
    r = run(mode, "b = []\nwhile True:\n    b.append(bytearray(32 << 20))\n", memory_mb=256)
    assert r.killed_reason == "memory" and r.duration < 3.0


@pytest.mark.parametrize("mode", MODES)
def test_daemon_that_leaves_the_session(mode: dict, machine_unchanged: SandboxRecorder) -> None:
    code = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        print("parent done")
    """
    r = run(mode, code)
    assert r.passed and r.stdout == "parent done\n" and r.duration < 3.0
    assert sandbox_processes(machine_unchanged.uids) == []


# -- the file system ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_writes_outside_its_directory(mode: dict, outside: Path) -> None:
    for target in (outside, Path("/dev/shm") / outside.name, Path.cwd() / outside.name):
        r = run(mode, f"open({str(target)!r}, 'w').write('escaped')\n")
        assert not r.passed and ("Permission denied" in r.stderr or "Read-only file system" in r.stderr)
        assert not target.exists()
    r = run(mode, f"import os\nprint(os.system('touch {outside} 2>/dev/null'))\n")
    assert r.passed and r.stdout.strip() != "0" and not outside.exists()


@pytest.mark.parametrize("mode", MODES)
def test_disk_filling(mode: dict) -> None:
    code = """
        written = 0
        try:
            for i in range(100):
                with open(f"f{i}", "wb") as f:
                    f.write(b"x" * (4 << 20))
                written += 4
        except OSError as e:
            print(written, e.strerror)
    """
    r = run(mode, code, max_disk_mb=16, max_file_mb=8)
    if "disk-quota" in r.isolation:  # a tmpfs: the write fails at the quota
        assert r.passed and r.stdout.split()[0] in ("12", "16") and "No space left" in r.stdout
    else:  # the supervisor's watch: killed past the quota
        assert r.killed_reason == "disk" and "disk quota exceeded" in r.notes, (r.stdout, r.notes)
        used = int(r.notes.split("disk quota exceeded: ")[1].split()[0])
        assert 16 << 20 < used <= 400 << 20


@pytest.mark.parametrize("mode", MODES)
def test_many_files(mode: dict) -> None:
    r = run(mode, "for i in range(50_000):\n    open(f'f{i}', 'w').close()\n", max_files=1000, timeout=10.0)
    assert not r.passed and (r.killed_reason == "disk" or "No space left" in r.stderr), (r.stderr, r.notes)


@pytest.mark.parametrize("mode", MODES)
def test_deep_tree_and_unreadable_directories(mode: dict) -> None:
    code = """
        import os
        for i in range(3000):
            os.mkdir("d")
            os.chdir("d")
        os.chmod(".", 0)
        print("deep")
    """
    r = run(mode, code, timeout=10.0)
    assert r.passed and r.stdout == "deep\n", r.stderr
    assert "clean-up" not in r.notes


@pytest.mark.parametrize("mode", MODES)
def test_huge_output(mode: dict) -> None:
    r = run(mode, "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", max_file_mb=4, max_output=1000)
    assert not r.passed and len(r.stdout) <= 1000 + len(sandbox._TRUNCATED)


# -- secrets, network, other processes ----------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_secrets_in_the_environment(mode: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"r1gym-fake-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("R1GYM_FAKE_API_KEY", secret)
    code = f"""
        import os, glob
        found = [k for k, v in os.environ.items() if {secret!r} in v]
        for path in glob.glob("/proc/*/environ"):
            try:
                found += [path] if {secret!r}.encode() in open(path, "rb").read() else []
            except OSError:
                pass
        print(found)
    """
    r = run(mode, code)
    assert r.passed and r.stdout == "[]\n", r.stdout + r.stderr


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("family", ["AF_INET", "AF_INET6"])
def test_loopback_network(mode: dict, family: str, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    host = "127.0.0.1" if family == "AF_INET" else "::1"
    code = f"import socket\ns = socket.socket(socket.{family})\ns.settimeout(1)\ns.connect(({host!r}, {port}))\n"
    r = run(mode, code)
    assert not r.passed and not connected(listener)


@pytest.mark.parametrize("mode", MODES)
def test_external_network_and_raw_sockets(mode: dict) -> None:
    code = """
        import socket
        for args in [(socket.AF_INET, socket.SOCK_DGRAM), (socket.AF_PACKET, socket.SOCK_RAW), (socket.AF_NETLINK,
                     socket.SOCK_RAW)]:
            try:
                s = socket.socket(*args)
                s.settimeout(1)
                s.sendto(b"x", ("1.1.1.1", 53)) if args[0] == socket.AF_INET else None
                print("opened", args[0])
            except OSError as e:
                print("refused", args[0], e.errno)
    """
    r = run(mode, code)
    assert r.passed and "opened" not in r.stdout, r.stdout


@pytest.mark.parametrize("mode", MODES)
def test_signals_and_ptrace_to_the_supervisor(mode: dict) -> None:
    code = """
        import ctypes, os, signal
        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        out = []
        if parent > 1:
            try:
                os.kill(parent, signal.SIGKILL)
                out.append("killed")
            except OSError as e:
                out.append(e.errno)
            out.append(libc.ptrace(16, parent, 0, 0))  # PTRACE_ATTACH
        try:
            os.kill(-1, signal.SIGKILL)  # everything it may signal (but itself)
        except OSError:
            pass
        print(out, flush=True)
        os._exit(7)
    """
    r = run(mode, code)
    assert r.returncode == 7 and "killed" not in r.stdout and "0]" not in r.stdout, r.stdout
    # the supervisor outlived it: it reported the program's exit status


@pytest.mark.parametrize("mode", MODES)
def test_raising_limits_setuid_and_unshare(mode: dict) -> None:
    code = """
        import ctypes, os, resource
        libc = ctypes.CDLL(None, use_errno=True)
        out = {}
        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (hard + 1, hard + 1))
            out["rlimit"] = "raised"
        except (ValueError, OSError):
            out["rlimit"] = "refused"
        try:
            os.setuid(0)
            out["setuid"] = "root"
        except OSError:
            out["setuid"] = "refused"
        out["unshare"] = libc.unshare(0x10000000 | 0x20000)  # CLONE_NEWUSER | CLONE_NEWNS
        out["mount"] = libc.mount(b"none", b".", b"tmpfs", 0, None)
        print(out)
    """
    r = run(mode, code)
    assert r.passed, r.stderr
    assert eval(r.stdout) == {"rlimit": "refused", "setuid": "refused", "unshare": -1, "mount": -1}


@pytest.mark.parametrize("mode", MODES)
def test_system_v_ipc_is_not_left_behind(mode: dict) -> None:
    before = _sysv_ids()
    code = """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print(libc.shmget(0, 4096, 0o1666), libc.semget(0, 1, 0o1666), libc.msgget(0, 0o1666))
    """
    r = run(mode, code)
    assert r.passed, r.stderr
    assert _sysv_ids() <= before


# -- a machine like a default Docker container ---------------------------------------------------
DOCKER_LIKE = r"""
import ctypes, json, os, sys, warnings
libc = ctypes.CDLL(None, use_errno=True)
# As in a default Docker container: root without CAP_SYS_ADMIN (dropped from the bounding set and
# from every set of this process, so that no child gets it back).
assert libc.prctl(24, 21, 0, 0, 0) == 0  # PR_CAPBSET_DROP CAP_SYS_ADMIN
class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
header, data = Header(0x20080522, 0), (Data * 2)()
assert libc.capget(ctypes.byref(header), data) == 0
for field in ("effective", "permitted", "inheritable"):
    setattr(data[0], field, getattr(data[0], field) & ~(1 << 21))
assert libc.capset(ctypes.byref(header), data) == 0
warnings.simplefilter("error")  # full isolation: no weak warning may be issued
from r1gym.sandbox import run_python, sandbox_info
info = sandbox_info()
target = sys.argv[1]
escape = run_python(f"open({target!r}, 'w').write('x')", guard=False)
net = run_python("import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)", guard=False)
print(json.dumps({"profile": info["profile"], "notes": info["notes"], "escape": escape.stderr.splitlines()[-1],
                  "net": net.stderr.splitlines()[-1], "layers": info["layers"]}))
"""


@pytest.mark.skipif(not (INFO["root"] and _LANDLOCK), reason="needs root and Landlock")
def test_docker_like_machine(outside: Path) -> None:
    """Root without CAP_SYS_ADMIN, for real: no namespaces, and full isolation all the same."""
    p = subprocess.run(
        [sys.executable, "-c", DOCKER_LIKE, str(outside)], capture_output=True, text=True, timeout=120, check=False
    )
    assert p.returncode == 0, p.stderr
    got = __import__("json").loads(p.stdout.splitlines()[-1])
    assert got["profile"] == "landlock", got
    assert "unshare: Operation not permitted" in got["notes"]
    assert "Permission denied" in got["escape"] and "Operation not permitted" in got["net"]
    assert not outside.exists()
