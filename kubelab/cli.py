"""The ``kubelab`` command: version, release, grade, course (and ``dns serve``)."""
from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

from . import __version__
from .errors import KubelabError

__all__ = ["main"]

WELCOME = Path("notebooks/00-welcome.ipynb")


def _cmd_version(args: argparse.Namespace) -> int:
    print(f"kubelab {__version__}")
    return 0


def _cmd_release(args: argparse.Namespace) -> int:
    from .course.release import is_stale, release

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
        else:
            found.append(path)
    return found


def _cmd_grade(args: argparse.Namespace) -> int:
    from .course.grading import grade

    submissions = _submitted_notebooks(args.submissions)
    if not submissions:
        print("kubelab: error: no submitted notebooks found", file=sys.stderr)
        return 1
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


def _cmd_course(args: argparse.Namespace) -> int:
    if not WELCOME.exists():
        print(f"kubelab: error: {WELCOME} not found; run `kubelab course` in the course folder "
              "(the one that holds notebooks/)", file=sys.stderr)
        return 1
    # rooted at the course folder, so lessons can open ../exercises/ and ../solutions/
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={WELCOME.parent.parent.resolve()}",
               str(WELCOME)]
    settings = WELCOME.parent.parent / "binder"
    if (settings / "overrides.json").exists():
        command.append(f"--LabApp.app_settings_dir={settings}")   # no news or update pop-ups
    if args.port is not None:
        command.append(f"--port={args.port}")
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")   # containers and CI machines run as root; JupyterLab refuses without it
    return subprocess.call(command)


def _cmd_dns_serve(args: argparse.Namespace) -> int:
    # imported by name so the DNS server's dependencies load only for this command
    dnsserver = importlib.import_module("kubelab.serve.dns")
    dnsserver.serve_manifests(args.manifests, args.port)
    return 0


def _add_dns_parser(sub: argparse._SubParsersAction) -> None:
    """``kubelab dns serve [-f MANIFEST]... [--port N]``: answer DNS queries for a simulated cluster."""
    dns = sub.add_parser("dns", help="cluster DNS tools")
    dns_sub = dns.add_subparsers(dest="dns_command", required=True, metavar="{serve}")
    serve = dns_sub.add_parser("serve", help="serve the simulated cluster's DNS on 127.0.0.1 (UDP and TCP)")
    serve.add_argument("-f", "--filename", dest="manifests", action="append", default=[], type=Path,
                       help="a YAML manifest file to apply first (repeatable); without any, the default cluster")
    serve.add_argument("--port", type=int, default=10053, help="UDP/TCP port on 127.0.0.1 (default 10053; 0 = any)")
    serve.set_defaults(func=_cmd_dns_serve)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubelab", description="A Kubernetes networking course in Jupyter.")
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
    grade.add_argument("--timeout", type=int, default=60, help="seconds each cell may run (default 60)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run submissions without bubblewrap/unshare isolation (for debugging only)")
    grade.set_defaults(func=_cmd_grade)

    course = sub.add_parser("course", help="open the course in JupyterLab")
    course.add_argument("--port", type=int, default=None)
    course.add_argument("--no-browser", action="store_true", help="do not open a browser")
    course.set_defaults(func=_cmd_course)

    _add_dns_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``kubelab`` command; return its exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except KubelabError as exc:
        print(f"kubelab: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
