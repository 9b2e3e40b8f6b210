"""The `jwp tui` dashboard."""
