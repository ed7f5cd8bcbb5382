"""Real parts for tests and benchmarks (throwaway brokers, servers), started
and stopped by the process that uses them; never imported by the services."""
