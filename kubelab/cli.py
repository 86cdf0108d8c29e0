"""The ``kubelab`` command: version, release, grade, course, serve (and ``dns serve``, ``capstone report``)."""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from . import __version__
from .errors import KubelabError

__all__ = ["main"]

WELCOME = Path("notebooks/00-welcome.ipynb")


class CommandError(KubelabError):
    """A command's arguments name something that is not there or not usable (a missing file, a busy port)."""


def _port_type(lowest: int):
    """An argparse type: a TCP/UDP port number from `lowest` to 65535 (a usage error otherwise, exit 2)."""
    def port(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
        if not lowest <= value <= 65535:
            raise argparse.ArgumentTypeError(f"{value} is not a port number from {lowest} to 65535")
        return value
    return port


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _folder_of_notebooks(folder: Path, option: str) -> list[Path]:
    """The notebooks in a folder named by an option; a missing or empty folder is an error, not a no-op."""
    if not folder.exists():
        raise CommandError(f"{option} {folder}: no such folder")
    if not folder.is_dir():
        raise CommandError(f"{option} {folder}: is a file, not a folder of notebooks")
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise CommandError(f"{option} {folder}: holds no notebooks (*.ipynb)")
    return notebooks


def _check_notebooks_readable(paths: list[Path]) -> None:
    import nbformat

    for path in paths:
        try:
            nbformat.read(path, as_version=4)
        except Exception as exc:  # whatever nbformat or json says, the file is not a notebook
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"{path}: not a readable notebook ({first[:200]})") from None


def _writable_folder(folder: Path, option: str) -> None:
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"{option} {folder}: is a file; name a folder")


def _cmd_version(args: argparse.Namespace) -> int:
    print(f"kubelab {__version__}")
    return 0


def _cmd_release(args: argparse.Namespace) -> int:
    from .course.release import is_stale, release

    _check_notebooks_readable(_folder_of_notebooks(args.solutions, "--solutions"))
    _writable_folder(args.exercises, "--exercises")
    if args.check:
        stale = is_stale(args.solutions, args.exercises)
        for path in stale:
            print(f"stale: {path}")
        if stale:
            print(f"{len(stale)} exercise notebook(s) out of date; run `kubelab release`", file=sys.stderr)
        return 1 if stale else 0
    for path in release(args.solutions, args.exercises):
        print(f"wrote {path}")
    return 0


