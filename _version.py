"""labledger's version: the one place it is written (pyproject.toml reads it from here).

A constant rather than `importlib.metadata.version("labledger")`, which walks the installed
distributions at every command's start (7 ms here), and which a source tree never installed
cannot answer."""

__version__ = "0.1.0"
