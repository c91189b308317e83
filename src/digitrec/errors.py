"""One exception type for everything a user can get wrong.

Every layer raises :class:`DigitrecError` with a message that names the file or value at fault and says
what was expected; the CLI prints it as one red line and exits non-zero, the service turns it into a 4xx.
"""

from __future__ import annotations


class DigitrecError(Exception):
    """A user-facing error: the message is complete, no traceback is needed to understand it."""

    exit_code = 1


class UsageError(DigitrecError):
    """A bad argument or option value (exit code 2, like a command-line usage error)."""

    exit_code = 2


class DataError(DigitrecError):
    """A dataset cannot be found, downloaded or read."""


class ImageError(DigitrecError):
    """An input image cannot be decoded or is outside the accepted limits."""


class ModelError(DigitrecError):
    """A model directory is missing, incomplete, tampered with or incompatible."""
