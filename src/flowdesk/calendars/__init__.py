"""Business calendars: opening hours per weekday in an IANA time zone, holidays, and business
time arithmetic (add a business duration to an instant, business time between two instants,
with pause intervals left out). Pure: no I/O, instants are aware datetimes."""

from flowdesk.calendars.calendar import BusinessCalendar, CalendarError
from flowdesk.calendars.intervals import Interval, merge, subtract

__all__ = ["BusinessCalendar", "CalendarError", "Interval", "merge", "subtract"]
