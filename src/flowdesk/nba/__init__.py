"""Next best action: the actions catalog, eligibility, contact policies, adaptive propensity
models, arbitration, customer value and churn risk (docs/decisions.md)."""
