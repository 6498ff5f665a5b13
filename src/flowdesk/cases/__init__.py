"""Cases: a customer concern with its public reference (FD-XXXXX), flow, contacts and status."""
