"""Contacts from every channel: stored raw first, then identified, recognised and attached to
their case or started as a flow (`intake.Intake`); reason rules and the trained classifier."""
