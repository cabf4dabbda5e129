"""Where the shared fixtures live: `../shared` beside the project root."""

from pathlib import Path

ALYX_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "alyx"
"""Alyx 3.6.1 fixture files and observed responses (see README.md there)."""

PACKAGED_REFERENCE = Path(__file__).resolve().parents[1] / "adapters" / "alyx" / "reference"
"""The dataset-type and data-format lists the package ships (what an Alyx 3.6.1 serves)."""
