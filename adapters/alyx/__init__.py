"""The Alyx database server: its HTTP client, login tokens, error classes, the lookups of
sessions, files and subjects that make every request safe to repeat, the reference lists it
serves, and the executor that performs the ledger's Alyx intents."""
