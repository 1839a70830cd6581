"""Run untrusted Python in a separate, limited, isolated process: ``run_python(code)``.

The code runs in a fresh ``python -I -S`` process (isolated mode, no ``site``: nothing from the
environment or the user's site-packages) with a minimal environment (``PATH``, ``HOME`` and
``TMPDIR``; nothing inherited, so no secrets), in a fresh private temporary directory that is
removed afterwards, in a session of its own. A small bootstrap runs first in that process and
applies the layers below, strongest first; ``SandboxResult.isolation`` lists the ones that were
in force and :func:`sandbox_info` those this machine gives (``docs/code.md`` says which
guarantee comes from the operating system and which is best effort):

* **namespaces** (``mountns``, ``netns``, ``pidns``, ``ipcns``; as root, or as a normal user
  inside a new user namespace, ``userns``, where the kernel allows it): every mount but the
  working directory is remounted read-only (``readonly-fs``); the network namespace has no
  interface up, not even loopback; the program is PID 1 of its PID namespace, so when it ends or
  is killed the kernel kills everything it started, and ``/proc`` shows only its own processes.
  In a user namespace, the capabilities it gives are dropped before the program starts.
* **a fresh unprivileged uid** (``uid``, when started as root): the program runs as a random
  uid in ``[2**30, 2**30 + 2**24)`` that owns nothing but its working directory, with no
  supplementary groups. ``RLIMIT_NPROC``, which the kernel does not enforce for root, then
  bounds its processes.
* **a supervisor** (``subreaper``): the bootstrap forks the program and outlives it as a child
  subreaper: it enforces the wall-clock timeout (``SIGKILL``), inherits every orphan the program
  leaves (a daemon that called ``setsid`` included) and kills them all before it returns.
* ``no_new_privs`` (set-uid programs give nothing) and **resource limits** (``rlimits``):
  ``RLIMIT_CPU``, ``RLIMIT_AS`` (memory), ``RLIMIT_NPROC``, ``RLIMIT_FSIZE`` (output files
  included), ``RLIMIT_NOFILE``, ``RLIMIT_CORE = 0``, hard limits equal to the soft ones.
* **a Python-level guard** (``guard``; defense in depth only, code can get around it):
  ``os.system``, ``os.fork``, the ``exec*`` / ``spawn*`` family, ``subprocess``, ``socket``,
  ``ctypes`` and ``multiprocessing`` disabled; files opened for writing only inside the working
  directory; ``/proc/<pid>`` of other processes unreadable.
* **Landlock** (``landlock``, Linux 5.13+, no privilege needed): writes only inside the working
  directory; ``landlock-net`` (6.7+): no TCP; ``landlock-scope`` (6.12+): no signal to a process
  outside the program. **seccomp** (``seccomp``): no socket but ``AF_UNIX``, no namespace, mount,
  ptrace, System V IPC, keyring, bpf or io_uring. Both in every run where the kernel has them.
* **a disk quota**: a tmpfs of ``max_disk_mb`` on the working directory (``disk-quota``, with
  the mount namespace), or the supervisor's watch of its size (``disk-watch``).

By default a program gets *full* isolation, one complete profile of :data:`PROFILES`
(``"namespaces"``, or ``"landlock"``: what a default Docker container allows) or does not run:
the bootstrap refuses before the program starts and ``run_python`` raises
:class:`~r1gym.errors.SandboxUnavailableError`. ``isolation="best-effort"`` (or
``R1GYM_SANDBOX=best-effort``) runs it with the layers there are and warns once per process
(:class:`SandboxWeakWarning`).

No ``preexec_fn``: everything is applied by the bootstrap in the child interpreter, so
``run_python`` is safe to call from several threads at once.

By default (``warm=True``) the program's process is not a new interpreter but a child forked
from a *warm worker*, a ``python -I -S`` started once per interpreter with the bootstrap's
modules loaded; the child makes itself what a fresh start would be (its session, descriptors,
directory, environment, ``__main__``) and runs the same bootstrap. The worker never sees a
program, only the paths and limits of its run: nothing of one program is there for the next
(``docs/code.md``, "The warm worker"). About 4x faster a run.
"""

from __future__ import annotations

import atexit
import dataclasses
import math
import os
import secrets
import select
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache

try:
    from r1gym.errors import SandboxUnavailableError
except ImportError:  # this module copied alone (the tests run it as user nobody)

    class SandboxUnavailableError(RuntimeError):  # type: ignore[no-redef]
        """The sandbox cannot give full isolation here (see r1gym.errors)."""


#: Where the fresh uids come from: ``[UID_BASE, UID_BASE + UID_SPAN)`` (no real user lives there).
UID_BASE = 1 << 30
UID_SPAN = 1 << 24
#: seconds the parent waits past the timeout before it kills the supervisor itself
BACKSTOP_GRACE = 2.0

_TRUNCATED = "\n... [truncated] ...\n"

#: *Full* isolation, the one untrusted code gets by default (``docs/code.md``), is one of two
#: complete sets of layers. ``"namespaces"``: mount, network, PID and IPC namespaces, a read-only
#: file system and a tmpfs disk quota (root with ``CAP_SYS_ADMIN``, or a user namespace).
#: ``"landlock"``: Landlock and seccomp, and a disk quota the supervisor watches (what a default
#: Docker container allows: it refuses namespaces without ``CAP_SYS_ADMIN`` but allows both).
#: Either adds ``"uid"`` (a fresh uid) when started as root; otherwise ``"userns"`` (the program's
#: own user namespace), or ``"landlock-scope"`` (Linux 6.12+: it cannot signal its supervisor).
#: The guard is in neither: it is defense in depth (``guard=False`` is allowed).
PROFILES: dict[str, tuple[str, ...]] = {
    "namespaces": (
        "mountns",
        "netns",
        "pidns",
        "ipcns",
        "readonly-fs",
        "disk-quota",
        "subreaper",
        "no_new_privs",
        "rlimits",
    ),
    "landlock": ("landlock", "seccomp", "disk-watch", "subreaper", "no_new_privs", "rlimits"),
}
#: ``run_python``'s ``isolation`` values; the environment variable ``R1GYM_SANDBOX`` sets the default.
ISOLATION_MODES = ("full", "best-effort")
ENV_VAR = "R1GYM_SANDBOX"


class SandboxWeakWarning(UserWarning):
    """A program ran in ``isolation="best-effort"`` mode with fewer layers than full isolation
    (issued once per process, naming the missing layers)."""


_weak_warned = False
_weak_lock = threading.Lock()


def full_isolation(root: bool | None = None, profile: str = "namespaces") -> tuple[str, ...]:
    """The layers of full isolation's ``profile`` (a key of :data:`PROFILES`) for a process
    started as root or not; ``root`` defaults to this process's effective uid."""
    if root is None:
        root = os.geteuid() == 0
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(map(repr, PROFILES))}, got {profile!r}")
    return (*PROFILES[profile], "uid" if root else "userns" if profile == "namespaces" else "landlock-scope")


def isolation_profile(layers: tuple[str, ...] | list[str], root: bool | None = None) -> str | None:
    """The profile of full isolation that ``layers`` (a :attr:`SandboxResult.isolation`) complete,
    ``"namespaces"`` first, or None when they complete none."""
    have = set(layers)
    return next((name for name in PROFILES if set(full_isolation(root, name)) <= have), None)


def _missing(layers: tuple[str, ...] | list[str], root: bool) -> list[str]:
    """The layers missing from the profile of full isolation closest to ``layers``."""
    return min(([x for x in full_isolation(root, name) if x not in layers] for name in PROFILES), key=len)


