"""The AIND modality abbreviations, from aind-data-schema-models (a runtime dependency).

A session's sub-folder is a modality only when its name is exactly one of these; the transfer
service turns each manifest key into a Modality with the same lookup, so an unknown key would
fail the job after the copy. The package is small (pydantic models, no I/O on
import) and the abbreviation set is the same in its 5.x and 6.x series.
"""

from __future__ import annotations

from functools import cache


@cache
def modality_names() -> dict[str, str]:
    """Modality abbreviation -> name, e.g. {"behavior": "Behavior", ...}."""
    # imported on first use only; the package ships no type information
    from aind_data_schema_models.modalities import Modality  # type: ignore[import-untyped]

    names: dict[str, str] = {}
    for entry in Modality.ALL:
        # a class in 5.x, whose fields all have defaults (typed as the base class, they don't)
        model = entry() if isinstance(entry, type) else entry  # pyright: ignore[reportCallIssue]
        names[str(model.abbreviation)] = str(model.name)
    return names
