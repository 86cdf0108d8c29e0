"""Run one submission's process tree in a sandbox built from what Linux already provides.

With Debian's ``bubblewrap`` (``bwrap``): new user, PID, network, IPC and UTS namespaces (no
network at all, no other process visible); only the system folders (/usr, /etc, ...), Python and
the kubelab package are mounted, read-only, so the reference solutions, the submissions, the
gradebook and the rest of the instructor's files do not exist inside; the check modules are
replaced by a stand-in; /tmp and home are private; ``--die-with-parent``; the tree runs as user
65534 (nobody) of its own user namespace, with no capabilities. Without bubblewrap, util-linux
``unshare`` gives new network and PID namespaces (files stay visible). Without either, the
submission runs unconfined and the instructor is warned. In every case resource limits cap
memory, processes, file size and CPU
time, and the caller kills the whole process group at the end.

RLIMIT_NPROC does not bind root (the kernel exempts uid 0 and CAP_SYS_RESOURCE), and a user namespace
that root creates maps its user back to uid 0. So when the grader runs as root, the tree is dropped to
the real uid/gid 65534 with util-linux ``setpriv`` (no capabilities, no supplementary groups) as the
last step before the runner starts: under bubblewrap, which then makes every namespace but the user
one; under ``unshare``, after the loopback is up. ``Sandbox.caps`` states which caps hold.
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "Sandbox", "choose_sandbox", "NOBODY"]

NOBODY = 65534
#: util-linux setpriv's options that turn root into uid/gid 65534 with no capability and no group left.
_SETPRIV_OPTIONS = (f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all",
                    "--bounding-set=-all")
#: The check modules' package, replaced in the sandbox by a stand-in whose check() only says where checks run,
#: so a learner's `from kubelab import check` cell still runs but no reference helper can be imported.
CHECKS_PACKAGE = Path(__file__).resolve().parent / "exercises"
_STAND_IN = '''"""Stand-in for kubelab's check modules inside the grading sandbox: the checks run outside it."""
def check(exercise_id, answer=None, **options):
    print(f"{exercise_id}: checked by the grader, outside this kernel")


def exercise(*args, **kwargs):
    return lambda fn: fn


def registered(chapter=None):
    return []
