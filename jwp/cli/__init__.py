"""The `jwp` command line."""
