"""Errors as the API server returns them: a metav1.Status body with the HTTP code, reason and causes.

kubectl prints ``Error from server (<Reason>): <message>`` from these, and ``The <Kind> "<name>" is
invalid: ...`` for 422 Invalid, so the message and reason follow kube-apiserver's wording
(k8s.io/apimachinery/pkg/api/errors).
"""
from __future__ import annotations

from ...errors import ConflictError, KubelabError, ManifestError, NotFoundError, UnknownKindError, ValidationError

__all__ = ["ApiError", "from_kubelab_error", "status_body"]


class ApiError(Exception):
    """An error reply: HTTP code, StatusReason, message and optional details."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def body(self) -> dict:
        return status_body(self.code, self.reason, self.message, self.details)

    @classmethod
    def not_found(cls, resource: str, name: str, group: str = "") -> "ApiError":
        """NewNotFound: `<resource> "<name>" not found`."""
        qualified = f"{resource}.{group}" if group else resource
        return cls(404, "NotFound", f'{qualified} "{name}" not found',
                   {"name": name, "group": group, "kind": resource})

    @classmethod
    def already_exists(cls, resource: str, name: str, group: str = "") -> "ApiError":
        """NewAlreadyExists: `<resource> "<name>" already exists`."""
        qualified = f"{resource}.{group}" if group else resource
        return cls(409, "AlreadyExists", f'{qualified} "{name}" already exists',
                   {"name": name, "group": group, "kind": resource})

    @classmethod
    def bad_request(cls, message: str) -> "ApiError":
        return cls(400, "BadRequest", message)

    @classmethod
    def method_not_allowed(cls, message: str) -> "ApiError":
        return cls(405, "MethodNotAllowed", message)


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


# field.ErrorType strings: a problem that starts with one is already worded as the API server words it
_FIELD_ERROR_TYPES = {"Invalid value", "Required value", "Forbidden", "Duplicate value", "Unsupported value",
                      "Too long", "Too many", "Not found", "Internal error"}


def from_kubelab_error(exc: KubelabError, kind: str, name: str, group: str = "", version: str = "v1") -> ApiError:
    """The simulator's admission errors as the API server words them: a ValidationError becomes
    422 Invalid with a cause naming the field (NewInvalid), a missing object 404, bad input 400."""
    details = {"name": name, "group": group, "kind": kind}
    if isinstance(exc, UnknownKindError):
        return ApiError(400, "BadRequest", str(exc), details)
    if isinstance(exc, ValidationError) and exc.problem.startswith("unknown field"):
        # strict field validation (kubectl's default fieldValidation=Strict) is a decoding error: 400
        return ApiError(400, "BadRequest", f'{kind} in version "{version}" cannot be handled as a {kind}: '
                        f'strict decoding error: unknown field "{exc.field}"', details)
    if isinstance(exc, (ValidationError, ConflictError)):
        problem = exc.problem + (f" ({exc.fix})" if exc.fix else "")
        cause = {"reason": "FieldValueDuplicate" if isinstance(exc, ConflictError) else "FieldValueInvalid",
                 "message": problem if problem.split(":")[0] in _FIELD_ERROR_TYPES else f"Invalid value: {problem}",
                 "field": exc.field}
        return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {exc.field}: {cause["message"]}',
                        {**details, "causes": [cause]})
    if isinstance(exc, NotFoundError):
        return ApiError(404, "NotFound", str(exc), details)
    if isinstance(exc, ManifestError):
        return ApiError(400, "BadRequest", str(exc), details)
    return ApiError(500, "InternalError", str(exc), details)
