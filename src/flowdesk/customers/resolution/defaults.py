"""The model used to match one contact against the customer base, where EM cannot be fitted.

Matching a single inbound contact has no batch of candidate pairs to fit a model on, so it uses
fixed m- and u-probabilities. They are set by hand from what the levels mean (a one-letter typo
in a family name is common within one person's records and rare between two people), in line
with what EM estimates on the FEBRL data, and with a low prior: among the customers a contact is
compared with, almost none is the sender. The effect, checked in tests/customers: the same name
alone is not enough; name plus birth date or plus postcode is, typos and swapped day and month
included; a different birth date outweighs a matching name.
"""

from __future__ import annotations

from flowdesk.customers.resolution.fellegi_sunter import FellegiSunter

#: Levels: 0 missing, 1 disagree, then closer agreement up to exact (see compare.FIELDS).
_M = (
    (0.0, 0.05, 0.05, 0.15, 0.75),  # given_name
    (0.0, 0.05, 0.05, 0.15, 0.75),  # family_name
    (0.0, 0.03, 0.02, 0.10, 0.85),  # birth_date
    (0.0, 0.15, 0.85),  # street_number
    (0.0, 0.10, 0.05, 0.15, 0.70),  # street
    (0.0, 0.10, 0.05, 0.15, 0.70),  # address_line2
    (0.0, 0.08, 0.02, 0.10, 0.80),  # locality
    (0.0, 0.10, 0.10, 0.80),  # postcode
    (0.0, 0.05, 0.95),  # region
    (0.0, 0.05, 0.05, 0.10, 0.80),  # id_number
)
_U = (
    (0.0, 0.90, 0.05, 0.03, 0.02),
    (0.0, 0.93, 0.04, 0.02, 0.01),
    (0.0, 0.985, 0.01, 0.004, 0.001),
    (0.0, 0.95, 0.05),
    (0.0, 0.97, 0.02, 0.007, 0.003),
    (0.0, 0.97, 0.02, 0.007, 0.003),
    (0.0, 0.95, 0.02, 0.01, 0.02),
    (0.0, 0.97, 0.02, 0.01),
    (0.0, 0.70, 0.30),
    (0.0, 0.9999, 0.00005, 0.00003, 0.00002),
)

CONTACT_MODEL = FellegiSunter(m=_M, u=_U, prior=0.001)

#: At or above: the contact is this customer. Between REVIEW and MATCH: a person decides.
MATCH_PROBABILITY = 0.95
REVIEW_PROBABILITY = 0.5
