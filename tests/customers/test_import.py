from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flowdesk.core.clock import FixedClock
from flowdesk.customers import service
from flowdesk.customers.bulk import SourceRow, check_columns, import_rows
from flowdesk.customers.errors import ImportRejectedError
from flowdesk.customers.importer import import_file, read_file
from flowdesk.customers.models import customers
from flowdesk.customers.views import get_consents, get_preferences
from flowdesk.store import Store

DATA = Path(__file__).parents[1] / "data" / "customers"


def _count(store: Store) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(customers)).scalar_one())


def test_csv_import_creates_customers_identities_preferences_consents(
    store: Store, clock: FixedClock
) -> None:
    result = import_file(
        store=store,
        path=DATA / "customers.csv",
        clock=clock,
        default_region="GB",
        show_progress=False,
    )
    assert (result.created, result.identities) == (3, 7)
    with store.reading() as conn:
        jane = service.find_by_identity(connection=conn, kind="phone", value="+442079460958")
        hans = service.find_by_identity(connection=conn, kind="email", value="H.Mueller@example.de")
        assert jane is not None and hans is not None
        assert jane.identity_values("email") == ["jane.doe@example.com"]
        assert (jane.postcode, jane.locality, jane.value) == (
            "SW1A 1AA",
            "London",
            Decimal("1250.50"),
        )
        assert hans.birth_date == "1962-07-30" and hans.family_name == "Müller"
        prefs = get_preferences(conn, jane.id)
        assert prefs is not None and (prefs.channel, prefs.quiet_start) == ("email", "21:00")
        consents = get_consents(conn, jane.id)
        assert {c: v.granted for c, v in consents.items()} == {"email": True, "sms": False}
    events = store.events.after(0)
    assert [e.type for e in events].count("customer.created") == 3
    assert events[-1].type == "customer.import_completed"
    assert events[-1].data == {"source": "customers.csv", "created": 3, "identities": 7}


def test_a_bad_row_rejects_the_whole_file_naming_rows_and_fields(
    store: Store, clock: FixedClock
) -> None:
    head = store.events.head()
    with pytest.raises(ImportRejectedError) as info:
        import_file(store=store, path=DATA / "bad_row.csv", clock=clock, show_progress=False)
    problems = [(e.row, e.line, e.field) for e in info.value.errors]
    assert problems == [(2, 3, "phone"), (3, 4, "birth_date"), (3, 4, "email")]
    assert "row 2 (line 3), field 'phone': has no valid country code" in str(info.value)
    assert "nothing was imported" in str(info.value)
    assert _count(store) == 0 and store.events.head() == head


def test_an_identifier_already_in_the_store_rejects_the_file(
    store: Store, clock: FixedClock
) -> None:
    with store.unit_of_work() as uow:
        owner = service.create_customer(
            uow=uow, clock=clock, identities=[("email", "ok@example.com")]
        )
    with pytest.raises(ImportRejectedError) as info:
        import_file(store=store, path=DATA / "duplicate.csv", clock=clock, show_progress=False)
    messages = [e.describe() for e in info.value.errors]
    assert messages == [
        f"row 1 (line 2), field 'email': 'ok@example.com' already belongs to customer {owner.id}",
        "row 2 (line 3), field 'email': 'ok@example.com' is also in row 1",
        f"row 2 (line 3), field 'email': 'ok@example.com' already belongs to customer {owner.id}",
    ]
    assert _count(store) == 1


def test_a_failure_while_writing_leaves_nothing_behind(store: Store, clock: FixedClock) -> None:
    rows = [SourceRow(1, {"email": "a@example.com"}), SourceRow(2, {"email": "b@example.com"})]

    def explode(stage: str, done: int, total: int) -> None:
        if stage == "writing":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        import_rows(uow=uow, clock=clock, rows=rows, source="t", progress=explode)
    assert _count(store) == 0


def test_json_import_and_progress(store: Store, clock: FixedClock) -> None:
    seen: list[tuple[str, int, int]] = []
    headers, rows = read_file(DATA / "customers.json")
    with store.unit_of_work() as uow:
        result = import_rows(
            uow=uow,
            clock=clock,
            rows=rows,
            source="customers.json",
            headers=headers,
            progress=lambda *a: seen.append(a),
        )
    assert result.created == 2 and result.identities == 5
    assert seen == [("checking", 1, 2), ("checking", 2, 2), ("writing", 2, 2)]
    with store.reading() as conn:
        acme = service.find_by_identity(connection=conn, kind="social", value="Twitter:acme")
    assert acme is not None and acme.name == "ACME Ltd" and acme.value == Decimal("99000.00")


def test_unknown_columns_and_unreadable_files(tmp_path: Path, store: Store) -> None:
    assert [e.field for e in check_columns(["Email", "E-Mail address", "surname", "Surname"])] == [
        "E-Mail address",
        "Surname",
    ]
    bad_json = tmp_path / "x.json"
    bad_json.write_text('[{"email": "a@example.com"},\n {"email": }]')
    with pytest.raises(ImportRejectedError, match="line 2.*not valid JSON"):
        read_file(bad_json)
    latin1 = tmp_path / "x.csv"
    latin1.write_bytes("given_name\nJos\xe9\n".encode("latin-1"))
    with pytest.raises(ImportRejectedError, match="not UTF-8"):
        read_file(latin1)
    ragged = tmp_path / "r.csv"
    ragged.write_text("email\na@example.com,extra\n")
    with pytest.raises(ImportRejectedError, match="row 1 \\(line 2\\).*2 cells"):
        read_file(ragged)
    with pytest.raises(ImportRejectedError, match="cannot be read"):
        read_file(tmp_path / "missing.csv")
