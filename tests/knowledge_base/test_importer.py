from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from knowledge_base.cli import kb_group
from knowledge_base.importer import ArticleStatus, LineError, Visibility, parse_file, parse_lines


def line(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


GOOD = line(id="a1", title="Reset password", body="Use the link.", language="en")


def test_valid_lines_parse_with_optional_fields_and_defaults() -> None:
    result = parse_lines(
        [
            GOOD,
            "",
            line(
                id="a2",
                title="Сброс пароля",
                body="Нажмите ссылку.",
                summary="Коротко",
                tags=["пароль"],
                category="Accounts",
                visibility="internal",
                status="draft",
            ),
        ]
    )
    assert result.ok
    assert result.errors == []
    first, second = result.records
    assert (first.id, first.language, first.visibility, first.status) == (
        "a1",
        "en",
        Visibility.PUBLIC,
        ArticleStatus.PUBLISHED,
    )
    assert second.language == "ru"  # detected from the script
    assert second.tags == ("пароль",)
    assert second.visibility is Visibility.INTERNAL
    assert second.status is ArticleStatus.DRAFT


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "bad JSON"),
        ("[1, 2]", "expected a JSON object"),
        (line(id="x", body="b"), "missing title"),
        (line(id="x", title="  ", body="b"), "empty title"),
        (line(title="t", body="b"), "missing id"),
        (line(id="x", title="t", body="b", language="de"), "unknown language code 'de'"),
        (line(id="x", title="t", body="b", visibility="secret"), "unknown visibility"),
        (line(id="x", title="t", body="b", status="gone"), "unknown status"),
        (line(id="x", title="t", body="b", tags="one"), "tags must be a list"),
        (line(id="x", title="t", body="b", colour="red"), "unknown field(s): colour"),
    ],
)
def test_each_kind_of_bad_line_is_reported_with_its_line_number(bad: str, message: str) -> None:
    result = parse_lines([GOOD, "", bad])
    assert result.records == []
    assert len(result.errors) == 1
    assert result.errors[0].line == 3
    assert message in result.errors[0].message


def test_nothing_is_returned_when_any_line_is_wrong_and_every_error_is_listed() -> None:
    result = parse_lines([GOOD, "{oops", line(id="b", title="t", body="b"), line(id="c", body="b")])
    assert not result.ok
    assert result.records == []
    assert [error.line for error in result.errors] == [2, 4]


def test_duplicate_ids_are_reported_on_the_later_line() -> None:
    result = parse_lines([GOOD, line(id="b", title="t", body="b"), GOOD])
    assert result.records == []
    assert result.errors == [LineError(3, "duplicate id 'a1' (first on line 1)")]


def test_file_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_bytes(GOOD.encode() + b"\n" + b'{"id": "\xff"}\n')
    result = parse_file(path)
    assert result.errors == [LineError(2, "not UTF-8 text")]


def test_kb_check_command_reports_errors_and_exit_code(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(GOOD + "\n", encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(GOOD + "\n" + GOOD + "\n", encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(kb_group, ["check", str(good)])
    assert ok.exit_code == 0
    assert "1 articles, no errors" in ok.output
    failed = runner.invoke(kb_group, ["check", str(bad)])
    assert failed.exit_code == 1
    assert "bad.jsonl:2: duplicate id 'a1'" in failed.output