@dataclass(frozen=True)
class SandboxResult:
    """What happened to a program run by :func:`run_python`.

    Attributes:
        passed: the program exited with status 0 within its limits.
        returncode: its exit status, ``-N`` if signal N killed it, None if it never ran.
        stdout: what it printed, decoded as UTF-8; past ``max_output`` characters, its head and
            tail around a ``[truncated]`` mark.
        stderr: its error output (a traceback), cut the same way.
        timed_out: the wall-clock timeout ran out and it was killed.
        killed_reason: ``"timeout"``, ``"cpu"`` (``RLIMIT_CPU``), ``"memory"`` (a
            ``MemoryError`` under ``RLIMIT_AS``), ``"signal SIGSEGV"`` and so on, or None.
        duration: wall-clock seconds from the start to the end of the program and its processes (the
            removal of the temporary folder afterwards is not counted).
        isolation: the layers that were in force: ``"userns"``, ``"mountns"``, ``"netns"``,
            ``"pidns"``, ``"ipcns"``, ``"readonly-fs"``, ``"subreaper"``, ``"uid"``,
            ``"no_new_privs"``, ``"rlimits"``, ``"guard"`` (see the module docstring).
        notes: why a layer could not be applied (``"unshare: Operation not permitted"``), if any;
            what the clean-up of its directory could not remove (``"clean-up: ... left behind"``).
    """

    passed: bool
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    killed_reason: str | None
    duration: float
    isolation: tuple[str, ...] = ()
    notes: str = ""


