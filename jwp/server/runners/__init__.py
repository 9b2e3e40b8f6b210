"""Runners: the interface, the registry and one module per built-in runner."""
