"""A plugin that fails to import: the loader logs it and loads the others."""

raise ImportError("this plugin cannot be imported on purpose")
