"""Bundle validation: every problem is reported at once, each with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.experience.conftest import BPMN, FLOW, write_bundle

from flowdesk.experience.errors import BundleError, Issue
from flowdesk.experience.loader import load_bundle


def problems(root: Path, changes: dict[str, str | None]) -> list[Issue]:
    write_bundle(root, changes)
    with pytest.raises(BundleError) as caught:
        load_bundle(root)
    return caught.value.issues


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_valid_bundle_loads(bundle_dir: Path) -> None:
    bundle = load_bundle(bundle_dir)
    assert bundle.name == "mini" and bundle.process == "mini"
    assert [r.id for r in bundle.reasons] == ["mini-reason"]
    check = bundle.tasks["check"]
    assert [s.id for s in check.script] == ["verified", "amount", "big", "stop"]
    assert check.script[1].when == "verified = true"
    assert check.sla == "PT2H" and check.panels == ("profile", "billing")
    assert check.knowledge[0].text == "refund limits" and check.knowledge[0].tags == ("limits",)
    assert bundle.tasks["approve"].form == {
        "type": "object",
        "properties": {"approved": {"type": "boolean"}},
    }
    (article,) = bundle.articles
    assert article.slug == "limits" and article.title == "Refund limits"
    assert article.steps == ("check",) and "approval by billing" in article.body
    assert [name for name, _ in bundle.resources()] == ["mini.bpmn"]


def test_flow_yaml_path_and_zip_load_the_same_bundle(bundle_dir: Path, tmp_path: Path) -> None:
    import shutil

    archive = shutil.make_archive(str(tmp_path / "mini"), "zip", bundle_dir.parent, "mini")
    from_zip = load_bundle(Path(archive))
    from_bytes = load_bundle(Path(archive).read_bytes())
    from_yaml = load_bundle(bundle_dir / "flow.yaml")
    assert from_zip.to_dict() == from_bytes.to_dict() == from_yaml.to_dict()


def test_unknown_user_task_names_the_line_and_the_known_tasks(tmp_path: Path) -> None:
    flow = FLOW.replace("  approve:\n", "  aprove:\n")
    (issue,) = problems(tmp_path, {"flow.yaml": flow})
    assert issue.file == "flow.yaml"
    assert issue.line == line_of(flow, "  aprove:")
    assert issue.field == "tasks.aprove"
    assert "no user task 'aprove'" in issue.message and "approve, check" in issue.message


def test_feel_syntax_error_points_into_the_condition(tmp_path: Path) -> None:
    flow = FLOW.replace("when: amount > 100", "when: amount > (100")
    (issue,) = problems(tmp_path, {"flow.yaml": flow})
    assert issue.line == line_of(flow, "amount > (100")
    assert issue.field == "tasks.check.script[2].when"
    assert "FEEL syntax error" in issue.message and "expected ')'" in issue.message
    text_column = flow.splitlines()[issue.line - 1].index("amount > (100") + 1
    assert issue.column == text_column + len("amount > (100")


def test_block_scalar_condition_reports_the_line_of_the_error(tmp_path: Path) -> None:
    flow = FLOW.replace(
        "when: amount > 100", "when: |\n          amount > 100\n          and (verified"
    )
    (issue,) = problems(tmp_path, {"flow.yaml": flow})
    assert issue.field == "tasks.check.script[2].when"
    assert issue.line is not None and issue.line >= line_of(flow, "amount > 100")


def test_unknown_panel_and_bad_sla(tmp_path: Path) -> None:
    flow = FLOW.replace("panels: [profile, billing]", "panels: [profile, biling]").replace(
        "sla: P1D", "sla: tomorrow"
    )
    issues = problems(tmp_path, {"flow.yaml": flow})
    by_field = {i.field: i for i in issues}
    assert set(by_field) == {"tasks.check.panels[1]", "tasks.approve.sla"}
    assert "unknown panel 'biling'" in by_field["tasks.check.panels[1]"].message
    assert by_field["tasks.check.panels[1]"].line == line_of(flow, "biling")
    assert by_field["tasks.approve.sla"].line == line_of(flow, "sla: tomorrow")


def test_invalid_inline_and_file_json_schemas(tmp_path: Path) -> None:
    flow = FLOW.replace("amount: {type: number, minimum: 0}", "amount: {type: numbr}")
    form = '{\n  "type": "object",\n  "required": "approved"\n}\n'
    issues = problems(tmp_path, {"flow.yaml": flow, "forms/approve.json": form})
    inline = next(i for i in issues if i.file == "flow.yaml")
    in_file = next(i for i in issues if i.file == "forms/approve.json")
    assert inline.line == line_of(flow, "type: numbr")
    assert inline.field == "tasks.check.form.properties.amount.type"
    assert "invalid JSON Schema" in inline.message
    assert in_file.line == 3 and in_file.field == "required"


def test_missing_files_are_reported_where_they_are_named(tmp_path: Path) -> None:
    issues = problems(tmp_path, {"forms/approve.json": None, "knowledge/limits.md": None})
    assert {(i.file, i.field) for i in issues} == {
        ("flow.yaml", "tasks.approve.form"),
        ("flow.yaml", "files.knowledge[0]"),
    }
    assert all(i.line is not None for i in issues)


def test_missing_bpmn_file_and_missing_flow_yaml(tmp_path: Path) -> None:
    (issue,) = problems(tmp_path / "a", {"mini.bpmn": None})
    assert issue.field == "files.bpmn[0]" and "mini.bpmn" in issue.message
    (issue,) = problems(tmp_path / "b", {"flow.yaml": None})
    assert "no flow.yaml" in issue.message


def test_shape_errors_of_flow_yaml(tmp_path: Path) -> None:
    flow = FLOW.replace("title: Mini flow", "titel: Mini flow").replace(
        "        type: number\n", "        type: integer\n"
    )
    issues = problems(tmp_path, {"flow.yaml": flow})
    messages = {i.field: i.message for i in issues}
    assert "unknown field 'titel'" in messages["titel"]
    assert "tasks.check.script[1].type" in messages
    unknown = next(i for i in issues if i.field == "titel")
    assert unknown.line == 2


def test_bpmn_errors_keep_their_positions(tmp_path: Path) -> None:
    broken = '<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="x">\n<oops'
    issues = problems(tmp_path, {"mini.bpmn": broken})
    assert issues and all(i.file == "mini.bpmn" for i in issues)
    assert issues[0].line is not None


def test_process_id_must_exist(tmp_path: Path) -> None:
    flow = FLOW.replace("process: mini", "process: maxi")
    (issue,) = problems(tmp_path, {"flow.yaml": flow})
    assert issue.field == "process" and issue.line == line_of(flow, "process: maxi")


def test_article_front_matter_errors_have_lines(tmp_path: Path) -> None:
    article = "---\ntitle: Limits\nsteps: [chek]\ncolour: red\n---\nText.\n"
    issues = problems(tmp_path, {"knowledge/limits.md": article})
    assert [(i.file, i.line, i.field) for i in issues] == [("knowledge/limits.md", 4, "colour")]
    assert "colour" in issues[0].message
    article = "---\ntitle: Limits\nsteps: [chek]\n---\nText.\n"
    (issue,) = problems(tmp_path, {"knowledge/limits.md": article})
    assert (issue.line, issue.field) == (3, "steps[0]")
    (issue,) = problems(tmp_path, {"knowledge/limits.md": "no front matter"})
    assert "front matter" in issue.message


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    flow = FLOW.replace("name: mini\n", "name: mini\n  bad: [\n")
    (issue,) = problems(tmp_path, {"flow.yaml": flow})
    assert issue.file == "flow.yaml" and issue.line is not None


def test_aliases_are_refused(tmp_path: Path) -> None:
    flow = FLOW.replace("channels: [phone]", "channels: &c [phone]\n    alias: *c")
    (issue,) = problems(tmp_path, {"flow.yaml": flow})
    assert "aliases" in issue.message


def test_a_malformed_task_does_not_hide_the_problems_of_others(tmp_path: Path) -> None:
    flow = FLOW.replace("sla: P1D", "sla: x").replace("[profile, billing]", "[nope]")
    issues = problems(tmp_path, {"flow.yaml": flow})
    assert {i.field for i in issues} == {"tasks.approve.sla", "tasks.check.panels[0]"}


def test_every_problem_is_reported_in_one_go(tmp_path: Path) -> None:
    flow = (
        FLOW.replace("  approve:\n", "  aprove:\n")
        .replace("panels: [profile, billing]", "panels: [nope]")
        .replace("when: verified = true", "when: verified = (true")
    )
    issues = problems(tmp_path, {"flow.yaml": flow, "forms/approve.json": None})
    assert len(issues) == 4
    text = str(BundleError(issues))
    assert "4 problems" in text and "flow.yaml:" in text


def test_business_rule_tasks_must_call_a_decision_of_the_bundle(tmp_path: Path) -> None:
    bpmn = BPMN.replace(
        '<bpmn:endEvent id="e"/>',
        '<bpmn:businessRuleTask id="rate" camunda:decisionRef="rating" '
        'camunda:resultVariable="r"/>\n    <bpmn:endEvent id="e"/>',
    ).replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="e"/>',
        '<bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="rate"/>\n'
        '    <bpmn:sequenceFlow id="f3" sourceRef="rate" targetRef="e"/>',
    )
    (issue,) = problems(tmp_path, {"mini.bpmn": bpmn})
    assert issue.file == "mini.bpmn" and issue.field == "rate" and issue.line is not None
    assert "decision 'rating'" in issue.message


def test_script_variables_must_be_fields_of_the_form(tmp_path: Path) -> None:
    flow = FLOW.replace("amount: {type: number, minimum: 0}", "amout: {type: number, minimum: 0}")
    (issue,) = problems(tmp_path, {"flow.yaml": flow})
    assert issue.field == "tasks.check.script[1].variable"
    assert issue.line == line_of(flow, "variable: amount")
    assert "'amount'" in issue.message


def test_waiting_texts_name_a_waiting_point_of_the_bpmn(tmp_path: Path) -> None:
    flow = FLOW.replace("tasks:\n", "waiting:\n  check: Waiting for {{ bad name }}.\ntasks:\n", 1)
    issues = problems(tmp_path, {"flow.yaml": flow})
    assert {i.field for i in issues} == {"waiting.check"}
    assert len(issues) == 2  # not a waiting point, and a placeholder that is not a name
    assert all(i.line == line_of(flow, "check: Waiting") for i in issues)


def test_a_form_must_be_plain_json(tmp_path: Path) -> None:
    flow = FLOW.replace(
        "verified: {type: boolean}", "verified: {type: boolean, default: 2026-01-01}"
    )
    (issue,) = problems(tmp_path, {"flow.yaml": flow})
    assert issue.file == "flow.yaml" and "plain JSON" in issue.message
    assert issue.line == line_of(flow, "form:")
