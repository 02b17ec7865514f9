"""What the CLI and the app both accept from a user, read one way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infertui import inputs
from infertui.cli import main
from infertui.tui.history_queries import since_is_valid
from tests.helpers.timezone import local_timezone

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("30m", "2025-06-10T11:30:00+00:00"), ("90 m", "2025-06-10T10:30:00+00:00"),
    ("12h", "2025-06-10T00:00:00+00:00"), ("7D", "2025-06-03T12:00:00+00:00"),
    (" 2w ", "2025-05-27T12:00:00+00:00"),
    ("2025-06-01T08:00:00+02:00", "2025-06-01T06:00:00+00:00"),
    ("2025-06-01T08:00:00Z", "2025-06-01T08:00:00+00:00"),
])
def test_since_reads_ages_and_zoned_times(text, expected) -> None:
    assert inputs.parse_since(text, NOW) == expected


def test_since_reads_a_zoneless_date_or_time_as_local_time(monkeypatch) -> None:
    with local_timezone(monkeypatch, "Etc/GMT+5"):  # POSIX sign: five hours behind UTC
        assert inputs.parse_since("2025-06-01") == "2025-06-01T05:00:00+00:00"
        assert inputs.parse_since("2025-06-01T14:00") == "2025-06-01T19:00:00+00:00"


def test_since_empty_is_no_filter_and_anything_else_a_reason() -> None:
    assert inputs.parse_since("") is None and inputs.parse_since("   ") is None
    for text in ("yesterday", "7y", "-3d", "2025-13-01"):
        with pytest.raises(ValueError, match=r"give an age \(30m, 12h, 7d, 2w\)"):
            inputs.parse_since(text)


def test_whole_numbers_and_numbers() -> None:
    assert inputs.whole_number(" 1_000 ", 1, 10_000) == 1000
    for text, low, high, reason in [("abc", 1, None, "not a whole number: 'abc'"),
                                    ("2.5", 1, None, "not a whole number"),
                                    ("0", 1, None, "must be >= 1, got 0"),
                                    ("2000", 1, 1000, "must be <= 1,000, got 2000")]:
        with pytest.raises(ValueError, match=reason):
            inputs.whole_number(text, low, high)
    assert inputs.number("0.7", 0, 2) == 0.7
    for text, reason in [("warm", "not a number: 'warm'"), ("nan", "must be between 0 and 2"),
                         ("inf", "must be between 0 and 2"), ("-0.1", "must be between 0 and 2"),
                         ("2.5", "must be between 0 and 2, got 2.5")]:
        with pytest.raises(ValueError, match=reason):
            inputs.number(text, 0, inputs.MAX_TEMPERATURE)


# --- the CLI and the app agree ----------------------------------------------------------

def test_the_cli_and_the_app_accept_the_same_ages(capsys) -> None:
    for text in ("30m", "12h", "7d", "2w"):
        assert main(["history", "--since", text]) == 0
        assert since_is_valid(text)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:  # argparse's own checks exit from parse_args
        main(["history", "--since", "last tuesday"])
    code = stopped.value.code
    _, err = capsys.readouterr()
    assert code == 2 and not since_is_valid("last tuesday")
    assert "argument --since: 'last tuesday' is not a date: give an age (30m" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
