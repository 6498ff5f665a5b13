"""DMN 1.1 - 1.5 decision models: load, validate and evaluate (decision tables with every hit
policy, boxed expressions, BKMs, decision services, imports).

    model = load_model("loan.dmn")                       # or XML text; several files for imports
    result = model.evaluate("Approval", {"Age": 30, "Risk": "Low"})
    result.value, result.diagnostics

Values are FEEL values as plain Python objects (the contract shared with flowdesk.feel):

    FEEL                          Python
    null                          None
    boolean                       bool
    string                        str
    number                        decimal.Decimal (int/float inputs are converted by to_feel)
    date                          datetime.date
    time                          datetime.time (tzinfo None = local)
    date and time                 datetime.datetime
    days and time duration        datetime.timedelta
    years and months duration     flowdesk.feel.values.YearsMonthsDuration
    list                          list
    context                       dict (insertion ordered)
    range                         flowdesk.feel.values.Range
    function (BKM, service ...)   flowdesk.feel.runtime.FeelFunction

Inputs go through values.to_feel; an ISO string given for an input data typed date, time,
date and time or duration is parsed. A value that does not conform to its type becomes null
with a diagnostic (DMN 1.5 section 10.3.2.9.4). Evaluation never raises for runtime problems;
an invalid model raises flowdesk.core.errors.ModelError at load, naming the element and line.
"""

from flowdesk.dmn.loader import DMN_NAMESPACES, load_model
from flowdesk.dmn.model import (
    BusinessKnowledgeModel,
    Decision,
    DecisionResult,
    DecisionService,
    DmnModel,
    InputData,
)

__all__ = [
    "DMN_NAMESPACES",
    "BusinessKnowledgeModel",
    "Decision",
    "DecisionResult",
    "DecisionService",
    "DmnModel",
    "InputData",
    "load_model",
]
