"""The terminal app and the `zone` command line."""
