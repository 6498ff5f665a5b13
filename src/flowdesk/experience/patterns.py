"""The event-pattern files of a bundle (`patterns/*.yaml`): parsed with positions and compiled
by `flowdesk.cep`, every problem reported with file, line and column like the rest of a bundle."""

from __future__ import annotations

from flowdesk.cep import Rule, parse_rules
from flowdesk.experience.errors import Issue
from flowdesk.experience.yamldoc import YamlError, load_yaml


def pattern_files(files: dict[str, bytes] | list[str]) -> list[str]:
    """The names of a bundle's pattern files, in order."""
    return sorted(
        name
        for name in files
        if name.startswith("patterns/") and name.endswith((".yaml", ".yml")) and "/" not in name[9:]
    )


def check_rules(name: str, text: str, seen: set[str]) -> tuple[list[Rule], list[Issue]]:
    """Compile one rules file; the rules and the problems (file, line, column, field)."""
    try:
        doc = load_yaml(text)
    except YamlError as exc:
        return [], [Issue(name, exc.message, exc.line, exc.column)]
    rules, problems = parse_rules(doc.data, seen=seen)
    issues = []
    for problem in problems:
        line, column = doc.where(problem.path)
        field = ".".join(str(p) for p in problem.path) or None
        issues.append(Issue(name, problem.message, line, column, field))
    return rules, issues


def check_patterns(files: dict[str, bytes]) -> tuple[list[Rule], list[Issue]]:
    """Every pattern file of a bundle compiled; pattern ids are unique across the files."""
    rules: list[Rule] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    for name in pattern_files(files):
        try:
            text = files[name].decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(Issue(name, f"not UTF-8 text (byte {exc.start})"))
            continue
        found, problems = check_rules(name, text, seen)
        rules += found
        issues += problems
    return rules, issues
