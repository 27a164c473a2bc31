"""Subcommands of the ownvoice CLI, one module per group."""
