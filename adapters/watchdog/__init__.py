"""The AIND watchdog transfer service: its settings and config file, its process, project names,
the checks before a hand-over, its restart, the manifest writer, the transfer executor and the
follow-up that notices a finished or stalled transfer."""