# The bootstrap runs first in the child interpreter (``python -I -S -c _BOOTSTRAP CONFIG``):
# namespaces and mounts, then the supervisor's fork, then in the program's process the uid
# change, limits and guard, then the program. It uses nothing but the standard library.
_BOOTSTRAP = r'''
import os, sys
cfg = dict(arg.split("=", 1) for arg in sys.argv[1:])  # no json: importing it costs 8 ms
status = int(cfg["status_fd"])
work = os.path.realpath(cfg["work"])  # as /proc/self/mountinfo writes it
layers, notes = [], []

def report(*words):
    try:
        os.write(status, (" ".join(str(w).replace("\n", " ") for w in words) + "\n").encode())
    except OSError:
        pass

with open(cfg["program"], "rb") as f:
    source = f.read()
null = os.open(os.devnull, os.O_RDONLY)
os.dup2(null, 0)
os.close(null)
import resource, select, _signal as signal  # not signal: its enums cost 4 ms

NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET = 0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": 1024, "nodiratime": 2048,
               "relatime": 1 << 21}
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
root = os.geteuid() == 0
uid = int(cfg["uid"]) if cfg["uid"] else None
try:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
except (ImportError, OSError) as e:
    libc = None
    notes.append(f"ctypes: {e}")

def call(name, *args):
    """``libc.name(*args)``, or -1 where the C library has no such function (not Linux)."""
    fn = getattr(libc, name, None) if libc is not None else None
    return -1 if fn is None else fn(*args)

def failure(what):
    e = ctypes.get_errno()
    return f"{what}: {os.strerror(e)} (errno {e})"

def mount(src, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)
    if libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
        raise OSError(failure(f"mount {target}"))

def write(path, text):
    with open(path, "w") as f:
        f.write(text)

def read_only_mounts(owner, group):
    """Mount a tmpfs of the disk quota's size on the working directory (else bind it on itself),
    then make every other mount read-only (keeping each mount's nosuid / nodev / noexec / atime
    flags, which a user namespace may not drop)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    try:
        mount("r1gym-sandbox", work, "tmpfs", MS_NOSUID | MS_NODEV,
              f"size={cfg['disk_bytes']},nr_inodes={cfg['max_inodes']},mode=0700,uid={owner},gid={group}")
        layers.append("disk-quota")
    except OSError as e:
        notes.append(str(e))
        mount(work, work, None, MS_BIND)
    failed = []
    with open("/proc/self/mountinfo") as f:
        rows = [line.split() for line in f]
    for row in rows:
        point = row[4].encode().decode("unicode_escape")
        if point in (work, "/dev", "/proc") or point.startswith("/proc/"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in row[5].split(","):
            flags |= MOUNT_FLAGS.get(opt, 0)
        try:
            mount(None, point, None, flags)
        except OSError as e:
            failed.append(str(e))
    return failed

# 1. Namespaces: as root directly; otherwise inside a new user namespace that maps only our
#    own uid and gid (when the kernel lets unprivileged users create one).
pidns = userns = False
if libc is not None and cfg["namespaces"] == "1":
    flags = NEWNS | NEWNET | NEWPID | NEWIPC | NEWUTS
    if not root:
        flags |= NEWUSER
    real_uid, real_gid = os.getuid(), os.getgid()
    if call("unshare", flags) == 0:
        if not root:
            userns = True  # whatever follows, its capabilities are dropped before the program runs
            try:
                write("/proc/self/setgroups", "deny")
                write("/proc/self/uid_map", f"{real_uid} {real_uid} 1")
                write("/proc/self/gid_map", f"{real_gid} {real_gid} 1")
                layers.append("userns")
            except OSError as e:
                notes.append(f"uid_map: {e}")
        layers += ["mountns", "netns", "pidns", "ipcns"]
        pidns = True
        try:
            failed = read_only_mounts(*((uid, uid) if root and uid is not None else (real_uid, real_gid)))
            notes += failed[:3]
            if not failed:
                layers.append("readonly-fs")
        except OSError as e:
            notes.append(str(e))
    else:
        notes.append(failure("unshare"))
        if not root and call("unshare", NEWUSER | NEWNET) == 0:
            userns = True
            layers.append("netns")

# 2. A supervisor: this process forks the program and outlives it. It enforces the timeout and,
#    as a child subreaper, inherits every orphan of the program, so that it can kill them all.
#    In a PID namespace the program is PID 1 there, and the kernel kills the rest when it ends.
if call("prctl", PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0:
    layers.append("subreaper")

def children():
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []

def disk_used(quota, max_inodes):
    """Bytes and entries under the working directory, walked without following links and
    without holding descriptors (a tree thousands of levels deep is fine); stops counting once
    past a limit. Run by the supervisor when there is no tmpfs quota ("disk-watch")."""
    import stat as st_
    used = count = 0
    top = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
    os.fchdir(top)
    os.close(top)
    stack = [os.listdir(".")]
    while stack and used <= quota and count <= max_inodes:
        if not stack[-1]:
            stack.pop()
            if stack:
                os.chdir("..")
            continue
        name = stack[-1].pop()
        try:
            info = os.lstat(name)
        except OSError:
            continue
        count += 1
        used += info.st_blocks * 512
        if st_.S_ISDIR(info.st_mode):
            try:
                fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            except PermissionError:  # chmod 000 by the program (not root): give it back its mode
                try:
                    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW)
                    os.chmod(f"/proc/self/fd/{fd}", 0o700)
                    os.close(fd)
                    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
                except OSError:
                    continue
            except OSError:
                continue
            try:  # list it first: the walk enters a directory only once it can come back out
                names = os.listdir(fd)
                os.fchdir(fd)
                stack.append(names)
            except OSError:
                continue
            finally:
                os.close(fd)
    return used, count

if "disk-quota" not in layers and hasattr(os, "pidfd_open"):
    layers.append("disk-watch")
child = os.fork()
if child:
    timed_out = disk_full = False
    watch = "disk-watch" in layers
    quota, max_inodes = int(cfg["disk_bytes"]), int(cfg["max_inodes"])
    try:
        pidfd = os.pidfd_open(child)
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if watch:
            import time
            deadline = time.monotonic() + float(cfg["timeout"])
            ended = []
            while not ended and time.monotonic() < deadline:
                ended = poller.poll(max(1, min(25, int((deadline - time.monotonic()) * 1000))))
                if not ended:
                    used, count = disk_used(quota, max_inodes)
                    if used > quota or count > max_inodes:
                        report("disk", used, count)
                        os.kill(child, 9)
                        disk_full = True
                        break
        else:
            ended = poller.poll(max(1, int(float(cfg["timeout"]) * 1000)))
    except OSError:  # no pidfd: an interval timer instead
        def expire(signum, frame):
            raise TimeoutError
        signal.signal(14, expire)  # SIGALRM
        signal.setitimer(signal.ITIMER_REAL, float(cfg["timeout"]))
        try:
            os.waitid(os.P_PID, child, os.WEXITED | os.WNOWAIT)
            ended = True
        except TimeoutError:
            ended = False
        signal.setitimer(signal.ITIMER_REAL, 0)
    if not ended and not disk_full:
        timed_out = True
        os.kill(child, 9)  # SIGKILL
    _, st = os.waitpid(child, 0)
    while True:  # orphans of the program: kill, reap, until none is left
        for pid in children():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    sig = os.WTERMSIG(st) if os.WIFSIGNALED(st) else 0
    code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + sig
    report("exit", code, sig, int(timed_out))
    os._exit(code)

# 3. The program's process: its own /proc, its own uid, no privileges, its limits.
if pidns:
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as e:
        notes.append(str(e))
os.chdir(work)
if root and uid is not None:
    # The standard library may live where the new uid cannot look (pyenv under /root, mode
    # 700): reach its directories through descriptors opened now.
    moved = {}
    for i, entry in enumerate(sys.path):
        if os.path.isdir(entry):
            parts = os.path.realpath(entry).split(os.sep)
            if any(not os.stat(os.sep.join(parts[:j]) or os.sep).st_mode & 0o001 for j in range(1, len(parts) + 1)):
                sys.path[i] = moved[entry] = f"/proc/self/fd/{os.open(entry, os.O_RDONLY | os.O_DIRECTORY)}"
    for module in list(sys.modules.values()):  # packages already imported look for submodules there
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            for i, entry in enumerate(search):
                for old, new in moved.items():
                    if entry == old or entry.startswith(old + os.sep):
                        search[i] = new + entry[len(old):]
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    layers.append("uid")
elif userns:
    # The capabilities the user namespace gave us (over its own namespaces) are dropped.
    class CapHeader(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    class CapData(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
    if call("capset", ctypes.byref(CapHeader(0x20080522, 0)), (CapData * 2)()) != 0:
        notes.append(failure("capset"))
        raise SystemExit("r1gym sandbox: could not drop the user namespace's capabilities")
call("prctl", PR_SET_PDEATHSIG, 9, 0, 0, 0)  # the uid change clears it: set it after
if call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
    layers.append("no_new_privs")

nproc = int(cfg["max_processes"])
if userns:
    nproc += 1  # the supervisor joined the user namespace too, and counts there
elif "uid" not in layers:
    # RLIMIT_NPROC counts every process of the user: leave room for those already running.
    me = os.getuid()
    for name in os.listdir("/proc") if os.path.isdir("/proc") else ():
        try:
            if name.isdigit() and os.stat("/proc/" + name).st_uid == me:
                with open(f"/proc/{name}/stat", "rb") as f:
                    nproc += int(f.read().rsplit(b")", 1)[1].split()[17])
        except (OSError, ValueError, IndexError):
            pass
cpu, fsize, nofile, memory = (int(cfg[k]) for k in ("cpu_seconds", "max_file_bytes", "max_open_files", "memory_bytes"))
# CPU: SIGXCPU at the soft limit (reported as "cpu"), SIGKILL a second later.
limits = [(resource.RLIMIT_CORE, 0, 0), (resource.RLIMIT_CPU, cpu, cpu + 1), (resource.RLIMIT_FSIZE, fsize, fsize),
          (resource.RLIMIT_NOFILE, nofile, nofile), (resource.RLIMIT_NPROC, nproc, nproc),
          (resource.RLIMIT_AS, memory, memory)]
unset = []
for which, soft, hard in limits:
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError) as e:  # e.g. RLIMIT_NPROC above the hard limit once the user's processes count
        unset.append(f"setrlimit {which} to {soft}: {e}")
notes += unset
if not unset:  # every limit, or the layer is missing (and full isolation refuses)
    layers.append("rlimits")

# 4. Landlock (Linux 5.13+, no privilege needed, allowed by Docker's default seccomp profile):
#    files may be written, created or removed only inside the working directory (and /dev/null);
#    with ABI 4+ no TCP bind or connect; with ABI 6+ no signal to a process outside the program
#    and no abstract UNIX socket outside it (its supervisor included).
def landlock():
    abi = call("syscall", 444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, VERSION)
    if abi < 1:
        notes.append(failure("landlock") if abi < 0 else "landlock: not available")
        return
    fs = (1 << 1) | (1 << 4) | (1 << 5) | sum(1 << b for b in range(6, 13))  # write, remove, make_*
    if abi >= 2:
        fs |= 1 << 13  # refer (rename / link across directories)
    if abi >= 3:
        fs |= 1 << 14  # truncate
    net = 3 if abi >= 4 else 0  # bind_tcp | connect_tcp
    scoped = 3 if abi >= 6 else 0  # abstract unix sockets | signals
    attr = (ctypes.c_uint64 * 3)(fs, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = call("syscall", 444, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        notes.append(failure("landlock_create_ruleset"))
        return
    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]
    try:
        for path, allowed in ((work, fs), (os.devnull, 1 << 1)):
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                if call("syscall", 445, ruleset, 1, ctypes.byref(PathBeneath(allowed, fd)), 0) != 0:
                    notes.append(failure(f"landlock_add_rule {path}"))
                    return
            finally:
                os.close(fd)
        if call("syscall", 446, ruleset, 0) != 0:  # landlock_restrict_self
            notes.append(failure("landlock_restrict_self"))
            return
    finally:
        os.close(ruleset)
    layers.append("landlock")
    if net:
        layers.append("landlock-net")
    if scoped:
        layers.append("landlock-scope")

# 5. seccomp (no privilege needed once no_new_privs is set): sockets other than AF_UNIX, new
#    namespaces, mounts, ptrace, other processes' memory, System V and POSIX message queues,
#    keyrings, bpf, perf, userfaultfd and io_uring are refused with EPERM (clone3 with ENOSYS,
#    so that the C library falls back to clone, whose namespace flags are refused).
SECCOMP = {  # audit arch: (syscall numbers refused, socket, clone, clone3)
    0xC000003E: ((272, 308, 165, 166, 155, 101, 310, 311, 29, 64, 68, 240, 248, 249, 250, 321, 298, 323, 425, 426,
                  427, 304), 41, 56, 435),  # x86_64
    0xC00000B7: ((97, 268, 40, 39, 41, 117, 270, 271, 194, 190, 186, 180, 217, 218, 219, 280, 241, 282, 425, 426,
                  427, 265), 198, 220, 435),  # aarch64
}
def seccomp():
    machine = os.uname().machine
    arch = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}.get(machine)
    if arch is None:
        notes.append(f"seccomp: no filter for {machine}")
        return
    refused, sock, clone, clone3 = SECCOMP[arch]
    EPERM, ENOSYS, ALLOW = 0x50001, 0x50026, 0x7FFF0000
    LD, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
    # (code, jump if true, jump if false, k); jumps count instructions after this one
    prog = [(LD, 0, 0, 4), (JEQ, 1, 0, arch), (RET, 0, 0, EPERM), (LD, 0, 0, 0), (JGE, 0, 1, 0x40000000),
            (RET, 0, 0, EPERM)]
    for nr in refused:
        prog += [(JEQ, 0, 1, nr), (RET, 0, 0, EPERM)]
    prog += [(JEQ, 0, 1, clone3), (RET, 0, 0, ENOSYS),
             (JEQ, 0, 4, sock), (LD, 0, 0, 16), (JEQ, 0, 1, 1), (RET, 0, 0, ALLOW), (RET, 0, 0, EPERM),
             (JEQ, 0, 3, clone), (LD, 0, 0, 16), (JSET, 0, 1, 0x7E020000), (RET, 0, 0, EPERM),
             (RET, 0, 0, ALLOW)]
    class Filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]
    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(Filter))]
    filters = (Filter * len(prog))(*(Filter(*i) for i in prog))
    if call("prctl", 22, 2, ctypes.byref(Prog(len(prog), filters)), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        notes.append(failure("seccomp"))
        return
    layers.append("seccomp")

if libc is not None and cfg["landlock"] == "1":
    landlock()
    seccomp()
os.umask(0o077)
if cfg["guard"] == "1":
    layers.append("guard")
report("layers", *layers)
if notes:
    report("notes", "; ".join(notes))
# Full isolation required and no profile of it complete: the program does not run.
profiles = [p.split(",") for p in cfg["require"].split("|") if p]
if profiles and all(any(layer not in layers for layer in p) for p in profiles):
    missing = min(([layer for layer in p if layer not in layers] for p in profiles), key=len)
    report("refused", *missing)
    os._exit(125)
os.close(status)

if cfg["guard"] == "1":
    import builtins, io, posix
    real_open, real_os_open = builtins.open, os.open
    top = os.path.realpath(work)
    me = str(os.getpid())

    def denied(name):
        def deny(*args, **kwargs):
            raise PermissionError(f"{name} is disabled in the r1gym sandbox")
        return deny

    def inside(path):
        if isinstance(path, int):
            return True
        real = os.path.realpath(os.fsdecode(path))
        return real == top or real.startswith(top + os.sep)

    def readable(path):
        if isinstance(path, int):
            return True
        parts = os.path.abspath(os.fsdecode(path)).split(os.sep)
        return not (len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and parts[2] != me)

    def check_open(file, mode="r", *args, **kwargs):
        if any(c in str(mode) for c in "wax+") and not inside(file):
            raise PermissionError(f"writing outside the sandbox's directory is disabled: {file!r}")
        if not readable(file):
            raise PermissionError(f"other processes are hidden in the r1gym sandbox: {file!r}")
        return real_open(file, mode, *args, **kwargs)

    def check_os_open(path, flags, *args, **kwargs):
        writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
        if flags & writes and not inside(path):
            raise PermissionError(f"writing outside the sandbox's directory is disabled: {path!r}")
        if not readable(path):
            raise PermissionError(f"other processes are hidden in the r1gym sandbox: {path!r}")
        return real_os_open(path, flags, *args, **kwargs)

    def path_checked(name, fn, count=1):
        def wrapper(*args, **kwargs):
            for p in args[:count]:
                if not inside(p):
                    raise PermissionError(f"os.{name} outside the sandbox's directory is disabled: {p!r}")
            return fn(*args, **kwargs)
        return wrapper

    builtins.open = io.open = check_open
    os.open = check_os_open
    for name in ("remove", "unlink", "rmdir", "mkdir", "chmod", "chown", "lchown", "truncate", "utime",
                 "mkfifo", "mknod"):
        if hasattr(os, name):
            setattr(os, name, path_checked(name, getattr(os, name)))
    for name in ("rename", "replace", "link", "symlink"):
        setattr(os, name, path_checked(name, getattr(os, name), 2))
    for name in ("system", "popen", "fork", "forkpty", "execv", "execve", "execl", "execle", "execlp", "execlpe",
                 "execvp", "execvpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp",
                 "spawnlpe", "posix_spawn", "posix_spawnp", "kill", "killpg", "setsid", "setpgid", "putenv",
                 "unsetenv", "chroot", "setuid", "setgid", "setreuid", "setresuid"):
        if hasattr(os, name):
            setattr(os, name, denied("os." + name))
        if hasattr(posix, name):  # the module os takes them from
            setattr(posix, name, denied("posix." + name))
    for name in ("subprocess", "_posixsubprocess", "socket", "_socket", "ctypes", "_ctypes", "multiprocessing",
                 "_multiprocessing", "pty"):
        sys.modules[name] = None

def finish(status):
    """Exit at once, as the interpreter would (non-daemon threads joined, output flushed),
    without its slow finalization: 5 ms a run."""
    if "threading" in sys.modules:
        sys.modules["threading"]._shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            status = status or 120
    os._exit(status)

code = compile(source, "<program>", "exec", dont_inherit=True)
namespace = {"__name__": "__main__", "__builtins__": __builtins__}
try:
    exec(code, namespace)
except SystemExit as e:
    if e.code is None or isinstance(e.code, int):
        finish(e.code or 0)
    print(e.code, file=sys.stderr)
    finish(1)
except BaseException as e:  # the traceback, with the program's lines, without this bootstrap's frame
    import linecache, traceback  # only now: importing them costs 8 ms
    linecache.cache["<program>"] = (len(source), None, source.decode("utf-8", "replace").splitlines(True), "<program>")
    traceback.print_exception(type(e), e, e.__traceback__.tb_next)
    finish(1)
finish(0)
'''


