"""The ``kubelab`` command: version, release, grade, course, serve (and ``dns serve``, ``capstone report``)."""
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
    """Notebooks named on the command line, with folders expanded (checkpoints left out)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


def _cmd_grade(args: argparse.Namespace) -> int:
    from .course.grading import grade

    submissions = _submitted_notebooks(args.submissions)
    if not submissions:
        print("kubelab: error: no submitted notebooks found", file=sys.stderr)
        return 1
    book = grade(submissions, args.out, reference_dir=args.reference, timeout=args.timeout)
    print(book.to_csv(), end="")
    print(f"wrote {args.out} and {args.out.parent / 'feedback'}/")
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
    if args.no_serve:
        return subprocess.call(command)
    from .serve.kubeapi.cli import course_cluster
    with course_cluster():
        return subprocess.call(command)


def _cmd_dns_serve(args: argparse.Namespace) -> int:
    # imported by name so the DNS server's dependencies load only for this command
    dnsserver = importlib.import_module("kubelab.serve.dns")
    dnsserver.serve_manifests(args.manifests, args.port)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .serve.kubeapi.cli import serve_command
    return serve_command(args)


def _add_serve_parser(sub: argparse._SubParsersAction) -> None:
    """``kubelab serve [-f MANIFEST]... [--port N] [--kubeconfig PATH] [--tls]``: the cluster as a Kubernetes API."""
    serve = sub.add_parser("serve", help="serve a simulated cluster as a Kubernetes API for kubectl")
    serve.add_argument("-f", "--filename", dest="manifests", action="append", default=[], type=Path,
                       help="a YAML manifest file to apply first (repeatable)")
    serve.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    serve.add_argument("--kubeconfig", type=Path, default=None,
                       help="where to write the kubeconfig (default: a file in the temporary folder)")
    serve.add_argument("--tls", action="store_true", help="https with a self-signed certificate")
    serve.set_defaults(func=_cmd_serve)


def _add_dns_parser(sub: argparse._SubParsersAction) -> None:
    """``kubelab dns serve [-f MANIFEST]... [--port N]``: answer DNS queries for a simulated cluster."""
    dns = sub.add_parser("dns", help="cluster DNS tools")
    dns_sub = dns.add_subparsers(dest="dns_command", required=True, metavar="{serve}")
    serve = dns_sub.add_parser("serve", help="serve the simulated cluster's DNS on 127.0.0.1 (UDP and TCP)")
    serve.add_argument("-f", "--filename", dest="manifests", action="append", default=[], type=Path,
                       help="a YAML manifest file to apply first (repeatable); without any, the default cluster")
    serve.add_argument("--port", type=int, default=10053, help="UDP/TCP port on 127.0.0.1 (default 10053; 0 = any)")
    serve.set_defaults(func=_cmd_dns_serve)


def _cmd_capstone_report(args: argparse.Namespace) -> int:
    from .course.capstone_report import format_report, report

    print(format_report(report(args.submissions)))
    return 0


def _add_capstone_parser(sub: argparse._SubParsersAction) -> None:
    """``kubelab capstone report FOLDER``: per learner, the faults they had, which they fixed, hints, time."""
    capstone = sub.add_parser("capstone", help="the troubleshooting capstone (lesson 11)")
    capstone_sub = capstone.add_subparsers(dest="capstone_command", required=True, metavar="{report}")
    report = capstone_sub.add_parser("report", help="grade a folder of capstone answers (*.json) and list them")
    report.add_argument("submissions", type=Path, help="folder of answers written by scenario.save(path)")
    report.set_defaults(func=_cmd_capstone_report)


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
    grade.set_defaults(func=_cmd_grade)

    course = sub.add_parser("course", help="open the course in JupyterLab")
    course.add_argument("--port", type=int, default=None)
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
        print(f"kubelab: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
