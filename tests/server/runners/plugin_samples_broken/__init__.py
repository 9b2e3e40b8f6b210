"""Plugins for the loader test: one fails to import, the other loads."""
