"""Names in the registry (versions and aliases) become file names: validate them before they touch a path."""

from __future__ import annotations

import re

from digitrec.errors import UsageError

# A letter or digit first (never "." or ".." or an option-like "-x"), then letters, digits, ".", "_", "-".
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_name(kind: str, name: str) -> str:
    """``name`` unchanged when it is safe as a single path component; otherwise a clear UsageError."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise UsageError(f"invalid {kind} name {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit (no '/', no '..')")
    return name
