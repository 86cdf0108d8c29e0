"""Does every module stay in its room? The layering DESIGN.md sets out, checked on every import statement
(function-level imports included), so a shortcut across layers fails here before review."""
from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "kubelab"

# room -> rooms it must never import from
FORBIDDEN = {
    "net": {"sim", "live", "show", "course", "serve"},
    "sim": {"show", "course"},
    "show": {"sim", "live"},      # presentation reaches a cluster only through the Lab contract
    "course": {"sim", "live"},    # so do exercise checks and grading
    "api": {"sim", "live", "show", "course", "serve"},
}


def _module_name(path: pathlib.Path, package: pathlib.Path) -> list[str]:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_modules(path: pathlib.Path, root: pathlib.Path) -> set[str]:
    """Every kubelab module `path` imports, relative imports resolved against its package."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("kubelab")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                found |= {target} if node.module else {f"{target}.{a.name}" for a in node.names}
            elif node.module and node.module.startswith("kubelab"):
                found.add(node.module)
    return found


def room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def violations(room: str, root: pathlib.Path = PACKAGE) -> list[str]:
    bad = []
    for path in sorted((root / room).rglob("*.py")):
        for target in sorted(imported_modules(path, root)):
            if room_of(target) in FORBIDDEN[room]:
                bad.append(f"{path.relative_to(root.parent)} imports {target}")
    return bad


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_room_imports_only_what_its_layer_may(room):
    assert violations(room) == []


def test_the_checker_sees_a_crossing(tmp_path):
    """Would a net/ module importing the simulator (even inside a function) be caught?"""
    fake = tmp_path / "kubelab"
    (fake / "net").mkdir(parents=True)
    (fake / "net" / "bad.py").write_text("def f():\n    from ..sim.lab import SimulatedLab\n")
    assert violations("net", fake) == ["kubelab/net/bad.py imports kubelab.sim.lab"]


def test_top_level_holds_only_the_contract_and_the_rooms():
    """Flat modules left at the top are the public contract, not a concern of their own."""
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "_aliases.py", "cli.py", "errors.py", "lab.py", "results.py"]


def test_old_module_names_are_the_new_modules():
    """Lessons import kubelab.viz and kubelab.exercises: same module objects as their new homes."""
    import kubelab.course.exercises.ch08_network_policies as new_ch08
    import kubelab.exercises.ch08_network_policies as old_ch08
    import kubelab.show.viz as new_viz
    import kubelab.viz as old_viz
    from kubelab import widgets
    assert old_viz is new_viz and old_ch08 is new_ch08
    assert widgets.__name__ == "kubelab.show.widgets"
    assert old_viz.__spec__.name == "kubelab.show.viz"
