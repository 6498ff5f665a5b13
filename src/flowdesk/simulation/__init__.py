"""What-if simulation of the contact centre: the deployed flows, the organisation and the
event log as a discrete-event model (see docs/simulation.md)."""