def _submitted_notebooks(paths: list[Path]) -> list[Path]:
    """Notebooks named on the command line, with folders expanded (checkpoints left out, links not followed:
    a link or a folder named like a notebook is still listed, so the grader can refuse it with a reason)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
                found += sorted(Path(root) / name for name in [*files, *dirs] if name.endswith(".ipynb"))
                dirs[:] = [d for d in dirs if not d.endswith(".ipynb")]
        elif not path.exists() and not path.is_symlink():
            raise CommandError(f"{path}: no such notebook or folder")
        elif path.suffix != ".ipynb":
            raise CommandError(f"{path}: not a notebook (submissions are .ipynb files or folders of them)")
        else:
            found.append(path)
    return found


def _cmd_grade(args: argparse.Namespace) -> int:
    from .course.grading import grade

    submissions = _submitted_notebooks(args.submissions)
    if not submissions:
        raise CommandError("no submitted notebooks found in " + ", ".join(map(str, args.submissions)))
    if args.out.is_dir():
        raise CommandError(f"--out {args.out}: is a folder; name the gradebook file, e.g. {args.out / 'grades.csv'}")
    options = {"isolation": "none"} if args.no_sandbox else {}
    book = grade(submissions, args.out, reference_dir=args.reference, timeout=args.timeout, **options)
    print(book.to_csv(), end="")
    if getattr(book, "isolation", "") in ("none", "unshare"):
        print(f"kubelab: warning: submissions ran with isolation {book.isolation_description}; "
              "install bubblewrap (apt-get install bubblewrap) for a sandbox", file=sys.stderr)
    for change in getattr(book, "changes", ()):
        print(f"kubelab: warning: file changed while grading: {change}", file=sys.stderr)
    print(f"wrote {args.out}, {args.out.parent / 'grading-report.txt'}, {args.out.parent / 'feedback'}/ and "
          f"{args.out.parent / 'verdicts'}/ (rerun: pytest --nbval {args.out.parent / 'verdicts'})")
    return 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def course_command(port: int, no_browser: bool) -> list[str]:
    """The JupyterLab command line: rooted at the course folder (lessons open ../exercises/), opening
    lesson 00 (default_url, so the printed URL and the browser both land there) on `port` exactly."""
    root = WELCOME.parent.parent
    lesson = "/lab/tree/" + WELCOME.as_posix()
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root.resolve()}",
               f"--ServerApp.default_url={lesson}", f"--LabApp.default_url={lesson}",
               f"--port={port}", "--ServerApp.port_retries=0",
               "--ServerApp.answer_yes=True"]   # never a "(y/[n])?" prompt
    settings = root / "binder"
    if (settings / "overrides.json").exists():
        command.append(f"--LabApp.app_settings_dir={settings}")   # no news or update pop-ups
    if no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")   # containers and CI machines run as root; JupyterLab refuses without it
    return command


FORWARDED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _die_with_parent():
    """A pre-exec hook that has the child SIGTERMed when `kubelab course` dies, even by SIGKILL, which cannot
    be forwarded (Linux prctl PR_SET_PDEATHSIG), or None elsewhere. prctl is looked up here, before the fork:
    after it the child may only call it (the served cluster's threads may hold the import lock)."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)   # 1 = PR_SET_PDEATHSIG


def run_forwarding_signals(command: list[str], env: dict | None = None) -> int:
    """Run `command` and pass SIGINT/SIGTERM/SIGHUP on to it (as SIGTERM), so the server it starts shuts down
    its kernels and removes its runtime files when `kubelab course` is stopped, instead of being orphaned."""
    # its own process group: a terminal's Ctrl-C reaches only us, and we pass it on exactly once (a
    # second SIGINT makes JupyterLab stop its loop at once, skipping the kernel and runtime-file cleanup)
    child = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_die_with_parent())

    def forward(signum, _frame):
        # as SIGTERM, JupyterLab's one signal for "shut down cleanly": its SIGINT handling depends on a
        # terminal (a confirmation prompt with one, KeyboardInterrupt without)
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:   # only if a handler could not be installed: keep waiting for the child
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _cmd_course(args: argparse.Namespace) -> int:
    if not WELCOME.exists():
        raise CommandError(f"{WELCOME} not found; run `kubelab course` in the course folder "
                           "(the one that holds notebooks/)")
    if args.port is not None and not _port_is_free(args.port):
        raise CommandError(f"--port {args.port}: the port is in use; choose another, or leave --port out "
                           "for a free one")
    port = args.port if args.port is not None else free_port()
    token = secrets.token_hex(24)
    env = dict(os.environ, JUPYTER_TOKEN=token)   # in the environment, not on the command line (ps shows that)
    print(f"kubelab course: lesson 00 opens at http://127.0.0.1:{port}/lab/tree/{WELCOME.as_posix()}?token={token}",
          flush=True)
    if args.no_serve:
        return run_forwarding_signals(course_command(port, args.no_browser), env)
    from .serve.kubeapi.cli import course_cluster
    with course_cluster():   # a served cluster for kubectl in JupyterLab's terminals (KUBECONFIG in env)
        return run_forwarding_signals(course_command(port, args.no_browser), dict(os.environ, JUPYTER_TOKEN=token))


def _readable_manifest(path: Path) -> None:
    if not path.exists():
        raise CommandError(f"-f {path}: no such file")
    if not path.is_file():
        raise CommandError(f"-f {path}: is a folder; name a YAML file (repeat -f for several)")
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"-f {path}: not a text file (a manifest is YAML text in UTF-8)") from None


def _cmd_dns_serve(args: argparse.Namespace) -> int:
    for path in args.manifests:
        _readable_manifest(path)
    # imported by name so the DNS server's dependencies load only for this command
    dnsserver = importlib.import_module("kubelab.serve.dns")
    try:
        dnsserver.serve_manifests(args.manifests, args.port)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise CommandError(f"--port {args.port}: cannot listen on 127.0.0.1:{args.port} "
                               f"({exc.strerror}); choose another port, or --port 0 for any free one") from None
        raise
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .serve.kubeapi.cli import serve_command
    return serve_command(args)


def _add_serve_parser(sub: argparse._SubParsersAction) -> None:
    """``kubelab serve [-f MANIFEST]... [--port N] [--kubeconfig PATH] [--tls] [--clock wall|pinned]``: the cluster
    as a Kubernetes API."""
    serve = sub.add_parser("serve", help="serve a simulated cluster as a Kubernetes API for kubectl")
    serve.add_argument("-f", "--filename", dest="manifests", action="append", default=[], type=Path,
                       help="a YAML manifest file to apply first (repeatable)")
    serve.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    serve.add_argument("--kubeconfig", type=Path, default=None,
                       help="where to write the kubeconfig (default: a file in the temporary folder)")
    serve.add_argument("--tls", action="store_true", help="https with a self-signed certificate")
    serve.add_argument("--clock", choices=("wall", "pinned"), default="wall",
                       help="AGE moves with real time (wall) or stays on the simulated clock (pinned, deterministic)")
    serve.set_defaults(func=_cmd_serve)


