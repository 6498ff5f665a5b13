"""The `flowdesk` command line (Typer + Rich)."""