# The warm worker ("zygote"): a ``python -I -S`` that has loaded what the bootstrap needs and
# forks one fresh child per program, which then runs the same bootstrap as a cold start would
# (namespaces, supervisor, uid, limits, Landlock, seccomp, guard: the isolation does not
# change). It never reads a program, its output or its files: a request carries only the paths
# the parent prepared and the limits; a reply only the child's pid and exit status. Requests on
# stdin, one a line: ``ID\tBACKSTOP\tSTDOUT\tSTDERR\tSTATUS\tkey=value...``; replies on
# stdout: ``start ID PID``, ``exit ID RETURNCODE TIMED_OUT`` or ``fail ID``. A child subreaper,
# it kills whatever a killed supervisor leaves; it ends, killing what still runs, when its
# stdin closes.
_ZYGOTE = r'''
import os, sys, time
import resource, select, _signal  # what the bootstrap imports, loaded once
try:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
except (ImportError, OSError):
    libc = None
if libc is not None:
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: what a killed supervisor leaves comes here
bootstrap = compile(sys.argv[1], "<string>", "exec")
for name in sys.argv[2].split(","):  # what programs import most, stateless (see WARM_MODULES)
    try:
        __import__(name)
    except ImportError:
        pass
del sys.argv[1:]
me = os.getpid()
running = {}  # pidfd -> [request id, pid, backstop deadline, timed out]
poller = select.poll()
poller.register(0, select.POLLIN)

def reply(*words):
    try:
        os.write(1, (" ".join(map(str, words)) + "\n").encode())
    except OSError:  # the parent is gone: the loop sees its end of file next
        pass

def child(out, err, status, args):
    """In the forked child: become what a cold start is (a session of its own, stdio on the
    run's files, the run's directory and environment, a fresh __main__), then the bootstrap."""
    os.setsid()
    if libc is not None:
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG: SIGKILL if the worker dies
    if os.getppid() != me:
        os._exit(126)
    flags = os.O_WRONLY | os.O_NOFOLLOW
    fds = [os.open(out, flags), os.open(err, flags), os.open(status, flags | os.O_APPEND)]
    for target, fd in zip((1, 2, 3), fds):
        os.dup2(fd, target)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[0])  # the worker's pipes and pidfds
    cfg = dict(arg.split("=", 1) for arg in args)
    os.chdir(cfg["work"])
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": cfg["work"], "TMPDIR": cfg["work"], "LC_ALL": "C.UTF-8"}
    os.environ.clear()
    os.environ.update(env)
    sys.argv[:] = ["-c", *args]
    main = type(sys)("__main__")
    main.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = main
    for name in ("running", "buffer", "line", "data", "job", "waits", "poller", "fields"):
        globals().pop(name, None)  # the worker's state (other runs' pids, pending requests) goes
    rc = 0
    try:
        exec(bootstrap, main.__dict__)
    except SystemExit as e:  # as the interpreter would end a -c script
        rc = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
        if not isinstance(e.code, int) and e.code is not None:
            print(e.code, file=sys.stderr)
    except BaseException:
        import traceback
        traceback.print_exc()
        rc = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(rc)

def start(line):
    fields = line.split("\t")
    jid = fields[0]
    try:
        _, backstop, out, err, status, *args = fields
        args = [a for a in args if not a.startswith("status_fd=")] + ["status_fd=3"]
        deadline = time.monotonic() + float(backstop)
        exit_now = os._exit
        pid = os.fork()
    except Exception:  # a malformed request, or no fork (EAGAIN): this run goes cold, not the worker
        reply("fail", jid)
        return
    if pid == 0:
        try:
            child(out, err, status, args)
        finally:
            exit_now(127)  # the child never returns into the worker's loop
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        reply("fail", jid)
        return
    running[pidfd] = [jid, pid, deadline, False]
    poller.register(pidfd, select.POLLIN)
    reply("start", jid, pid)

def end(pidfd):
    jid, pid, _, timed_out = running.pop(pidfd)
    poller.unregister(pidfd)
    os.close(pidfd)
    try:  # the group of a session leader not yet reaped: its id is still ours
        os.killpg(pid, 9)
    except OSError:
        pass
    _, st = os.waitpid(pid, 0)
    reply("exit", jid, -os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st), int(timed_out))

def orphans():
    """Kill and reap what a killed supervisor left (a subreaper, the worker adopts it): every
    child that is no run's supervisor, until none is left."""
    while True:
        try:
            with open(f"/proc/self/task/{me}/children") as f:
                pids = {int(p) for p in f.read().split()}
        except OSError:
            return
        pids -= {job[1] for job in running.values()}
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

buffer = b""
while True:
    now = time.monotonic()
    for job in running.values():
        if not job[3] and job[2] <= now:
            job[3] = True
            try:
                os.killpg(job[1], 9)
            except OSError:
                pass
    waits = [job[2] - now for job in running.values() if not job[3]]
    for fd, _ in poller.poll(max(1, int(min(waits) * 1000) + 1) if waits else None):
        if fd != 0:
            end(fd)
            continue
        data = os.read(0, 65536)
        if not data:  # the parent is gone or done: nothing outlives it
            for pidfd in list(running):
                try:
                    os.killpg(running[pidfd][1], 9)
                except OSError:
                    pass
                end(pidfd)
            orphans()
            os._exit(0)
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            start(line.decode("utf-8", "surrogateescape"))
    orphans()
'''


