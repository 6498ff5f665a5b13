"""Compensating a completed subprocess through the persisted runtime (SQLite and PostgreSQL):
every command loads the instance row and writes it back, so the subprocess' snapshot and the
waiting throw live in the stored state between the travel desk's task and the worker's call."""

from __future__ import annotations

from tests.runtime.conftest import deploy_file

from flowdesk.runtime.processes import ProcessRuntime


def test_failed_payment_undoes_the_booked_trip(runtime: ProcessRuntime) -> None:
    deploy_file(runtime, "trip_compensation.bpmn")
    instance = runtime.start("Process_Trip", business_key="TRIP-9")
    (reserve,) = runtime.fetch_and_lock("hotel-worker", ["hotel-reserve"])
    runtime.complete_external_task(reserve.id, "hotel-worker", {"hotel": "HB-1"})
    (flight,) = runtime.work_items(instance_id=instance.id)
    runtime.complete_work_item(flight["id"], actor="tia")
    (payment,) = runtime.work_items(instance_id=instance.id)
    assert payment["element_id"] == "Activity_TakePayment"
    runtime.complete_work_item(payment["id"], {"paid": False}, actor="bo")

    (cancel_flight,) = runtime.work_items(instance_id=instance.id)
    assert cancel_flight["element_id"] == "Activity_CancelFlight"
    assert runtime.fetch_and_lock("hotel-worker", ["hotel-cancel"]) == [], "flight first"
    runtime.complete_work_item(cancel_flight["id"], actor="tia")
    (cancel_hotel,) = runtime.fetch_and_lock("hotel-worker", ["hotel-cancel"])
    assert cancel_hotel.variables["hotel"] == "HB-1"
    state = runtime.complete_external_task(cancel_hotel.id, "hotel-worker")

    assert state.status == "completed"
    assert state.comp == [] and state.scopes == {}
    handlers = {"Activity_CancelFlight", "Activity_CancelHotel"}
    history = [
        (e.type, e.element_id)
        for e in runtime.history(instance.id)
        if e.element_id in handlers and e.type.startswith("element.")
    ]
    assert history == [
        ("element.activated", "Activity_CancelFlight"),
        ("element.completed", "Activity_CancelFlight"),
        ("element.activated", "Activity_CancelHotel"),
        ("element.completed", "Activity_CancelHotel"),
    ]
