"""The application layer: one function per use case, shared by the REST API and the web pages.

Each use case takes the caller (`Principal`) and an `Ops` (the store, clock, runtime and the
services the app keeps) and owns permission, visibility and validation, so the two doors can
never disagree. `api` and `web` call these functions and reach no domain internals or tables.
"""
