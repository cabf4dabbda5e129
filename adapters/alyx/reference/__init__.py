"""Packaged copies of the Alyx reference lists, for offline use."""
