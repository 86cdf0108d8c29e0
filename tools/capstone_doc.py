"""Write docs/capstone.md's three tables (journeys, invariants, the fault library) from the library itself, so
the instructors' page cannot drift from the code.

    python tools/capstone_doc.py            # rewrite the tables in place
    python tools/capstone_doc.py --check    # exit 1 if the page's tables are stale
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "capstone.md"
SECTIONS = ("## Journeys (what users do)", "## Invariants (what no fix may break)", "## The fault library")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def tables() -> dict[str, str]:
    """Each section's heading -> its table, as Markdown."""
    from kubelab.course.faults import FAULTS, INVARIANTS, JOURNEYS

    def rows(journeys, first):
        return "\n".join([f"| {first} | |", "|---|---|"] +
                         [f"| `{j.name}` | {_cell(j.says)} |" for j in journeys.values()])

    def where(target):
        kind, ns, name = target
        return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"

    faults = ["| fault | layer | object | breaks | cause (never shown to the learner) | documented fix |",
              "|---|---|---|---|---|---|"]
    faults += [f"| `{f.id}` | {f.layer} | {', '.join(where(t) for t in f.targets)} | "
               f"{', '.join(f'`{j}`' for j in f.breaks)} | {_cell(f.effect)} | {_cell(f.fix_text)} |"
               for f in FAULTS]
    return {SECTIONS[0]: rows(JOURNEYS, "journey"), SECTIONS[1]: rows(INVARIANTS, "invariant"),
            SECTIONS[2]: "\n".join(faults)}


def render(text: str) -> str:
    """The page with every section's table (its first run of "|" lines after the heading) replaced."""
    lines = text.split("\n")
    for heading, table in tables().items():
        if heading not in lines:
            raise SystemExit(f"{DOC}: no line {heading!r}; keep the three section headings")
        start = lines.index(heading) + 1
        while start < len(lines) and not lines[start].startswith(("|", "## ")):
            start += 1
        end = start
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        lines[start:end] = table.split("\n")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page's tables are stale")
    args = parser.parse_args(argv)
    current = DOC.read_text()
    wanted = render(current)
    if args.check:
        if wanted != current:
            print(f"{DOC} is stale: run python tools/capstone_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
