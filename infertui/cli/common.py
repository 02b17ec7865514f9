"""What every command shares: the error that becomes `infertui: message`, exit 2."""

from __future__ import annotations


class CliError(Exception):
    """Bad arguments or an unusable config: one line on stderr, exit 2, no traceback."""
