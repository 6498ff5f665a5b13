"""DMN 1.1 - 1.5 XML -> DmnModel, compiling every FEEL text once.

Parsing goes through flowdesk.core.xmlsafe (no DOCTYPE, size and depth caps). Elements and
attributes outside the DMN namespaces (vendor extensions, DMNDI) are ignored. Every problem is
a ModelError naming the decision (and rule / column / cell for tables), the file and the XML
line, so a modeller can find it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from flowdesk.core.errors import ModelError, Position
from flowdesk.core.xmlsafe import local_name, namespace, parse_xml
from flowdesk.dmn import boxed, feel_bridge, hit_policies
from flowdesk.dmn.items import ItemType, builtin_type
from flowdesk.dmn.model import (
    BusinessKnowledgeModel,
    Decision,
    DecisionService,
    Definitions,
    DmnModel,
    Element,
    InputData,
    Requirement,
)
from flowdesk.dmn.tables import DecisionTable, InputClause, OutputClause, Rule
from flowdesk.feel.errors import FeelSyntaxError
from flowdesk.feel.runtime import Env

DMN_NAMESPACES = frozenset(
    {
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",  # 1.1
        "http://www.omg.org/spec/DMN/20180521/MODEL/",  # 1.2
        "https://www.omg.org/spec/DMN/20191111/MODEL/",  # 1.3
        "https://www.omg.org/spec/DMN/20211108/MODEL/",  # 1.4
        "https://www.omg.org/spec/DMN/20230324/MODEL/",  # 1.5
    }
)
EXPRESSION_TAGS = frozenset(
    {
        "literalExpression",
        "decisionTable",
        "context",
        "relation",
        "list",
        "invocation",
        "functionDefinition",
        "conditional",
        "filter",
        "for",
        "some",
        "every",
    }
)
Source = str | bytes | Path
_Xml = etree._Element


def load_model(*sources: Source, tolerant: bool = False) -> DmnModel:
    """Load one DMN model and the models it imports.

    Each source is a file path (str or Path) or XML text (str starting with '<', or bytes).
    The first source is the main model; the others are models it imports (by namespace).

    Strict (the default, what deploying and authoring checks use): the first problem raises
    ModelError. `tolerant=True` (what evaluation of a given file uses, as DMN 1.5 section
    10.3.2.9 and the TCK expect): a decision, BKM or FEEL text that cannot be compiled is kept
    as an element that evaluates to null with a diagnostic naming its id, line and column;
    the rest of the model works, and `model.problems` lists every such ModelError.
    Problems of the model's structure (not DMN, unknown hrefs, cycles, duplicate names)
    still raise.
    """
    if not sources:
        raise ModelError("load_model needs at least one DMN file or XML text")
    roots = [_parse(source, i) for i, source in enumerate(sources)]
    return _Loader(roots, tolerant=tolerant).load()


def _parse(source: Source, index: int) -> tuple[_Xml, str | None]:
    if isinstance(source, Path):
        return parse_xml(source), str(source)
    if isinstance(source, bytes):
        return parse_xml(source, filename=f"<model {index + 1}>"), None
    if source.lstrip().startswith("<"):
        return parse_xml(source, filename=f"<model {index + 1}>"), None
    return parse_xml(Path(source)), source


def _is_dmn(el: _Xml) -> bool:
    return namespace(el) in DMN_NAMESPACES


def _children(el: _Xml, tag: str | None = None) -> list[_Xml]:
    return [c for c in el if _is_dmn(c) and (tag is None or local_name(c) == tag)]


def _child(el: _Xml, tag: str) -> _Xml | None:
    for c in el:
        if _is_dmn(c) and local_name(c) == tag:
            return c
    return None


def _text(el: _Xml | None) -> str | None:
    """The content of an element's <text> child (or the element's own text if it has none)."""
    if el is None:
        return None
    text_el = _child(el, "text")
    if text_el is not None:
        return text_el.text or ""
    return None


class _Loader:
    def __init__(self, roots: list[tuple[_Xml, str | None]], *, tolerant: bool = False) -> None:
        self.roots = roots
        self.tolerant = tolerant
        self.problems: list[ModelError] = []
        self.current_id: str | None = None  # the DRG element being filled, for positions
        self.defs: list[Definitions] = []
        self.by_namespace: dict[str, Definitions] = {}
        self.xml_items: dict[int, dict[str, _Xml]] = {}
        self.resolving: set[tuple[int, str]] = set()
        self.names: tuple[str, ...] = ()
        self.file: str | None = None

    # ------------------------------------------------------------------ driver
    def load(self) -> DmnModel:
        names: set[str] = set()
        for root, file in self.roots:
            self.file = file
            if local_name(root) != "definitions" or not _is_dmn(root):
                raise ModelError(
                    f"not a DMN model: root element is '{local_name(root)}' in namespace "
                    f"'{namespace(root)}'",
                    position=self._pos(root),
                    hint="expected <definitions> in a DMN 1.1 to 1.5 namespace",
                )
            defs = Definitions(
                name=root.get("name") or "", namespace=root.get("namespace") or "", file=file
            )
            for imp in _children(root, "import"):
                import_type = imp.get("importType")
                if import_type is not None and import_type not in DMN_NAMESPACES:
                    continue  # XSD / PMML imports: not models this loader resolves
                if imp.get("name") is not None and imp.get("namespace"):
                    defs.imports[imp.get("name") or ""] = imp.get("namespace") or ""
            self.defs.append(defs)
            self.by_namespace.setdefault(defs.namespace, defs)
            self.xml_items[id(defs)] = {
                el.get("name") or "": el for el in _children(root, "itemDefinition")
            }
            names.update(_collect_names(root))
        self.names = tuple(sorted(n for n in names if n))
        self._check_imports()
        prefixes = self._main_prefixes()
        shells: list[tuple[Definitions, Element, _Xml]] = []
        for defs, (root, file) in zip(self.defs, self.roots, strict=True):
            self.file = file
            for name in self.xml_items[id(defs)]:
                defs.items[name] = self._item(defs, name)
            for el in _children(root):
                element = self._shell(defs, el, prefixes.get(id(defs)))
                if element is None:
                    continue
                if element.id in defs.elements:
                    raise ModelError(
                        f"duplicate id '{element.id}'", position=self._pos(el, element.id)
                    )
                defs.elements[element.id] = element
                shells.append((defs, element, el))
        for defs, element, el in shells:
            self.file = defs.file
            self.current_id = element.id
            try:
                self._fill(defs, element, el)
            except ModelError as exc:
                if not self.tolerant:
                    raise
                self._broken_element(element, exc)
        self._check_names()
        self._check_cycles()
        model = DmnModel(self.defs)
        model.problems = tuple(self.problems)
        return model

    def _broken_element(self, element: Element, exc: ModelError) -> None:
        """Tolerant load: an element whose definition is invalid evaluates to null."""
        self.problems.append(exc)
        broken = boxed.Literal(_Broken(str(exc)), "")
        if isinstance(element, Decision):
            element.type = None
            element.expression = broken
        elif isinstance(element, BusinessKnowledgeModel):
            element.body = broken
            element.result_type = None
        elif isinstance(element, InputData):
            element.type = None

    def _pos(self, el: _Xml, element_id: str | None = None) -> Position:
        return Position(file=self.file, line=_line(el), element_id=element_id or el.get("id"))

    def _check_imports(self) -> None:
        for defs, (root, file) in zip(self.defs, self.roots, strict=True):
            for name, ns in defs.imports.items():
                if ns not in self.by_namespace:
                    self.file = file
                    imp = next(i for i in _children(root, "import") if i.get("name") == name)
                    raise ModelError(
                        f"model '{defs.name}' imports '{name}' (namespace {ns}), which was not "
                        "loaded",
                        position=self._pos(imp),
                        hint="pass the imported DMN file to load_model too",
                    )

    def _main_prefixes(self) -> dict[int, str | None]:
        """How each model's elements are named from the main model: import name or none."""
        prefixes: dict[int, str | None] = {id(self.defs[0]): None}
        for defs in self.defs:
            for name, ns in defs.imports.items():
                target = self.by_namespace[ns]
                prefixes.setdefault(id(target), name)
        for defs in self.defs:
            prefixes.setdefault(id(defs), defs.name)
        return prefixes

    def _check_names(self) -> None:
        for defs in self.defs:
            seen: dict[str, Element] = {}
            for element in defs.elements.values():
                other = seen.get(element.name)
                if other is not None:
                    raise ModelError(
                        f"two elements named '{element.name}' (ids '{other.id}' and "
                        f"'{element.id}') in model '{defs.name}'",
                        position=element.position,
                    )
                seen[element.name] = element

    def _check_cycles(self) -> None:
        state: dict[int, int] = {}

        def visit(element: Element, path: list[str]) -> None:
            if state.get(id(element)) == 2:
                return
            if state.get(id(element)) == 1:
                raise ModelError(
                    "requirement cycle: " + " -> ".join([*path, element.name]),
                    position=element.position,
                )
            state[id(element)] = 1
            for req in getattr(element, "requirements", []):
                visit(req.element, [*path, element.name])
            state[id(element)] = 2

        for defs in self.defs:
            for element in defs.elements.values():
                visit(element, [])

    # ------------------------------------------------------------------ elements
    def _shell(self, defs: Definitions, el: _Xml, prefix: str | None) -> Element | None:
        tag = local_name(el)
        kinds: dict[str, type[Element]] = {
            "decision": Decision,
            "inputData": InputData,
            "businessKnowledgeModel": BusinessKnowledgeModel,
            "decisionService": DecisionService,
        }
        kind = kinds.get(tag)
        if kind is None:
            return None
        name = el.get("name")
        if not name:
            raise ModelError(f"<{tag}> without a name", position=self._pos(el))
        element_id = el.get("id") or name
        return kind(name=name, id=element_id, position=self._pos(el, element_id), prefix=prefix)

    def _fill(self, defs: Definitions, element: Element, el: _Xml) -> None:
        variable = _child(el, "variable")
        type_ref = variable.get("typeRef") if variable is not None else None
        where = f"{_kind(element)} '{element.name}'"
        if isinstance(element, InputData):
            element.type = self._type(defs, type_ref, el, where) if type_ref else None
        elif isinstance(element, Decision):
            element.type = self._type(defs, type_ref, el, where) if type_ref else None
            element.requirements = self._requirements(defs, el, where)
            expr_el = _expression_child(el)
            element.expression = self._expr(defs, expr_el, where) if expr_el is not None else None
        elif isinstance(element, BusinessKnowledgeModel):
            element.requirements = self._requirements(defs, el, where)
            logic = _child(el, "encapsulatedLogic")
            if logic is not None:
                element.kind = logic.get("kind") or "FEEL"
                element.parameters = self._parameters(defs, logic, where)
                body = _expression_child(logic)
                element.body = self._expr(defs, body, where) if body is not None else None
                if logic.get("typeRef"):
                    element.result_type = self._type(defs, logic.get("typeRef"), logic, where)
        elif isinstance(element, DecisionService):
            element.type = self._type(defs, type_ref, el, where) if type_ref else None
            element.outputs = self._refs(defs, el, "outputDecision", Decision, where)
            element.encapsulated = self._refs(defs, el, "encapsulatedDecision", Decision, where)
            element.input_decisions = self._refs(defs, el, "inputDecision", Decision, where)
            element.input_data = self._refs(defs, el, "inputData", InputData, where)

    def _requirements(self, defs: Definitions, el: _Xml, where: str) -> list[Requirement]:
        reqs: list[Requirement] = []
        for req_el in _children(el):
            tag = local_name(req_el)
            if tag not in ("informationRequirement", "knowledgeRequirement"):
                continue
            for ref_el in _children(req_el):
                if local_name(ref_el) in ("requiredDecision", "requiredInput", "requiredKnowledge"):
                    reqs.append(self._resolve(defs, ref_el, where))
        return reqs

    def _resolve(self, defs: Definitions, ref_el: _Xml, where: str) -> Requirement:
        href = ref_el.get("href") or ""
        ns, _, ref_id = href.rpartition("#")
        target_defs = defs if not ns or ns == defs.namespace else self.by_namespace.get(ns)
        element = target_defs.elements.get(ref_id) if target_defs is not None else None
        if element is None or target_defs is None:
            raise ModelError(
                f"{where} references unknown element '{href}'",
                position=self._pos(ref_el),
                hint='check the href ("#id" or "namespace#id" of an imported model)',
            )
        prefix = None
        if target_defs is not defs:
            prefix = next(
                (name for name, imp_ns in defs.imports.items() if imp_ns == target_defs.namespace),
                target_defs.name,
            )
        return Requirement(element, prefix)

    def _refs(
        self, defs: Definitions, el: _Xml, tag: str, kind: type[Element], where: str
    ) -> list[Any]:
        found = []
        for ref_el in _children(el, tag):
            element = self._resolve(defs, ref_el, where).element
            if not isinstance(element, kind):
                raise ModelError(
                    f"{where}: <{tag}> must reference a {kind.__name__}, not '{element.name}'",
                    position=self._pos(ref_el),
                )
            found.append(element)
        return found

    def _parameters(self, defs: Definitions, el: _Xml, where: str) -> list[boxed.Parameter]:
        params = []
        for p in _children(el, "formalParameter"):
            name = p.get("name") or ""
            type_ref = p.get("typeRef")
            params.append(
                boxed.Parameter(
                    name,
                    self._type(defs, type_ref, p, f"{where}, parameter '{name}'")
                    if type_ref
                    else None,
                )
            )
        return params

    # ------------------------------------------------------------------ types
    def _type(self, defs: Definitions, ref: str | None, el: _Xml, where: str) -> ItemType:
        ref = (ref or "").strip()
        found = self._lookup_type(defs, ref)
        if found is None:
            raise ModelError(
                f"{where}: unknown type '{ref}'",
                position=self._pos(el),
                hint="use a FEEL type or the name of an itemDefinition",
            )
        return found

    def _lookup_type(self, defs: Definitions, ref: str) -> ItemType | None:
        found = builtin_type(ref)
        if found is not None:
            return found
        if ref in self.xml_items[id(defs)]:
            return self._item(defs, ref)
        prefix, dot, rest = ref.partition(".")
        if dot and prefix in defs.imports:
            target = self.by_namespace.get(defs.imports[prefix])
            if target is not None and rest in self.xml_items[id(target)]:
                return self._item(target, rest)
        if ":" in ref:  # a QName of DMN 1.1 such as tns:tLoan
            return self._lookup_type(defs, ref.split(":", 1)[1])
        return None

    def _item(self, defs: Definitions, name: str) -> ItemType:
        if name in defs.items:
            return defs.items[name]
        key = (id(defs), name)
        el = self.xml_items[id(defs)][name]
        if key in self.resolving:
            raise ModelError(f"item definition '{name}' refers to itself", position=self._pos(el))
        self.resolving.add(key)
        try:
            item = self._item_from(defs, el, name)
        finally:
            self.resolving.discard(key)
        defs.items[name] = item
        return item

    def _item_from(self, defs: Definitions, el: _Xml, name: str) -> ItemType:
        where = f"item definition '{name}'"
        components = _children(el, "itemComponent")
        type_ref_el = _child(el, "typeRef")
        type_ref = (
            (type_ref_el.text or "").strip() if type_ref_el is not None else el.get("typeRef")
        )
        if components:
            base = ItemType(
                name,
                "context",
                components={
                    (c.get("name") or ""): self._item_from(defs, c, c.get("name") or "")
                    for c in components
                },
            )
        elif (function_item := _child(el, "functionItem")) is not None:
            output_ref = function_item.get("outputTypeRef")
            base = ItemType(
                name,
                "function",
                output=self._type(defs, output_ref, function_item, where) if output_ref else None,
            )
        elif type_ref:
            ref = self._type(defs, type_ref, el, where)
            base = ItemType(name, ref.base, ref.components, ref.element, list(ref.allowed))
        else:
            base = ItemType(name)
        for tag in ("allowedValues", "typeConstraint"):
            constraint = _child(el, tag)
            text = _text(constraint)
            if constraint is not None and text is not None and text.strip():
                tests = self._unary(text, constraint, f"{where}, {tag}")
                target = (
                    base.element if base.element is not None and tag == "allowedValues" else base
                )
                target.allowed.append((tests, text.strip()))
        if el.get("isCollection") == "true":
            return ItemType(name, "list", element=base)
        return base

    # ------------------------------------------------------------------ FEEL
    def _compile(self, text: str, el: _Xml, where: str) -> feel_bridge.Expression:
        try:
            return feel_bridge.compile_expression(text, self.names)
        except FeelSyntaxError as exc:
            error = self._syntax(exc, text, el, where)
            if not self.tolerant:
                raise error from exc
            self.problems.append(error)
            return _Broken(str(error))

    def _unary(self, text: str, el: _Xml, where: str) -> feel_bridge.UnaryTests:
        try:
            return feel_bridge.compile_unary_tests(text, self.names)
        except FeelSyntaxError as exc:
            error = self._syntax(exc, text, el, where)
            if not self.tolerant:
                raise error from exc
            self.problems.append(error)
            return _Broken(str(error))

    def _syntax(self, exc: FeelSyntaxError, text: str, el: _Xml, where: str) -> ModelError:
        text_el = _child(el, "text")
        line = _line(text_el) if text_el is not None else None
        line = line if line is not None else _line(el)
        shown = " ".join(text.split())
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return ModelError(
            f"{where}: FEEL syntax error at column {exc.column} of '{shown}': {exc.message}",
            position=Position(
                file=self.file, line=line, element_id=el.get("id") or self.current_id
            ),
            hint=exc.hint,
        )

    # ------------------------------------------------------------------ expressions
    def _expr(self, defs: Definitions, el: _Xml, where: str) -> boxed.Expr:
        tag = local_name(el)
        expr = self._expr_inner(defs, el, tag, where)
        type_ref = el.get("typeRef")
        if type_ref and tag != "functionDefinition":
            expr = boxed.Typed(expr, self._type(defs, type_ref, el, where), where)
        return expr

    def _sub(self, defs: Definitions, el: _Xml | None, where: str) -> boxed.Expr:
        """The expression inside a wrapper element (<if>, <in>, a context entry ...)."""
        inner = _expression_child(el) if el is not None else None
        if inner is None:
            return boxed.Literal(
                self._compile("null", el if el is not None else _dummy(), where), ""
            )
        return self._expr(defs, inner, where)

    def _expr_inner(self, defs: Definitions, el: _Xml, tag: str, where: str) -> boxed.Expr:
        if tag == "literalExpression":
            if (
                el.get("expressionLanguage") not in (None, "")
                and "FEEL" not in (el.get("expressionLanguage") or "").upper()
            ):
                raise ModelError(
                    f"{where}: expression language '{el.get('expressionLanguage')}' is not "
                    "supported (only FEEL)",
                    position=self._pos(el),
                )
            text = _text(el)
            text = text if text is not None and text.strip() else "null"
            return boxed.Literal(self._compile(text, el, where), text)
        if tag == "decisionTable":
            return self._table(defs, el, where)
        if tag == "context":
            entries = []
            for n, entry in enumerate(_children(el, "contextEntry"), start=1):
                variable = _child(entry, "variable")
                name = variable.get("name") if variable is not None else None
                sub_where = f"{where}, context entry '{name or f'#{n} (result)'}'"
                value = self._sub(defs, entry, sub_where)
                if variable is not None and variable.get("typeRef"):
                    value = boxed.Typed(
                        value,
                        self._type(defs, variable.get("typeRef"), entry, sub_where),
                        sub_where,
                    )
                entries.append(boxed.ContextEntry(name, value))
            return boxed.Context(entries)
        if tag == "relation":
            columns = [c.get("name") or c.get("label") or "" for c in _children(el, "column")]
            rows = []
            for r, row in enumerate(_children(el, "row"), start=1):
                cells = [c for c in _children(row) if local_name(c) in EXPRESSION_TAGS]
                if len(cells) != len(columns):
                    raise ModelError(
                        f"{where}: relation row {r} has {len(cells)} cells for {len(columns)} "
                        "columns",
                        position=self._pos(row),
                    )
                rows.append(
                    [
                        self._expr(defs, c, f"{where}, relation row {r}, column '{columns[i]}'")
                        for i, c in enumerate(cells)
                    ]
                )
            return boxed.Relation(columns, rows)
        if tag == "list":
            items = [c for c in _children(el) if local_name(c) in EXPRESSION_TAGS]
            return boxed.ListExpr(
                [self._expr(defs, c, f"{where}, list item {i}") for i, c in enumerate(items, 1)]
            )
        if tag == "invocation":
            callee_el = _expression_child(el)
            if callee_el is None:
                raise ModelError(f"{where}: invocation without a function", position=self._pos(el))
            callee_text = (_text(callee_el) or "").strip()
            bindings: list[tuple[str, boxed.Expr | None]] = []
            for binding in _children(el, "binding"):
                param = _child(binding, "parameter")
                pname = param.get("name") if param is not None else None
                if not pname:
                    raise ModelError(
                        f"{where}: invocation binding without a parameter name",
                        position=self._pos(binding),
                    )
                value_el = _expression_child(binding)
                bindings.append(
                    (
                        pname,
                        self._expr(defs, value_el, f"{where}, binding '{pname}'")
                        if value_el is not None
                        else None,
                    )
                )
            return boxed.Invocation(
                self._expr(defs, callee_el, f"{where}, invoked function"), callee_text, bindings
            )
        if tag == "functionDefinition":
            body_el = _expression_child(el)
            kind = el.get("kind") or "FEEL"
            body = (
                self._expr(defs, body_el, f"{where}, function body")
                if body_el is not None and kind == "FEEL"
                else None
            )
            return boxed.FunctionDefinition(self._parameters(defs, el, where), body, kind)
        if tag == "conditional":
            return boxed.Conditional(
                self._sub(defs, _child(el, "if"), f"{where}, if"),
                self._sub(defs, _child(el, "then"), f"{where}, then"),
                self._sub(defs, _child(el, "else"), f"{where}, else"),
            )
        if tag == "filter":
            return boxed.Filter(
                self._sub(defs, _child(el, "in"), f"{where}, filter in"),
                self._sub(defs, _child(el, "match"), f"{where}, filter match"),
            )
        if tag in ("for", "some", "every"):
            body_tag = "return" if tag == "for" else "satisfies"
            iterator_name = el.get("iteratorVariable") or ""
            if not iterator_name:
                raise ModelError(
                    f"{where}: <{tag}> without iteratorVariable", position=self._pos(el)
                )
            return boxed.Iterator(
                tag,
                iterator_name,
                self._sub(defs, _child(el, "in"), f"{where}, {tag} in"),
                self._sub(defs, _child(el, body_tag), f"{where}, {tag} {body_tag}"),
            )
        raise ModelError(f"{where}: unsupported expression <{tag}>", position=self._pos(el))

    # ------------------------------------------------------------------ decision tables
    def _table(self, defs: Definitions, el: _Xml, where: str) -> DecisionTable:
        code = hit_policies.parse_hit_policy(el.get("hitPolicy"), el.get("aggregation"))
        if code is None:
            raise ModelError(
                f"{where}: unknown hit policy '{el.get('hitPolicy')}'"
                + (f" with aggregation '{el.get('aggregation')}'" if el.get("aggregation") else ""),
                position=self._pos(el),
                hint="UNIQUE, ANY, PRIORITY, FIRST, RULE ORDER, OUTPUT ORDER or COLLECT "
                "(aggregation SUM, MIN, MAX, COUNT with COLLECT only)",
            )
        inputs = []
        for i, input_el in enumerate(_children(el, "input"), start=1):
            expr_el = _child(input_el, "inputExpression")
            text = _text(expr_el)
            label = input_el.get("label") or (text or "").strip() or f"#{i}"
            col_where = f"{where}, input column {i} ('{label}')"
            if expr_el is None or text is None or not text.strip():
                raise ModelError(f"{col_where}: no input expression", position=self._pos(input_el))
            allowed_el = _child(input_el, "inputValues")
            allowed_text = _text(allowed_el)
            inputs.append(
                InputClause(
                    label,
                    self._compile(text, expr_el, col_where),
                    self._unary(allowed_text, allowed_el, f"{col_where}, input values")
                    if allowed_el is not None and allowed_text and allowed_text.strip()
                    else None,
                )
            )
        outputs = []
        output_els = _children(el, "output")
        if not output_els:
            raise ModelError(f"{where}: decision table without outputs", position=self._pos(el))
        if len(output_els) > 1 and len(code) == 2:
            raise ModelError(
                f"{where}: aggregation {el.get('aggregation')} needs a single output column, "
                f"the table has {len(output_els)}",
                position=self._pos(el),
            )
        for j, out_el in enumerate(output_els, start=1):
            name = out_el.get("name") or out_el.get("label") or ""
            if len(output_els) > 1 and not name:
                raise ModelError(
                    f"{where}: output column {j} needs a name in a multi-output table",
                    position=self._pos(out_el),
                )
            outputs.append(self._output(defs, out_el, name, f"{where}, output column {j}"))
        rules = []
        for r, rule_el in enumerate(_children(el, "rule"), start=1):
            rules.append(self._rule(rule_el, r, inputs, outputs, where))
        return DecisionTable(where, code, inputs, outputs, rules)

    def _output(self, defs: Definitions, out_el: _Xml, name: str, where: str) -> OutputClause:
        type_ref = out_el.get("typeRef")
        base = self._type(defs, type_ref, out_el, where) if type_ref else None
        values_el = _child(out_el, "outputValues")
        values_text = _text(values_el)
        priorities: list[Any] | None = None
        out_type = base
        if values_el is not None and values_text and values_text.strip():
            tests = self._unary(values_text, values_el, f"{where}, output values")
            src = base or ItemType("Any")
            out_type = ItemType(
                src.name,
                src.base,
                src.components,
                src.element,
                [*src.allowed, (tests, values_text)],
            )
            priorities = _literal_list(values_text, self.names)
        default_el = _child(out_el, "defaultOutputEntry")
        default_text = _text(default_el)
        default = (
            self._compile(default_text, default_el, f"{where}, default output")
            if default_el is not None and default_text and default_text.strip()
            else None
        )
        return OutputClause(name, out_type, priorities, default)

    def _rule(
        self,
        rule_el: _Xml,
        number: int,
        inputs: list[InputClause],
        outputs: list[OutputClause],
        where: str,
    ) -> Rule:
        entries = _children(rule_el, "inputEntry")
        results = _children(rule_el, "outputEntry")
        rule_where = f"{where}, rule {number}"
        if len(entries) != len(inputs) or len(results) != len(outputs):
            raise ModelError(
                f"{rule_where} has {len(entries)} input entries and {len(results)} output "
                f"entries, the table has {len(inputs)} inputs and {len(outputs)} outputs",
                position=self._pos(rule_el),
            )
        tests = []
        for i, (entry, clause) in enumerate(zip(entries, inputs, strict=True)):
            text = _text(entry) or ""
            if text.strip() in ("", "-"):
                continue
            tests.append(
                (
                    i,
                    self._unary(
                        text, entry, f"{rule_where}, input entry {i + 1} ('{clause.label}')"
                    ),
                )
            )
        compiled_outputs = []
        for j, (entry, out_clause) in enumerate(zip(results, outputs, strict=True)):
            text = _text(entry) or ""
            label = out_clause.name or "output"
            compiled_outputs.append(
                self._compile(
                    text if text.strip() else "null",
                    entry,
                    f"{rule_where}, output entry {j + 1} ('{label}')",
                )
            )
        return Rule(number, tests, compiled_outputs)


