"""The other services compute talks to, each behind a small interface: a REST
client of its documented OpenStack API, and a stateful in-memory fake that
the all-in-one uses when that service is not part of the build (and tests use
to run the launch without them)."""
