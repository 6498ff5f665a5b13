"""The demo company's traffic: customers and a history of cases worked by agents.

`COMPANY_DIR` is the demo company itself (bundles, company.yaml), package data so that a plain
`pip install` can load and seed it."""

from pathlib import Path

#: Northwind Energy & Fibre: one folder per experience bundle, company.yaml and its schema.
COMPANY_DIR = Path(__file__).resolve().parent / "company"
