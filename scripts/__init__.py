"""labledger scripts: the operator commands, thin."""