def _add_dns_parser(sub: argparse._SubParsersAction) -> None:
    """``kubelab dns serve [-f MANIFEST]... [--port N]``: answer DNS queries for a simulated cluster."""
    dns = sub.add_parser("dns", help="cluster DNS tools")
    dns_sub = dns.add_subparsers(dest="dns_command", required=True, metavar="{serve}")
    serve = dns_sub.add_parser("serve", help="serve the simulated cluster's DNS on 127.0.0.1 (UDP and TCP)")
    serve.add_argument("-f", "--filename", dest="manifests", action="append", default=[], type=Path,
                       help="a YAML manifest file to apply first (repeatable); without any, the default cluster")
    serve.add_argument("--port", type=_port_type(0), default=10053,
                       help="UDP/TCP port on 127.0.0.1 (default 10053; 0 = any)")
    serve.set_defaults(func=_cmd_dns_serve)


def _cmd_capstone_report(args: argparse.Namespace) -> int:
    from .course.capstone_report import format_report, report

    print(format_report(report(args.submissions, args.reference, timeout=args.timeout,
                               isolation="none" if args.no_sandbox else "auto")))
    return 0


def _add_capstone_parser(sub: argparse._SubParsersAction) -> None:
    """``kubelab capstone report FOLDER``: per learner, the faults they had, which they fixed, hints, time."""
    capstone = sub.add_parser("capstone", help="the troubleshooting capstone (lesson 11)")
    capstone_sub = capstone.add_subparsers(dest="capstone_command", required=True, metavar="{report}")
    report = capstone_sub.add_parser("report", help="grade a folder of capstone submissions and list them")
    report.add_argument("submissions", type=Path,
                        help="folder of lesson-11 notebooks (*.ipynb) and/or answers written by scenario.save(path)")
    report.add_argument("--reference", type=Path, default=None,
                        help="lesson 11's solution notebook (default: solutions/11-troubleshooting.ipynb)")
    report.add_argument("--timeout", type=_positive_int, default=120, help="seconds each cell may run (default 120)")
    report.add_argument("--no-sandbox", action="store_true",
                        help="run notebooks without bubblewrap/unshare isolation (for debugging only)")
    report.set_defaults(func=_cmd_capstone_report)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubelab", description="A Kubernetes networking course in Jupyter.")
    parser.add_argument("--version", action="version", version=f"kubelab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("version", help="print kubelab's version").set_defaults(func=_cmd_version)

    release = sub.add_parser("release", help="generate exercise notebooks from solution notebooks")
    release.add_argument("--solutions", type=Path, default=Path("solutions"))
    release.add_argument("--exercises", type=Path, default=Path("exercises"))
    release.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 and list the exercise notebooks that are out of date")
    release.set_defaults(func=_cmd_release)

    grade = sub.add_parser("grade", help="grade submitted notebooks and write a gradebook")
    grade.add_argument("submissions", nargs="+", type=Path, help="notebooks or folders of notebooks")
    grade.add_argument("--out", type=Path, required=True, help="gradebook CSV; feedback/ goes beside it")
    grade.add_argument("--reference", type=Path, default=Path("solutions"),
                       help="folder of reference solution notebooks (default: solutions)")
    grade.add_argument("--timeout", type=_positive_int, default=60, help="seconds each cell may run (default 60)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run submissions without bubblewrap/unshare isolation (for debugging only)")
    grade.set_defaults(func=_cmd_grade)

    course = sub.add_parser("course", help="open the course in JupyterLab")
    course.add_argument("--port", type=_port_type(1), default=None,
                        help="port for JupyterLab on 127.0.0.1 (default: a free one)")
    course.add_argument("--no-browser", action="store_true", help="do not open a browser")
    course.add_argument("--no-serve", action="store_true",
                        help="do not serve a simulated cluster for kubectl in JupyterLab's terminals")
    course.set_defaults(func=_cmd_course)

    _add_dns_parser(sub)
    _add_serve_parser(sub)
    _add_capstone_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``kubelab`` command; return its exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except KubelabError as exc:
        return _error(str(exc))
    except OSError as exc:   # a file the command reads or writes: say which and why, in one line
        where = f"{exc.filename}: " if exc.filename else ""
        return _error(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        return 130


def _error(message: str) -> int:
    print(f"kubelab: error: {' '.join(message.split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
