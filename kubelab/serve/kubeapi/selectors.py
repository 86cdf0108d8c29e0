"""List filtering: labelSelector (kubectl -l syntax) and fieldSelector (field paths compared as strings)."""
from __future__ import annotations

from ...errors import KubelabError
from ...net.labels import parse_selector_string
from ...net.objects import labels_of
from .status import ApiError

__all__ = ["object_filter"]


def _field_value(obj: dict, path: str) -> str:
    node = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def _field_requirements(text: str | None) -> list[tuple[str, bool, str]]:
    """fields.ParseSelector: comma-separated `path=value`, `path==value` or `path!=value`."""
    out = []
    for term in (text or "").split(","):
        term = term.strip()
        if not term:
            continue
        for op, equal in (("!=", False), ("==", True), ("=", True)):
            if op in term:
                path, value = term.split(op, 1)
                out.append((path.strip(), equal, value.strip()))
                break
        else:
            raise ApiError.bad_request(f'invalid field selector: {term!r}: expected path=value or path!=value')
    return out


def object_filter(label_selector: str | None, field_selector: str | None):
    """A predicate over objects for ?labelSelector=…&fieldSelector=…; a bad selector is a 400."""
    try:
        labels = parse_selector_string(label_selector)
    except KubelabError as exc:
        raise ApiError.bad_request(f"unable to parse requirement: {exc}") from None
    fields = _field_requirements(field_selector)

    def matches(obj: dict) -> bool:
        if not labels.matches(labels_of(obj)):
            return False
        return all((_field_value(obj, path) == value) == equal for path, equal, value in fields)
    return matches