class _Broken:
    """What a FEEL text that does not compile becomes in a tolerant load: null, with the
    load-time message (file, line, column, element id) as a diagnostic each time it is used."""

    def __init__(self, message: str) -> None:
        self.message = message

    def evaluate(self, context: Mapping[str, Any], env: Env | None = None) -> Any:
        if env is not None:
            env.diagnostics.add(self.message)
        return None

    def matches(self, input_value: Any, context: Mapping[str, Any], env: Env | None = None) -> Any:
        return self.evaluate(context, env)


def _expression_child(el: _Xml | None) -> _Xml | None:
    if el is None:
        return None
    for c in el:
        if _is_dmn(c) and local_name(c) in EXPRESSION_TAGS:
            return c
    return None


def _line(el: _Xml) -> int | None:
    line: object = el.sourceline  # lxml-stubs type it loosely
    return line if isinstance(line, int) else None


def _kind(element: Element) -> str:
    return {
        InputData: "input data",
        Decision: "decision",
        BusinessKnowledgeModel: "business knowledge model",
        DecisionService: "decision service",
    }.get(type(element), "element")


def _collect_names(root: _Xml) -> Iterable[str]:
    """Every name a FEEL text of the model may mention (they may contain spaces)."""
    for el in root.iter():
        if not isinstance(el.tag, str) or not _is_dmn(el):
            continue
        for attr in ("name", "iteratorVariable"):
            value = el.get(attr)
            if value:
                yield value


def _literal_list(text: str, names: tuple[str, ...]) -> list[Any] | None:
    """outputValues as an ordered list of values (for P / O priorities), if they are literals."""
    try:
        value = feel_bridge.compile_expression(f"[{text}]", names).evaluate({}, Env())
    except FeelSyntaxError:
        return None
    return value if isinstance(value, list) else None


def _dummy() -> _Xml:
    return etree.Element("none")
