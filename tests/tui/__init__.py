"""Tests of the `jwp tui` dashboard against real servers."""
