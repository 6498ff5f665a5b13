"""A small Python worker library for Flowdesk external tasks (Camunda-style fetch-and-lock).

from flowdesk.client import BpmnError, Worker

worker = Worker("http://localhost:8000", api_key="fdk_...")

@worker.topic("crm-update")
def update_crm(variables, task):
    if not variables.get("customer_id"):
        raise BpmnError("NO_CUSTOMER", "no customer on the case")
    return {"crm_updated": True}

worker.run()          # or worker.run_once() in a loop / a test
"""

from flowdesk.client.worker import BpmnError, ExternalTask, Worker

__all__ = ["BpmnError", "ExternalTask", "Worker"]
