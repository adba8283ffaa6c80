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
