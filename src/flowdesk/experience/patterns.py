"""The event-pattern files of a bundle (`patterns/*.yaml`): parsed with positions and compiled
by `flowdesk.cep`, every problem reported with file, line and column like the rest of a bundle."""

from __future__ import annotations

from sqlalchemy import select

from flowdesk.cep import Rule, parse_rules
from flowdesk.experience.errors import Issue
from flowdesk.experience.models import experience_bundle_files
from flowdesk.experience.yamldoc import YamlError, load_yaml
from flowdesk.store import Store


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


def deployed_patterns(store: Store) -> list[tuple[str, str, dict[str, bytes]]]:
    """(bundle name, bundle id, pattern files) of the current version of every bundle that has
    pattern files: what the situations consumer runs."""
    from flowdesk.experience.service import flows  # service imports the loader, which imports us

    current = {entry.bundle_id: entry.name for entry in flows(store)}
    if not current:
        return []
    c = experience_bundle_files.c
    with store.reading() as conn:
        rows = conn.execute(
            select(c.bundle_id, c.name, c.content)
            .where(c.bundle_id.in_(list(current)), c.name.like("patterns/%"))
            .order_by(c.bundle_id, c.name)
        ).all()
    found: dict[str, dict[str, bytes]] = {}
    for row in rows:
        if pattern_files([row.name]):
            found.setdefault(row.bundle_id, {})[row.name] = bytes(row.content)
    return sorted((current[b], b, files) for b, files in found.items())


def compile_deployed(store: Store) -> tuple[str, list[tuple[str, Rule]]]:
    """The rules of every current bundle with the bundle they come from, and a signature that
    changes when any of them is deployed again. A rule id taken by an earlier bundle is
    skipped (ids are unique within a bundle; across bundles the first one wins)."""
    rules: list[tuple[str, Rule]] = []
    seen: set[str] = set()
    signature: list[str] = []
    for name, bundle_id, files in deployed_patterns(store):
        signature.append(bundle_id)
        found, _issues = check_patterns(files)  # validated on deploy already
        for rule in found:
            if rule.id not in seen:
                seen.add(rule.id)
                rules.append((name, rule))
    return ",".join(signature), rules
