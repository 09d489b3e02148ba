"""Reading a new password: asked twice on a terminal, else the first line of stdin; checked."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from ragis.client.password import read_new_password
from ragis.errors import InvalidInput


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def asked(*answers: str) -> tuple[list[str], Callable[[str], str]]:
    prompts: list[str] = []
    replies = iter(answers)

    def prompt(text: str) -> str:
        prompts.append(text)
        return next(replies)

    return prompts, prompt


def test_a_terminal_is_asked_twice_and_stdin_is_not_read() -> None:
    prompts, prompt = asked("correct horse", "correct horse")
    stdin = Terminal("not this\n")
    assert read_new_password(from_stdin=False, stdin=stdin, prompt=prompt) == "correct horse"
    assert len(prompts) == 2
    assert stdin.tell() == 0


def test_two_different_answers_change_nothing() -> None:
    _, prompt = asked("correct horse", "correct h0rse")
    with pytest.raises(InvalidInput, match="The two passwords differ"):
        read_new_password(from_stdin=False, stdin=Terminal(), prompt=prompt)


def test_without_a_terminal_the_first_line_of_stdin_is_the_password() -> None:
    stdin = io.StringIO("  spaces kept  \r\nsecond line\n")
    assert read_new_password(from_stdin=False, stdin=stdin) == "  spaces kept  "


def test_password_stdin_reads_stdin_even_on_a_terminal() -> None:
    def never(text: str) -> str:
        raise AssertionError("asked on the terminal")

    assert read_new_password(from_stdin=True, stdin=Terminal("s3cret-pass\n"), prompt=never) == (
        "s3cret-pass"
    )


def test_the_last_line_needs_no_newline() -> None:
    assert read_new_password(from_stdin=True, stdin=io.StringIO("s3cret-pass")) == "s3cret-pass"


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        ("", "No password on standard input"),
        ("\n", "8 to 1024 characters (this one has 0)"),
        ("short\n", "8 to 1024 characters (this one has 5)"),
        ("x" * 5000, "8 to 1024 characters (this one has more)"),
        ("x" * 1025 + "\n", "8 to 1024 characters (this one has more)"),
    ],
)
def test_a_missing_short_or_huge_password_is_one_sentence(stdin: str, needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_new_password(from_stdin=True, stdin=io.StringIO(stdin))
    assert needle in caught.value.message
    assert "x" * 20 not in caught.value.message  # the password is never echoed


def test_1024_characters_are_accepted() -> None:
    assert len(read_new_password(from_stdin=True, stdin=io.StringIO("y" * 1024 + "\n"))) == 1024
