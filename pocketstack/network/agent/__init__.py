"""The per-host network agent: what the server tells it (messages.py), the
contract the server calls (notifier.py), and the agents (noop.py)."""
