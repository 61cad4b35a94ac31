"""Developer tools that are not part of the app: the documentation screenshots (``python -m tools.screenshots``)."""
