"""Reading a new password for `ragis admin create` and `ragis user add`: never from argv.

On a terminal it is asked twice without echo (getpass); otherwise, or with `--password-stdin`,
it is the first line of standard input (`printf '%s\\n' "$PW" | ragis user add bob`), so that
it shows up neither in `ps` nor in the shell's history.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from ragis.errors import InvalidInput

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "read_new_password"]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def read_new_password(
    *,
    from_stdin: bool,
    stdin: TextIO | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> str:
    """The password, checked for its length; InvalidInput in a sentence otherwise."""
    stdin = stdin if stdin is not None else sys.stdin
    if from_stdin or not stdin.isatty():
        # One line, bounded: a password is no reason to read a whole file into memory.
        line = stdin.readline(MAX_PASSWORD + 3)
        password = line.removesuffix("\n").removesuffix("\r")
        if not line:
            raise InvalidInput(
                "No password on standard input: give it as the first line (or run the command "
                "in a terminal to be asked for it)."
            )
    else:
        password = prompt("Password: ")
        if prompt("Password (again): ") != password:
            raise InvalidInput("The two passwords differ: nothing was changed.")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"A password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters (this one has "
            f"{len(password) if len(password) <= MAX_PASSWORD else 'more'}): nothing was changed."
        )
    return password
