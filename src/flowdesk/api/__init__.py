"""The HTTP service (FastAPI). Only this package imports FastAPI."""
