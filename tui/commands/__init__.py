"""Subcommands of the `zone` command line, one module each (registered in `tui.cli`)."""

COMMAND_MODULES = (
    "edit",
    "chat",
    "classify",
    "replay",
    "eval",
    "history",
    "models",
    "bench",
    "mask",
)