'''


@dataclass(frozen=True)
class Limits:
    """Caps on one submission's process tree."""

    memory_bytes: int = 4 << 30       # address space per process (RLIMIT_AS)
    processes: int = 256              # RLIMIT_NPROC (for the unprivileged user)
    file_bytes: int = 64 << 20        # the largest file it may write (RLIMIT_FSIZE)
    cpu_seconds: int = 900            # RLIMIT_CPU per process
    output_bytes: int = 1 << 20       # text kept per cell (nbgrader's LimitOutput keeps lines; we keep bytes)


@dataclass(frozen=True)
class Sandbox:
    """How submissions are isolated: ``kind`` is what the gradebook states."""

    kind: str                      # "bubblewrap", "unshare" or "none"
    description: str
    hidden: tuple[Path, ...] = ()
    drop_to_nobody: bool = False   # root grading: setpriv to uid 65534 so RLIMIT_NPROC binds

    @property
    def warning(self) -> str:
        if self.kind == "none":
            return ("kubelab: warning: no sandbox available (install bubblewrap: apt-get install bubblewrap); "
                    "submissions run with your rights and can read the reference solutions")
        if self.kind == "unshare":
            return ("kubelab: warning: bubblewrap not found, using unshare: no network, but submissions can "
                    "read files (install bubblewrap: apt-get install bubblewrap)")
        return ""

    def caps(self, limits: "Limits") -> str:
        """The resource caps in force, for the gradebook's isolation line (the process cap binds only a
        non-root user)."""
        if self.drop_to_nobody:
            processes = f"{limits.processes} processes (runs as uid {NOBODY})"
        elif os.geteuid() == 0:
            processes = (f"process cap NOT enforced (grading runs as root and cannot drop to uid {NOBODY}: "
                         "install util-linux setpriv)")
        else:
            processes = f"{limits.processes} processes (runs as uid {os.geteuid()})"
        return (f"caps: {_size(limits.memory_bytes)} memory per process, {processes}, {_size(limits.file_bytes)} "
                f"per file, {limits.cpu_seconds} s CPU per process, {_size(limits.output_bytes)} output per cell")

    def command(self, work: Path, argv: list[str]) -> list[str]:
        """``argv`` wrapped so that it runs isolated with ``work`` as its only writable folder."""
        if self.drop_to_nobody:
            argv = [shutil.which("setpriv") or "setpriv", *_SETPRIV_OPTIONS, "--", *argv]
        if self.kind == "bubblewrap":
            cmd = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session"]
            if self.drop_to_nobody:  # a user namespace root makes maps back to uid 0: keep the real uid 65534
                cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
            else:
                cmd += ["--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
            # an allow list: the system, Python and the kubelab package only (not the checkout around it)
            for top in ("/usr", "/etc", "/opt", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
                path = Path(top)
                if path.is_symlink():
                    cmd += ["--symlink", os.readlink(path), top]
                elif path.is_dir():
                    cmd += ["--ro-bind", top, top]
            # the fresh /tmp first: Python or kubelab may live under /tmp (a checkout there), and a tmpfs mounted
            # after their binds would hide them
            cmd += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
            for path in _python_paths():
                if self.drop_to_nobody:  # bubblewrap makes missing parents 0700 root: uid 65534 must pass them
                    for parent in reversed(path.parents[:-1]):
                        cmd += ["--perms", "0755", "--dir", str(parent)]
                cmd += ["--ro-bind", str(path), str(path)]
            cmd += ["--ro-bind", str(work / "stand-in"), str(CHECKS_PACKAGE)]  # the checks stay outside
            for path in self.hidden:  # only what lies inside a folder bound above needs hiding
                if path.is_dir() and path != CHECKS_PACKAGE and any(p in path.parents for p in _python_paths()):
                    cmd += ["--tmpfs", str(path)]
            cmd += ["--bind", str(work), str(work), "--chdir", str(work),
                    "--setenv", "HOME", str(work / "home"), "--setenv", "TMPDIR", str(work / "tmp"),
                    "--unsetenv", "KUBELAB_EXERCISE_PATH", "--", *argv]
            return cmd
        if self.kind == "unshare":
            # the new network namespace's loopback starts down; the kernel talks to its client over it
            return [shutil.which("unshare") or "unshare", "--net", "--pid", "--fork", "--kill-child",
                    "--mount-proc", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]
        return list(argv)

    def environment(self, work: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("KUBELAB_EXERCISE_PATH",)}
        env.update(HOME=str(work / "home"), TMPDIR=str(work / "tmp"), KUBELAB_GRADING="1",
                   JUPYTER_RUNTIME_DIR=str(work / "tmp" / "runtime"), PYTHONDONTWRITEBYTECODE="1",
                   IPYTHONDIR=str(work / "home" / ".ipython"), MPLCONFIGDIR=str(work / "tmp"))
        return env

    def prepare(self, work: Path) -> None:
        """The writable folders of the run."""
        for sub in ("home", "tmp", "tmp/runtime", "stand-in"):
            (work / sub).mkdir(exist_ok=True)
        (work / "stand-in" / "__init__.py").write_text(_STAND_IN, encoding="utf-8")
        if self.drop_to_nobody:  # the run's own folder is the one place uid 65534 may write
            for path in [work, *work.rglob("*")]:
                os.chown(path, NOBODY, NOBODY, follow_symlinks=False)

    def preexec(self, limits: Limits):
        """The function run in the child before exec: the resource limits of the whole tree."""

        def apply() -> None:
            for which, value in ((resource.RLIMIT_AS, limits.memory_bytes), (resource.RLIMIT_FSIZE, limits.file_bytes),
                                 (resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_CORE, 0),
                                 (resource.RLIMIT_NPROC, limits.processes)):
                resource.setrlimit(which, (value, value))

        return apply


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"


def _python_paths() -> list[Path]:
    """Python's own folders and the kubelab package: what a sandboxed kernel must read."""
    import sys

    import kubelab

    paths = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths.add(Path(kubelab.__file__).resolve().parent)
    outside_system = [p for p in paths if not str(p).startswith(("/usr/", "/etc/", "/opt/"))]
    return sorted(p for p in outside_system if not any(q in p.parents for q in outside_system))


def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _can_drop() -> bool:
    """Root grading can (and must) drop to uid 65534 for the process cap to bind."""
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def _probe(sandbox: Sandbox) -> bool:
    """Does a trivial command run in this sandbox on this machine?"""
    with tempfile.TemporaryDirectory(prefix="kubelab-probe-") as tmp:
        sandbox.prepare(Path(tmp))
        # Python and kubelab must be readable by the user the tree runs as
        return _works(sandbox.command(Path(tmp), [sys.executable, "-c", "import kubelab"]))


def choose_sandbox(hidden: list[Path], prefer: str = "auto") -> Sandbox:
    """The strongest isolation this machine offers (``prefer`` "none" turns it off, for debugging); as root,
    the variant that drops to uid 65534 when it works."""
    hidden_paths = tuple(sorted({Path(p).resolve() for p in hidden}))
    drops = (True, False) if _can_drop() else (False,)
    if prefer != "none" and shutil.which("bwrap"):
        for drop in drops:
            if _probe(Sandbox("bubblewrap", "", hidden_paths, drop)):
                user = (f"user {NOBODY} (dropped with setpriv, no capabilities)" if drop
                        else f"user {NOBODY} in its own user namespace")
                return Sandbox("bubblewrap", f"bubblewrap ({user}, no network, own "
                                             "process namespace, only the system, Python and kubelab mounted, "
                                             "read-only; solutions, checks, submissions and gradebook not visible)",
                               hidden_paths, drop)
    if prefer != "none" and shutil.which("unshare") and _works(["unshare", "--net", "--pid", "--fork", "--", "sh", "-c", "ip link set lo up"]):
        drop = drops[0] and _probe(Sandbox("unshare", "", hidden_paths, True))
        user = f", user {NOBODY}" if drop else ""
        return Sandbox("unshare", f"unshare (no network, own process namespace{user}; files not hidden)",
                       hidden_paths, drop)
    drop = prefer != "none" and drops[0] and _probe(Sandbox("none", "", hidden_paths, True))
    return Sandbox("none", "none (no sandbox available)" + (f"; runs as user {NOBODY}" if drop else ""),
                   hidden_paths, drop)
