"""Runs every case of the DMN TCK compliance level 2 (../shared/dmn-tck-level2, see its README).

Each test case is one parametrised test; the conftest prints passed/total per folder.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from flowdesk.core.xmlsafe import local_name, parse_xml
from flowdesk.dmn import DmnModel, load_model
from flowdesk.feel import values

TCK_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "dmn-tck-level2"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
TOLERANCE = Decimal("1e-8")


def _children(el: etree._Element, tag: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and local_name(c) == tag]


def _cases() -> list[Any]:
    if not TCK_DIR.is_dir():
        return [pytest.param(None, None, None, id="tck-absent")]
    params = []
    for folder in sorted(p for p in TCK_DIR.iterdir() if p.is_dir()):
        for test_file in sorted(folder.glob("*-test-*.xml")):
            root = parse_xml(test_file)
            model_name = (_children(root, "modelName")[0].text or "").strip()
            for case in _children(root, "testCase"):
                case_id = case.get("id") or "?"
                params.append(
                    pytest.param(
                        folder / model_name, folder.name, case, id=f"{folder.name}/{case_id}"
                    )
                )
    return params


@cache
def _model(path: Path) -> DmnModel:
    return load_model(path, tolerant=True)


def parse_value(node: etree._Element) -> Any:
    """A TCK value: <value xsi:type=..>, <value xsi:nil="true"/>, <component>s or <list>."""
    value = _children(node, "value")
    if value:
        return _simple(value[0])
    lists = _children(node, "list")
    if lists:
        return [parse_value(item) for item in _children(lists[0], "item")]
    components = _children(node, "component")
    if components:
        return {c.get("name"): parse_value(c) for c in components}
    return None


def _simple(el: etree._Element) -> Any:
    if el.get(f"{XSI}nil") == "true":
        return None
    kind = (el.get(f"{XSI}type") or "xsd:string").split(":")[-1]
    text = el.text or ""
    if kind in ("decimal", "double", "float", "int", "integer", "long", "short"):
        return Decimal(text.strip())
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "date":
        return values.parse_date(text.strip())
    if kind == "time":
        return values.parse_time(text.strip())
    if kind == "dateTime":
        return values.parse_date_time(text.strip())
    if kind == "duration":
        return values.parse_duration(text.strip())
    return text


def same(expected: Any, actual: Any) -> bool:
    """TCK comparison: numbers within 1e-8, lists in order, contexts as maps."""
    if expected is None:
        return actual is None
    if isinstance(expected, Decimal):
        return (
            isinstance(actual, Decimal)
            and not isinstance(actual, bool)
            and abs(expected - actual) <= TOLERANCE
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(same(expected[k], actual[k]) for k in expected)
        )
    return type(expected) is type(actual) and bool(expected == actual)


@pytest.mark.parametrize(("model_path", "folder", "case"), _cases())
def test_tck_case(
    model_path: Path | None,
    folder: str | None,
    case: etree._Element | None,
    tck_scores: dict[str, list[int]],
) -> None:
    if model_path is None or folder is None or case is None:
        pytest.skip(f"DMN TCK folder not found at {TCK_DIR}; TCK cases not run")
    score = tck_scores[folder]
    score[1] += 1
    model = _model(model_path)
    inputs = {node.get("name") or "": parse_value(node) for node in _children(case, "inputNode")}
    problems = []
    for node in _children(case, "resultNode"):
        name = node.get("name") or ""
        result = model.evaluate(name, inputs)
        if node.get("errorResult") == "true":
            if result.value is not None:
                problems.append(f"{name}: expected an error (null), got {result.value!r}")
            continue
        expected = parse_value(_children(node, "expected")[0])
        if not same(expected, result.value):
            problems.append(
                f"{name}: expected {expected!r}, got {result.value!r}; "
                f"diagnostics {result.messages()}"
            )
    assert not problems, "\n".join(problems)
    score[0] += 1