#: The standard modules the warm worker imports once, so that a program that imports them
#: (HumanEval's ``from typing import List``: 13 ms in a fresh interpreter) finds them loaded.
#: Only modules without state of their own: not ``random`` (its generator is seeded at import,
#: and every child would draw the same numbers), not ``tempfile`` (it caches its directory).
WARM_MODULES = ("typing", "math", "string", "copy", "itertools", "functools", "collections", "re", "heapq", "bisect")

#: seconds the parent waits for the warm worker's answer past the worker's own backstop
#: (``timeout + BACKSTOP_GRACE``) before it takes the worker for stuck, kills it and runs the
#: program cold
WORKER_GRACE = 10.0


#: Every descriptor of the parent's ends of the workers' pipes, from its creation to its close
#: (under ``_fds_lock``): a process forked from the parent closes all of them, also those of a
#: worker being started or replaced at that moment.
_worker_fds: set[int] = set()
_fds_lock = threading.Lock()


def _new_pipe() -> tuple[int, int]:
    with _fds_lock:
        read, write = os.pipe2(os.O_CLOEXEC)
        _worker_fds.update((read, write))
    return read, write


def _close_fd(fd: int) -> None:
    with _fds_lock:
        if fd in _worker_fds:
            _worker_fds.discard(fd)
            os.close(fd)


