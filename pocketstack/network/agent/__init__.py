"""The per-host network agent: what the server tells it (messages.py), the
contract the server calls (notifier.py), and the agents (noop.py, which
touches nothing; linuxbridge/, the real data plane; rpc.py, either of them
as a per-host process)."""
