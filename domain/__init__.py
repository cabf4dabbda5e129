"""labledger domain: ALF names, aggregates and their events, policies, the ledger application.

Pure: nothing here does I/O. Adapters do.
"""
