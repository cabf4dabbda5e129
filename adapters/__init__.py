"""labledger adapters: one module per external system.

Filesystem, event store, settings, Alyx, watchdog.
"""
