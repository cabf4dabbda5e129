"""Where the shared fixtures live: `../shared` beside the project root."""

from pathlib import Path

ALYX_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "alyx"
"""Alyx 3.6.1 fixture files and observed responses (see README.md there)."""
