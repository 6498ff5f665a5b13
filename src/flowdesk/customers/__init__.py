"""Customers: identities on every channel, preferences and consent, identity resolution.

Use cases are in `flowdesk.customers.service`; tables in `models`; identifier normalisation in
`normalize`; the record-linkage machinery (blocking, comparison, Fellegi-Sunter with EM) in
`resolution`; file import in `importer`.
"""
