"""The CLI's tables: aligned columns, and cells that cannot drive the terminal."""

from __future__ import annotations

from ragis.client.table import clean, format_table, format_time


def test_columns_are_as_wide_as_their_widest_cell() -> None:
    lines = format_table(("ID", "NAME"), [("a1", "laptop"), ("b22222", None)])
    assert lines == ["ID      NAME", "a1      laptop", "b22222  -"]


def test_control_characters_and_huge_values_are_neutralised() -> None:
    assert clean("evil\x1b[2J\nname") == "evil?[2J?name"
    long = clean("n" * 10_000)
    assert len(long) == 64
    assert long.endswith("…")


def test_times_are_local_minutes_and_none_is_never() -> None:
    assert format_time(None) == "never"
    assert len(format_time(1_700_000_000.5)) == len("2023-11-14 22:13")
    assert format_time("not a time") == "not a time"
