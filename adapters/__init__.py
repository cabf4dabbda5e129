"""labledger adapters: one module per external system (filesystem, event store, settings, Alyx, watchdog)."""
