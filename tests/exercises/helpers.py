"""What the chapter tests read off a CheckResult."""


def mistakes(result) -> list[str]:
    """Names of the classic mistakes the check recognised."""
    return [c.name for c in result.checks if c.kind == "mistake"]


def failed(result) -> list[str]:
    """Names of the scored sub-checks that failed."""
    return [c.name for c in result.checks if c.scored and not c.ok]


def blocked(result) -> list[str]:
    """Names of the unmet preconditions and answer errors: shown as FAIL, not scored (the exercise's planned
    sub-checks after them are recorded as failed, so the denominator does not change)."""
    return [c.name for c in result.checks if c.kind == "blocked"]


def not_reached(result) -> list[str]:
    """Names of the planned sub-checks the check did not reach (recorded as failed at the end)."""
    return [c.name for c in result.checks if c.scored and not c.ok and c.hint.startswith("not checked")]


def hint_of(result, name: str) -> str:
    """The hint of the line called ``name``."""
    return next(c.hint for c in result.checks if c.name == name)
