"""The exception tree; the bridge maps each class to one HTTP status in one place."""

from __future__ import annotations


class OwnvoiceError(Exception):
    """Base class: a problem ownvoice can explain to the user."""

    status = 500


class BadInput(OwnvoiceError, ValueError):
    """The caller gave something we cannot use (text, audio, name, archive)."""

    status = 400


class TooLarge(BadInput):
    """Input over a documented size limit."""

    status = 413


class NotFound(OwnvoiceError, KeyError):
    """An id (voice, job, note) that does not exist."""

    status = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class Conflict(OwnvoiceError):
    """The request clashes with current state (read-only voice, name taken, no audio device)."""

    status = 409


class Busy(OwnvoiceError):
    """A bounded queue is full; retry later."""

    status = 503

    def __init__(self, message: str, retry_after: float = 2.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MissingDependency(OwnvoiceError):
    """An optional package (or the model weights package) is not installed."""

    status = 500


class Cancelled(OwnvoiceError):
    """A long job was cancelled by the user."""

    status = 409
