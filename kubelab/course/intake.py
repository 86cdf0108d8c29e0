"""What the grader accepts as a submission, and how it writes what it found.

Every check here turns a bad file into a reason for that learner's row only: a symlink, a FIFO,
a folder named like a notebook, an oversized file or a notebook that fails nbformat's schema is
"not graded", never an abort of the class. The files the grader depends on are fingerprinted
before and after grading so that any change made while grading is reported.
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MAX_NOTEBOOK_BYTES", "Admission", "admit", "fingerprints", "changed_files", "neutralise_cell",
           "write_atomically"]

#: A submitted notebook larger than this is not graded (nbgrader's default limit is 100 MB for the
#: whole submission; a course notebook with its outputs is well under 5 MB).
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Admission:
    """A submission as read: the notebook, or the reason it cannot be graded."""

    path: Path
    notebook: Any = None
    reason: str = ""


def admit(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> Admission:
    """Read ``path`` if it is a regular file of at most ``max_bytes`` holding a valid nbformat 4 notebook."""
    import nbformat  # lazily: `import kubelab` must not need it

    try:
        info = os.lstat(path)
    except OSError as exc:
        return Admission(path, reason=f"cannot be read ({exc.strerror})")
    if stat.S_ISLNK(info.st_mode):
        return Admission(path, reason="is a symbolic link; submit the notebook file itself")
    if not stat.S_ISREG(info.st_mode):
        return Admission(path, reason="is not a regular file (a folder, FIFO or device); submit a .ipynb file")
    if info.st_size > max_bytes:
        return Admission(path, reason=f"is {info.st_size} bytes, over the {max_bytes}-byte limit; "
                                      "clear the outputs (Edit > Clear Outputs of All Cells) and submit again")
    try:
        # O_NOFOLLOW | O_NONBLOCK: the file may have been swapped for a link or a FIFO since lstat
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return Admission(path, reason="is not a regular file; submit a .ipynb file")
            data = f.read(max_bytes + 1)
    except OSError as exc:
        return Admission(path, reason=f"cannot be read ({exc.strerror})")
    if len(data) > max_bytes:
        return Admission(path, reason=f"is over the {max_bytes}-byte limit")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except UnicodeDecodeError:
        return Admission(path, reason="is not UTF-8 text; submit the .ipynb file Jupyter saved")
    except Exception as exc:  # nbformat raises several types for malformed JSON and schema errors
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return Admission(path, reason=f"is not a valid notebook (nbformat: {first})")
    return Admission(path, notebook=nb)


def fingerprints(paths: list[Path]) -> dict[str, str]:
    """sha256 of every file under ``paths`` (folders walked, links not followed), by path."""
    found: dict[str, str] = {}
    for root in paths:
        root = Path(root)
        if root.is_symlink() or not root.exists():
            if root.is_symlink():
                found[str(root)] = "link:" + os.readlink(root)
            continue
        files = [root] if not root.is_dir() else sorted(p for p in root.rglob("*"))
        for p in files:
            found[str(p)] = _digest(p)
    return found


def _digest(path: Path) -> str:
    try:
        info = os.lstat(path)
    except OSError:
        return "missing"
    if stat.S_ISLNK(info.st_mode):
        return "link:" + os.readlink(path)
    if stat.S_ISDIR(info.st_mode):
        return "folder"
    if not stat.S_ISREG(info.st_mode):
        return f"special:{stat.S_IFMT(info.st_mode)}"  # a FIFO is never opened: reading it would block
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per file that was changed, removed or added between two fingerprints."""
    lines = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            lines.append(f"removed: {path}")
        elif path not in before:
            lines.append(f"added: {path}")
        elif before[path] != after[path]:
            lines.append(f"changed: {path}")
    return lines


def neutralise_cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix = + - @ tab CR with a quote)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
