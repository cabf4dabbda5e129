"""labledger projections: read models built from the event log, and their renderers."""
