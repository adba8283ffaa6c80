"""Errors users can act on: each names the file (and line/field where known) and says what to do."""
from __future__ import annotations

from pathlib import Path


class AimmsError(Exception):
    """A failure caused by input or project state, with enough context to fix it."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 field: str | None = None, hint: str | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path
            if self.line is not None:
                where += f", line {self.line}"
            if self.field:
                where += f", column '{self.field}'"
            where += ": "
        elif self.field:
            where = f"field '{self.field}': "
        text = where + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict:
        return {"error": self.message, "path": self.path, "line": self.line, "field": self.field,
                "hint": self.hint}


class ProjectError(AimmsError):
    """The project folder is missing, malformed or not writable."""


class ReadOnlyError(ProjectError):
    """A write was attempted on a project opened read-only (locked by another instance)."""


class NotFoundError(AimmsError):
    """A shot, take or asset the caller named does not exist."""


class MediaError(AimmsError):
    """A media file cannot be read or decoded."""


class Cancelled(AimmsError):
    """A long operation stopped because its `cancel` event was set; its changes were rolled back."""

    def __init__(self, message: str = "cancelled; nothing was changed", **kw):
        super().__init__(message, **kw)


def check_cancel(cancel, what: str = "operation") -> None:
    """Raise Cancelled when `cancel` (a threading.Event or None) is set. Long ops call this between
    batches, inside their transaction, so the rollback undoes everything."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what} cancelled; nothing was changed")


class OutsideProject(AimmsError):
    """A stored path (a take's or asset's file_path, a trash, pending or history row) that would lead
    out of the project: `..`, absolute, a drive letter or UNC share, a NUL byte, not text, or a
    symlink whose target is outside. Nothing is read, written, moved or deleted through it; the
    record it came from is "outside the project" (listed by `aimms check` and the Routing page).
    Raised by project/layout.Layout.abs / rel / read_path."""

    HINT = ("nothing was read, written, moved or deleted through it; relink the record to a file inside "
            "the project's media/ (see `aimms check` or the Routing page), or delete the record")

    def __init__(self, stored, reason: str, *, hint: str | None = None):
        self.stored = stored
        self.reason = reason
        shown = printable_path(stored)
        super().__init__(f"stored path {shown} is outside the project ({reason})", path=None,
                         hint=hint or self.HINT)


def printable_path(value) -> str:
    """A stored path as text safe to show in a message or log line (NUL and control characters
    escaped, binary values described, very long values cut)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes of binary data>"
    if not isinstance(value, str):
        return f"<{type(value).__name__} {value!r}>"[:200]
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in value[:300])
    return "'" + text + ("…" if len(value) > 300 else "") + "'"
