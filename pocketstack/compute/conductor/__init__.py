"""The conductor (steps 14-18): the agents' way to the database, and reschedules."""
