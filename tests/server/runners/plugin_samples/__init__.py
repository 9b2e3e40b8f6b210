"""Plugins used by the plugin runner tests; PLUGINS_RUNNER_DIR points at this folder.

Their job args are raw bytes (no args proto): a file path the plugin uses
to tell the test where it is, or text to transform.
"""
