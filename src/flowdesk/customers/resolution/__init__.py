"""Record linkage: blocking, comparison levels, a Fellegi-Sunter model fitted by EM.

Pure Python over rapidfuzz and jellyfish, no database: used in batch (`linker.link`,
`linker.deduplicate`; benchmarks/identity_febrl.py) and per contact (`defaults.CONTACT_MODEL`,
through `customers.resolve`).
"""