class _Zygote:
    """The parent's end of one warm worker: a pipe for requests and one for replies, plain
    descriptors (so that a forked child can close its copies without touching a lock). No
    thread of its own: a thread waiting for its reply reads the pipe for everyone while it holds
    ``reading``, and hands that over to another waiting thread when its own reply is in.

    Replies: ``start ID PID`` (the run's supervisor, a session leader), ``exit ID RETURNCODE
    TIMED_OUT``, or ``fail ID`` (the worker could not start that run: it runs cold)."""

    def __init__(self, python: str, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        req_r, self.req_w = _new_pipe()
        self.rep_r, rep_w = _new_pipe()
        try:
            self.proc = subprocess.Popen(
                [python, "-I", "-S", "-c", _ZYGOTE, bootstrap, ",".join(WARM_MODULES)],
                stdin=req_r,
                stdout=rep_w,
                stderr=subprocess.DEVNULL,
                cwd="/",
                env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
                start_new_session=True,
            )
        except OSError:
            _close_fd(self.req_w)
            _close_fd(self.rep_r)
            raise
        finally:
            _close_fd(req_r)
            _close_fd(rep_w)
        self.lock = threading.Lock()  # the table of pending runs, the request pipe
        self.reading = threading.Lock()  # the reply pipe and its buffer
        self.buffer = b""
        # request id -> [event, (returncode, timed_out) or None, the supervisor's pid or None]
        self.pending: dict[int, list] = {}
        self.next_id = 0
        self.alive = True

    def run(self, paths: tuple[str, ...], args: list[str], backstop: float) -> tuple[int, bool] | None:
        """Run one program (its files prepared); its supervisor's return code and whether the
        backstop killed it, or None when the worker could not run it (it failed to start it, or
        is gone: then whatever of the run is left is killed)."""
        if any("\t" in x or "\n" in x for x in (*paths, *args)):
            return None  # not one line of the protocol (a TMPDIR with a tab): it runs cold
        slot: list = [threading.Event(), None, None]
        with self.lock:
            if not self.alive:
                return None
            self.next_id += 1
            jid = self.next_id
            self.pending[jid] = slot
            data = "\t".join((str(jid), repr(backstop), *paths, *args)).encode("utf-8", "surrogateescape") + b"\n"
            try:
                while data:
                    data = data[os.write(self.req_w, data) :]
            except OSError:
                self.pending.pop(jid, None)
                self.alive = False
                return None
        deadline = time.monotonic() + backstop + WORKER_GRACE
        while slot[1] is None and jid in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:  # no answer past its own backstop: stuck, and killed
                self.kill()
                break
            if self.reading.acquire(blocking=False):
                try:
                    while slot[1] is None and jid in self.pending and time.monotonic() < deadline:
                        self._read(min(0.5, max(0.0, deadline - time.monotonic())))
                finally:
                    self.reading.release()
                    with self.lock:  # another thread waits for its reply: it reads now
                        other = next(iter(self.pending.values()), None)
                    if other is not None:
                        other[0].set()
            elif slot[0].wait(min(0.05, left)):
                slot[0].clear()
        if slot[1] is None and slot[2] is not None:  # lost during the run: its processes go too
            try:
                os.killpg(slot[2], signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return slot[1]

    def _read(self, timeout: float) -> None:
        """Read what the worker wrote within ``timeout`` s and hand each reply to its run."""
        if not select.select([self.rep_r], [], [], timeout)[0]:
            return
        try:
            data = os.read(self.rep_r, 4096)
        except OSError:
            data = b""
        if not data:
            self._fail()
            return
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            words = line.split()
            if len(words) < 2 or not words[1].isdigit():
                continue
            jid = int(words[1])
            with self.lock:
                slot = self.pending.get(jid)
                if slot is not None and words[0] == b"start" and len(words) == 3:
                    slot[2] = int(words[2])
                    continue
                if words[0] not in (b"exit", b"fail"):
                    continue
                self.pending.pop(jid, None)
            if slot is not None:
                if words[0] == b"exit" and len(words) == 4:
                    slot[1] = (int(words[2]), words[3] == b"1")
                slot[0].set()

    def _fail(self) -> None:
        """The worker is gone (or stuck, and killed): every waiting run learns it."""
        with self.lock:
            self.alive = False
            slots, self.pending = list(self.pending.values()), {}
        for slot in slots:
            slot[0].set()
        self.proc.poll()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._fail()
        try:
            self.proc.wait(2.0)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        """Close its requests (it kills what still runs and ends), wait for it, close the pipes."""
        with self.lock:
            self.alive = False
            fds, self.req_w, self.rep_r = (self.req_w, self.rep_r), -1, -1
        for fd in fds:
            _close_fd(fd)
        try:
            self.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()


_zygotes: dict[str, _Zygote] = {}
_zygote_starts: dict[str, int] = {}
_zygotes_lock = threading.Lock()
#: a worker that died is started again at most this many times; then programs run cold
MAX_WORKER_STARTS = 4


@lru_cache(maxsize=1)
def _pidfds() -> bool:
    """Whether this Python and kernel give process descriptors (Python 3.9+, Linux 5.3+), which
    the worker waits on."""
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return True


def _zygote(python: str) -> _Zygote | None:
    """The warm worker of ``python``, started on first use; None where there is none (no
    process descriptors, or it could not start, or it died too often)."""
    if not _pidfds():
        return None
    bootstrap = _BOOTSTRAP  # as it is now (the tests replace it to simulate other machines)
    with _zygotes_lock:
        worker = _zygotes.get(python)
        if worker is not None and worker.alive and worker.bootstrap == bootstrap:
            return worker
        died = worker is not None and not worker.alive
        if died and _zygote_starts.get(python, 0) >= MAX_WORKER_STARTS:
            worker.close()  # type: ignore[union-attr]  # the dead one stays, its pipes closed, so that no other starts
            return None
        if worker is not None:
            if worker.pending:  # another bootstrap's runs still going: this one runs cold
                return None
            del _zygotes[python]
            worker.close()
        _zygote_starts[python] = _zygote_starts.get(python, 0) + died
        try:
            _zygotes[python] = _Zygote(python, bootstrap)
        except OSError:
            return None
        return _zygotes[python]


def _close_zygotes() -> None:
    with _zygotes_lock:
        workers = list(_zygotes.values())
        _zygotes.clear()
    for worker in workers:
        worker.close()


def _before_fork() -> None:
    _fds_lock.acquire()


def _after_fork_in_parent() -> None:
    _fds_lock.release()


def _forget_zygotes() -> None:
    """In a forked child (multiprocessing, a Ray worker): the parent's workers are not ours.
    Close our copies of their pipes (so that a worker still sees its end of file when the parent
    ends) without a word to them; a warm run here starts a worker of its own."""
    global _zygotes_lock, _fds_lock
    for fd in _worker_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    _worker_fds.clear()
    _fds_lock = threading.Lock()  # held by the parent's fork: a fresh one here
    _zygotes_lock = threading.Lock()
    for worker in _zygotes.values():
        worker.lock, worker.reading, worker.alive, worker.pending = threading.Lock(), threading.Lock(), False, {}
        worker.req_w = worker.rep_r = -1
    _zygotes.clear()
    _zygote_starts.clear()


atexit.register(_close_zygotes)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_forget_zygotes)


@lru_cache(maxsize=1)
def sandbox_info() -> dict[str, object]:
    """The isolation layers a run gets on this machine, found by running a tiny program once.

    Returns:
        ``{"layers": [...], "root": bool, "namespaces": bool, "landlock": bool, "profile": str | None,
        "full": bool, "missing": [...], "python": path, "passed": bool, "stderr": str, "notes": str}``:
        ``namespaces`` is True when mount, network and PID namespaces can be created here,
        ``landlock`` when Landlock can confine the program's writes; ``profile`` names the profile
        of full isolation (:data:`PROFILES`) this machine completes, ``full`` says there is one,
        ``missing`` lists the layers missing from the closest one; ``notes`` says why a layer is
        missing. Never raises nor warns for a weak machine: it reports one.
    """
    result, _ = _run("pass", 10.0, 512, 16, 16, 64, 65536, True, True, None, require=())
    root = os.geteuid() == 0
    profile = isolation_profile(result.isolation, root)
    missing = [] if profile else _missing(result.isolation, root)
    return {
        "layers": list(result.isolation),
        "root": root,
        "namespaces": "pidns" in result.isolation,
        "landlock": "landlock" in result.isolation,
        "profile": profile,
        "full": profile is not None,
        "missing": missing,
        "python": sys.executable,
        "passed": result.passed,
        "stderr": result.stderr,
        "notes": result.notes,
    }


#: The longest ``timeout`` of :func:`run_python`, in seconds: a day.
MAX_TIMEOUT = 86_400.0
#: The largest ``memory_mb``, ``max_file_mb`` and ``max_disk_mb`` (16 TiB): their bytes must fit a resource limit.
MAX_MEGABYTES = 1 << 24


def _hard_limit(name: str) -> int | None:
    """This process's hard resource limit ``name`` (a child cannot raise it), or None if unlimited."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return None
    hard = resource.getrlimit(getattr(resource, name))[1]
    return None if hard == resource.RLIM_INFINITY or hard < 0 else int(hard)


def _check_arguments(
    timeout: float,
    memory_mb: int,
    max_processes: int,
    max_file_mb: int,
    max_open_files: int,
    max_output: int,
    max_disk_mb: int = 64,
    max_files: int = 4096,
) -> None:
    """Reject a limit :func:`run_python` could not set, before anything runs."""
    if isinstance(timeout, bool) or not (
        isinstance(timeout, (int, float)) and math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT
    ):
        raise ValueError(f"timeout must be a positive number of seconds at most {MAX_TIMEOUT:g}, got {timeout!r}")
    nproc, nofile = _hard_limit("RLIMIT_NPROC"), _hard_limit("RLIMIT_NOFILE")
    for name, value, least, most, why in (
        ("memory_mb", memory_mb, 32, MAX_MEGABYTES, "its bytes must fit a resource limit"),
        # one below the hard limit: in a user namespace the supervisor counts too
        ("max_processes", max_processes, 1, None if nproc is None else nproc - 1, "this process's hard RLIMIT_NPROC"),
        ("max_file_mb", max_file_mb, 1, MAX_MEGABYTES, "its bytes must fit a resource limit"),
        ("max_open_files", max_open_files, 16, nofile, "this process's hard RLIMIT_NOFILE"),
        ("max_output", max_output, 0, None, ""),
        ("max_disk_mb", max_disk_mb, 1, MAX_MEGABYTES, "its bytes must fit a mount option"),
        ("max_files", max_files, 16, 1 << 31, "a tmpfs's inode count"),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if most is not None and value > most:
            raise ValueError(
                f"{name} must be at most {most} ({why}: a sandboxed program could not be held to it), got {value!r}"
            )


def run_python(
    code: str,
    timeout: float = 3.0,
    memory_mb: int = 512,
    *,
    max_processes: int = 16,
    max_file_mb: int = 16,
    max_open_files: int = 64,
    max_output: int = 65536,
    max_disk_mb: int = 64,
    max_files: int = 4096,
    guard: bool = True,
    namespaces: bool = True,
    python: str | None = None,
    isolation: str | None = None,
    warm: bool = True,
) -> SandboxResult:
    """Run ``code`` as a program in a sandbox and report what happened.

    By default the program gets *full* isolation (a complete profile of :data:`PROFILES`:
    namespaces, a read-only file system and a tmpfs quota; or Landlock, seccomp and a watched
    quota; with the supervisor, a fresh uid or a user namespace or Landlock's signal scope,
    ``no_new_privs`` and the limits) or does not run at all: where this machine cannot give it,
    :class:`~r1gym.errors.SandboxUnavailableError` says which layers are missing and what to do.
    ``isolation="best-effort"`` (or ``R1GYM_SANDBOX=best-effort`` in the environment) runs it
    with the layers there are, and warns once per process
    (:class:`SandboxWeakWarning`).

    Args:
        code: the program, Python source text.
        timeout: wall-clock seconds it may run; ``RLIMIT_CPU`` is ``ceil(timeout) + 1`` seconds.
        memory_mb: its address-space limit (``RLIMIT_AS``) in MiB.
        max_processes: ``RLIMIT_NPROC``: processes and threads the program may have at once,
            itself included. Without a uid or user namespace of its own, ``RLIMIT_NPROC``
            counts all of the user's processes, and the limit is set that many above their
            number.
        max_file_mb: the largest file it may write (``RLIMIT_FSIZE``), its output included.
        max_open_files: ``RLIMIT_NOFILE``.
        max_output: characters of stdout and of stderr kept in the result.
        max_disk_mb: its disk quota: the MiB its working directory may hold. With namespaces, a
            tmpfs of that size (a write past it fails with ``ENOSPC``; the pages live in memory);
            otherwise the supervisor measures the directory every 25 ms and kills the program
            past the quota (``killed_reason="disk"``; it may overshoot by what it writes in 25 ms,
            at most ``max_file_mb`` per file).
        max_files: the files and directories its working directory may hold (the tmpfs's inodes,
            or the supervisor's count).
        guard: install the Python-level guard (defense in depth, on by default).
        namespaces: use namespaces where the machine allows them. ``False`` skips them (to test
            the ``"landlock"`` profile, or to save their cost, a few ms a run): it makes
            ``isolation`` default to ``"best-effort"`` (which warns only where the ``"landlock"``
            profile is incomplete); with ``isolation="full"`` it runs under that profile or is
            refused.
        python: the interpreter; ``sys.executable`` by default.
        isolation: ``"full"`` (the default) or ``"best-effort"``; None takes the environment
            variable ``R1GYM_SANDBOX`` when set, else ``"full"`` (``"best-effort"`` when
            ``namespaces=False``).
        warm: run in a child of the interpreter's warm worker (started on first use); False
            starts a fresh interpreter. The isolation is the same; where there is no worker
            (no ``os.pidfd_open``), or it is lost during the run, the program runs cold.

    Returns:
        A :class:`SandboxResult`. The program's own failures (exceptions, limits, timeout) are
        reported there, never raised.

    Raises:
        SandboxUnavailableError: full isolation was required and this machine cannot give it;
            the program did not run.
    """
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, got {type(code).__name__}")
    _check_arguments(timeout, memory_mb, max_processes, max_file_mb, max_open_files, max_output, max_disk_mb, max_files)
    mode = _isolation_mode(isolation, namespaces)
    root = os.geteuid() == 0
    result, refused = _run(
        code,
        timeout,
        memory_mb,
        max_processes,
        max_file_mb,
        max_open_files,
        max_output,
        guard,
        namespaces,
        python,
        require=tuple(full_isolation(root, name) for name in PROFILES) if mode == "full" else (),
        max_disk_mb=max_disk_mb,
        max_files=max_files,
        warm=warm,
    )
    if refused:
        raise SandboxUnavailableError(_refusal(refused, result, root, namespaces))
    if isolation_profile(result.isolation, root) is None:
        _warn_weak(_missing(result.isolation, root), result.notes, namespaces)
    return result


def _isolation_mode(isolation: str | None, namespaces: bool) -> str:
    """``"full"`` or ``"best-effort"``: the argument, else ``R1GYM_SANDBOX``, else the default."""
    if isolation is None:
        isolation = os.environ.get(ENV_VAR, "").strip() or None
        if isolation is not None and isolation not in ISOLATION_MODES:
            raise ValueError(f"{ENV_VAR} must be one of {', '.join(ISOLATION_MODES)}, got {isolation!r}")
    if isolation is None:
        return "full" if namespaces else "best-effort"
    if isolation not in ISOLATION_MODES:
        raise ValueError(f"isolation must be one of {', '.join(map(repr, ISOLATION_MODES))}, got {isolation!r}")
    return isolation


def _refusal(missing: list[str], result: SandboxResult, root: bool, namespaces: bool) -> str:
    why = result.notes or "no reason given"
    if not namespaces:
        why = f"namespaces=False was passed; {why}"
    landlock = "a Linux kernel with Landlock enabled (5.13+ as root; 6.12+ as a normal user, for its signal scoping)"
    if root:
        fix = (
            f"{landlock}, which a default Docker container allows; or run as root with CAP_SYS_ADMIN "
            "(Docker: --cap-add SYS_ADMIN, plus --security-opt seccomp=unconfined apparmor=unconfined where those "
            "profiles block unshare/mount)"
        )
    else:
        fix = (
            f"{landlock}; or enable unprivileged user namespaces "
            "(sysctl -w kernel.unprivileged_userns_clone=1; sysctl -w user.max_user_namespaces=15000; "
            "on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0); or run as root"
        )
    return (
        f"r1gym sandbox: full isolation for untrusted code is not available here, so the program was "
        f"not run. Missing layers: {', '.join(missing)} ({why}; in force: {' '.join(result.isolation) or 'none'}). "
        f"To fix: {fix}; or accept the weaker isolation explicitly with run_python(..., "
        f"isolation='best-effort') or the environment variable {ENV_VAR}=best-effort (see docs/code.md)."
    )


def _warn_weak(missing: list[str], notes: str, namespaces: bool) -> None:
    """Warn, once per process, that a program ran without some layers of full isolation."""
    global _weak_warned
    with _weak_lock:
        if _weak_warned:
            return
        _weak_warned = True
    why = "namespaces=False" if not namespaces else (notes or "this machine does not give them")
    warnings.warn(
        f"r1gym sandbox: running untrusted code WITHOUT full isolation (best-effort mode): missing "
        f"{', '.join(missing)} ({why}). A program may write the user's files, reach the network or "
        f"signal other processes. Shown once per process; see docs/code.md.",
        SandboxWeakWarning,
        stacklevel=3,
    )


def _run(
    code: str,
    timeout: float,
    memory_mb: int,
    max_processes: int,
    max_file_mb: int,
    max_open_files: int,
    max_output: int,
    guard: bool,
    namespaces: bool,
    python: str | None,
    *,
    require: tuple[tuple[str, ...], ...],
    max_disk_mb: int = 64,
    max_files: int = 4096,
    warm: bool = False,
) -> tuple[SandboxResult, list[str]]:
    """Run ``code`` (arguments checked); the bootstrap refuses to start it when no profile of
    ``require`` is complete. Returns the result and the layers missing from the closest profile
    when it refused. ``warm``: a child of the warm worker runs the bootstrap instead of a fresh
    interpreter; where the worker is missing or lost during the run, the program runs cold
    (from the start, in a fresh directory)."""
    start = time.perf_counter()
    root = os.geteuid() == 0
    uid = UID_BASE + secrets.randbelow(UID_SPAN) if root else None
    base = tempfile.mkdtemp(prefix="r1gym-sandbox-")
    fds: list[int] = []
    proc: subprocess.Popen | None = None
    lost = False
    try:
        os.chmod(base, 0o711)
        work = os.path.join(base, "work")
        os.mkdir(work, 0o700)
        if uid is not None:
            os.chown(work, uid, uid)
        program = os.path.join(base, "program.py")
        fd = os.open(program, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(code.encode("utf-8", "surrogatepass"))
        for name, flag in (("stdout", 0), ("stderr", 0), ("status", os.O_APPEND)):
            fds.append(os.open(os.path.join(base, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | flag, 0o600))
        out, err, status_fd = fds
        cfg = {
            "status_fd": status_fd,
            "work": work,
            "program": program,
            "uid": "" if uid is None else uid,
            "namespaces": int(bool(namespaces)),
            "require": "|".join(",".join(p) for p in require),
            "landlock": 1,
            "disk_bytes": int(max_disk_mb) << 20,
            "max_inodes": int(max_files),
            "guard": int(bool(guard)),
            "timeout": float(timeout),
            "cpu_seconds": math.ceil(timeout) + 1,
            "memory_bytes": int(memory_mb) << 20,
            "max_file_bytes": int(max_file_mb) << 20,
            "max_open_files": int(max_open_files),
            "max_processes": int(max_processes),
        }
        worker = _zygote(python or sys.executable) if warm else None
        if worker is not None:
            for fd in fds:
                os.close(fd)
            fds.clear()
            paths = tuple(os.path.join(base, name) for name in ("stdout", "stderr", "status"))
            args = [f"{k}={v}" for k, v in cfg.items()]
            outcome = worker.run(paths, args, timeout + BACKSTOP_GRACE)  # type: ignore[arg-type]
            if outcome is None:  # the worker is gone (its children with it): run again, cold
                lost = True
                if uid is not None:
                    _kill_uid(uid)
            else:
                layers, status = _read_status(base)
                if uid is not None and "pidns" not in layers:
                    _kill_uid(uid)
                result = _result(base, outcome[0], outcome[1], layers, status, max_output, start)
        else:
            env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LC_ALL": "C.UTF-8"}
            proc = subprocess.Popen(
                [python or sys.executable, "-I", "-S", "-c", _BOOTSTRAP, *(f"{k}={v}" for k, v in cfg.items())],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                pass_fds=(status_fd,),
                cwd=work,
                env=env,
                start_new_session=True,
            )
            for fd in (out, err, status_fd):
                os.close(fd)
            fds.clear()
            # The bootstrap's supervisor enforces the timeout and returns once every process of the
            # program is gone; this wait is the backstop.
            timed_out = not _wait(proc, timeout + BACKSTOP_GRACE)
            _kill_group(proc)
            proc.wait()
            layers, status = _read_status(base)
            if uid is not None and "pidns" not in layers:
                _kill_uid(uid)
            result = _result(base, proc.returncode, timed_out, layers, status, max_output, start)
    finally:
        for fd in fds:
            os.close(fd)
        if proc is not None and proc.returncode is None:
            _kill_group(proc)
            proc.wait()
        left = _remove(base)
    if lost:
        return _run(
            code, timeout, memory_mb, max_processes, max_file_mb, max_open_files, max_output, guard, namespaces,
            python, require=require, max_disk_mb=max_disk_mb, max_files=max_files, warm=False,
        )  # fmt: skip
    if left:  # never an exception: the program's result stands, with a note
        result = dataclasses.replace(result, notes="; ".join(n for n in (result.notes, left) if n))
    return result, list(status.get("refused", ()))


def _wait(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for ``proc`` to end without reaping it (so that its process group id stays ours
    until the group is killed); True if it ended in time."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfd (old kernel or Python): poll
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _ended(proc.pid):
                return True
            time.sleep(0.002)
        return _ended(proc.pid)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(max(1, int(timeout * 1000))))
    finally:
        os.close(pidfd)


def _ended(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (it leads its own session; not yet reaped, so the
    group id cannot belong to anyone else)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_uid(uid: int) -> None:
    """SIGKILL every live process of ``uid`` (the ones that left the process group), until none
    is left. Only needed without a PID namespace; a scan of ``/proc`` costs about 0.2 ms."""
    for _ in range(50):
        found = False
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                with open(f"/proc/{name}/stat", "rb") as f:
                    if f.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                        continue  # already dead, waiting for its parent
                os.kill(int(name), signal.SIGKILL)
                found = True
            except (OSError, IndexError):
                pass
        if not found:
            return
        time.sleep(0.005)


def _read_status(base: str) -> tuple[list[str], dict]:
    """The layers the bootstrap applied, its notes, and the supervisor's exit record (if any)."""
    layers: list[str] = []
    status: dict = {}
    try:
        with open(os.path.join(base, "status"), encoding="utf-8") as f:
            for line in f:
                kind, _, rest = line.rstrip("\n").partition(" ")
                if kind == "layers":
                    layers = rest.split()
                elif kind == "notes":
                    status["notes"] = rest
                elif kind == "disk":
                    status["disk"] = rest
                elif kind == "refused":
                    status["refused"] = rest.split()
                elif kind == "exit":
                    code, sig, timed_out = (int(w) for w in rest.split())
                    status.update(exit=code, signal=sig, timed_out=bool(timed_out))
    except (OSError, ValueError):
        pass
    return layers, status


def _result(
    base: str, returncode: int, timed_out: bool, layers: list[str], status: dict, max_output: int, start: float
) -> SandboxResult:
    if status.get("signal"):
        returncode = -int(status["signal"])
    elif "exit" in status:
        returncode = int(status["exit"])
    timed_out = timed_out or bool(status.get("timed_out"))
    stdout = _read(os.path.join(base, "stdout"), max_output)
    stderr = _read(os.path.join(base, "stderr"), max_output)
    reason: str | None = None
    if timed_out:
        reason = "timeout"
    elif "disk" in status:
        reason = "disk"
    elif returncode == -signal.SIGXCPU:
        reason = "cpu"
    elif "MemoryError" in stderr[-2000:]:
        reason = "memory"
    elif returncode is not None and returncode < 0:
        try:
            reason = f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            reason = f"signal {-returncode}"
    return SandboxResult(
        passed=returncode == 0 and not timed_out,
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        killed_reason=reason,
        duration=time.perf_counter() - start,
        isolation=tuple(layers),
        notes="; ".join(
            n
            for n in (
                str(status.get("notes", "")),
                "disk quota exceeded: {} bytes in {} files and directories".format(*status["disk"].split())
                if "disk" in status
                else "",
            )
            if n
        ),
    )


def _read(path: str, limit: int) -> str:
    """A file's text, at most ``limit`` characters: the head and the tail when it is longer."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size <= 8 * limit + 8:
                data = f.read()
            else:
                head = f.read(4 * limit)
                f.seek(size - 4 * limit)
                data = head + b"\n" + f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + _TRUNCATED + text[len(text) - (limit - half) :]


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _remove(base: str) -> str:
    """Remove the directory ``base`` and whatever a program left in it; never raises.

    Hostile trees included: the walk is iterative (a tree 100,000 levels deep is fine), every
    operation is relative to a directory descriptor (no path length limit, one descriptor open
    at a time), symbolic links are removed, never followed, and a directory the program made
    unreadable or unwritable (``chmod 000``) is given back ``0o700`` before it is entered.

    Returns:
        ``""`` when ``base`` is gone; otherwise a note saying what is left and why.
    """
    problems: list[str] = []
    try:
        parent = os.open(os.path.dirname(base) or os.curdir, _DIR_FLAGS & ~os.O_NOFOLLOW)
    except OSError as e:
        return f"clean-up: {base} left behind: {e}"
    try:
        _remove_tree(parent, os.path.basename(base), problems)
    except Exception as e:  # whatever happens, run_python returns its result
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        os.close(parent)
    if not problems and not _exists(base):
        return ""
    shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return f"clean-up: {base} left behind ({shown or 'it came back'})"


def _exists(path: str) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True


def _open_dir(parent: int, name: str) -> int:
    """A descriptor of the directory ``name`` in ``parent`` (never through a symbolic link),
    made ``0o700`` first if its mode keeps us out, and after if it keeps us from emptying it."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except PermissionError:
        _chmod_dir(parent, name)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        if os.fstat(fd).st_mode & stat.S_IRWXU != stat.S_IRWXU:
            os.fchmod(fd, stat.S_IRWXU)
    except OSError:
        pass  # as root it makes no difference; otherwise unlink says what is wrong
    return fd


def _chmod_dir(parent: int, name: str) -> None:
    """``chmod 700`` the directory ``name`` in ``parent`` without following a symbolic link."""
    try:
        os.chmod(name, stat.S_IRWXU, dir_fd=parent, follow_symlinks=False)
        return
    except (NotImplementedError, OSError):
        pass  # no AT_SYMLINK_NOFOLLOW: through an O_PATH descriptor
    fd = os.open(name, getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    try:
        os.chmod(f"/proc/self/fd/{fd}", stat.S_IRWXU)
    finally:
        os.close(fd)


def _empty(fd: int, problems: list[str]) -> list[str]:
    """Unlink everything in the directory ``fd`` but its subdirectories; return their names."""
    with os.scandir(fd) as it:
        entries = [(entry.name, _is_dir(entry)) for entry in it]
    subdirs = []
    for name, is_dir in entries:
        if is_dir:
            subdirs.append(name)
            continue
        try:
            os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            subdirs.append(name)
        except OSError as e:
            problems.append(f"unlink {name!r}: {e.strerror}")
    return subdirs


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _remove_tree(top_parent: int, top: str, problems: list[str]) -> None:
    """Remove ``top`` (in the directory ``top_parent``) and everything under it, depth first,
    without recursion: a stack of ``[name, (st_dev, st_ino), subdirectories left]``, one
    descriptor open at a time; going up is through ``..``, checked against the stack."""
    try:
        fd = _open_dir(top_parent, top)
    except FileNotFoundError:
        return
    except NotADirectoryError:  # not a directory (or a symbolic link): just the entry
        os.unlink(top, dir_fd=top_parent)
        return
    st = os.fstat(fd)
    stack: list[list] = [[top, (st.st_dev, st.st_ino), None]]
    try:
        while stack:
            frame = stack[-1]
            if frame[2] is None:
                try:
                    frame[2] = _empty(fd, problems)
                except OSError as e:
                    problems.append(f"scan {frame[0]!r}: {e.strerror}")
                    frame[2] = []
            if frame[2]:
                name = frame[2].pop()
                try:
                    child = _open_dir(fd, name)
                except FileNotFoundError:
                    continue
                except NotADirectoryError:  # replaced since the scan: just the entry
                    _unlink(fd, name, problems)
                    continue
                except OSError as e:
                    problems.append(f"open {name!r}: {e.strerror}")
                    continue
                os.close(fd)
                fd = child
                st = os.fstat(fd)
                stack.append([name, (st.st_dev, st.st_ino), None])
                continue
            stack.pop()
            if stack:
                up = os.open(os.pardir, _DIR_FLAGS, dir_fd=fd)
                st = os.fstat(up)
                if (st.st_dev, st.st_ino) != stack[-1][1]:
                    os.close(up)
                    problems.append(f"{frame[0]!r}: its parent changed during the clean-up")
                    return
            else:
                up = top_parent
            os.close(fd)
            fd = up
            try:
                os.rmdir(frame[0], dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError as e:
                problems.append(f"rmdir {frame[0]!r}: {e.strerror}")
    finally:
        if fd != top_parent:
            os.close(fd)


def _unlink(fd: int, name: str, problems: list[str]) -> None:
    try:
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        pass
    except OSError as e:
        problems.append(f"unlink {name!r}: {e.strerror}")
