"""The database the ledger lives in (SQLite by default, PostgreSQL when shared): the event store,
the read-model tables beside it, the views kept current from the log, and following other rigs'
writes."""
