"""The package version, in a module of its own so that any layer can read it without
importing the package's public surface (rulesengine/__init__.py imports api, which imports
every layer)."""

__version__ = "0.1.0"
