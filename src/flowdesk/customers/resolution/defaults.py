"""The model used to match one contact against the customer base, where EM cannot be fitted.

Matching a single inbound contact has no batch of candidate pairs to fit a model on, so it uses
fixed m- and u-probabilities, set by hand from what the levels mean. The u-probabilities are
those among the customers blocking brings up (same family-name sound, birth date or postcode),
not among random people: there, agreeing on the postcode or the town says little, which keeps a
household (same family name, same address, other first name and birth date) apart. The effect,
checked in tests/customers: the same name alone is not enough (a person reviews it); name plus
birth date, or name plus full address, is, with typos, transpositions and missing fields; a
different birth date and first name outweigh a shared surname and address.
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
_U = (  # among the customers blocking brings up (same family-name sound, birth date or postcode)
    (0.0, 0.90, 0.05, 0.03, 0.02),
    (0.0, 0.70, 0.10, 0.10, 0.10),
    (0.0, 0.97, 0.01, 0.01, 0.01),
    (0.0, 0.85, 0.15),
    (0.0, 0.90, 0.04, 0.03, 0.03),
    (0.0, 0.90, 0.04, 0.03, 0.03),
    (0.0, 0.50, 0.05, 0.05, 0.40),
    (0.0, 0.55, 0.05, 0.40),
    (0.0, 0.40, 0.60),
    (0.0, 0.9999, 0.00005, 0.00003, 0.00002),
)

CONTACT_MODEL = FellegiSunter(m=_M, u=_U, prior=0.01)

#: At or above: the contact is this customer. Between REVIEW and MATCH: a person decides.
MATCH_PROBABILITY = 0.95
REVIEW_PROBABILITY = 0.5
