"""Work orders and their operations: a released order's own copy of its routing."""
