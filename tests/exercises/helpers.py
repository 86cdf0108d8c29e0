"""What the chapter tests read off a CheckResult."""


def mistakes(result) -> list[str]:
    """Names of the classic mistakes the check recognised."""
    return [c.name for c in result.checks if c.kind == "mistake"]


def failed(result) -> list[str]:
    """Names of the scored sub-checks that failed."""
    return [c.name for c in result.checks if c.scored and not c.ok]
