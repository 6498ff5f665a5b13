"""`flowdesk decide` through a Typer app of the test's own."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from flowdesk.cli.decide import register

DATA = Path(__file__).resolve().parents[1] / "data" / "dmn"


def app() -> typer.Typer:
    application = typer.Typer()

    @application.callback()
    def root() -> None:
        """Test root, so `decide` is a sub-command."""

    register(application)
    return application


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app(), ["decide", *args])
    return result.exit_code, result.stdout, result.stderr


def test_decision_prints_json() -> None:
    code, out, _ = run(
        str(DATA / "dmn11-table.dmn"), "--decision", "Band", "--input", '{"Score": 750}'
    )
    assert code == 0
    assert json.loads(out) == "good"


def test_service_and_numbers_as_json_numbers() -> None:
    code, out, _ = run(
        str(DATA / "services.dmn"),
        "--service",
        "Tax Service",
        "--input",
        '{"Gross": 200, "Rate": 0.1}',
    )
    assert code == 0
    assert json.loads(out) == {"Tax": 20, "Net": 180}


def test_imports_several_files() -> None:
    code, out, _ = run(
        str(DATA / "loan-with-import.dmn"),
        str(DATA / "people.dmn"),
        "-d",
        "Letter",
        "-i",
        '{"Applicant": {"name": "Ada"}, "people.Person": {"age": 40}}',
    )
    assert code == 0, out
    assert json.loads(out) == "Hello Ada, you may apply"


def test_diagnostics_on_stderr() -> None:
    code, out, err = run(str(DATA / "dmn11-table.dmn"), "-d", "Band", "-i", '{"Score": "high"}')
    assert code == 0
    assert json.loads(out) == "other"
    assert "does not conform" in err


def test_errors_exit_2_with_one_line() -> None:
    for args in (
        [str(DATA / "dmn11-table.dmn"), "-d", "Band", "-i", "{not json"],
        [str(DATA / "dmn11-table.dmn"), "-d", "Nope"],
        [str(DATA / "dmn11-table.dmn"), "-d", "Band", "-i", "[1]"],
        [str(DATA / "loan-with-import.dmn"), "-d", "Letter"],
        [str(DATA / "missing.dmn"), "-d", "X"],
        [str(DATA / "dmn11-table.dmn")],
    ):
        code, out, err = run(*args)
        assert code == 2, args
        assert out == ""
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_temporal_values_print_as_iso_text(tmp_path: Path) -> None:
    model = tmp_path / "dates.dmn"
    model.write_text(
        '<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="x" name="dates"'
        ' namespace="http://example.com/dates">'
        '<inputData id="i" name="Start"><variable name="Start" typeRef="date"/></inputData>'
        '<decision id="d" name="Due"><informationRequirement><requiredInput href="#i"/>'
        "</informationRequirement><literalExpression><text>"
        '{due: Start + duration("P30D"), span: duration("P1DT2H"), months: duration("P14M"),'
        " ratio: 1.5}</text></literalExpression></decision></definitions>"
    )
    code, out, _ = run(str(model), "-d", "Due", "-i", '{"Start": "2026-01-31"}')
    assert code == 0, out
    assert json.loads(out) == {
        "due": "2026-03-02",
        "span": "P1DT2H",
        "months": "P1Y2M",
        "ratio": 1.5,
    }
