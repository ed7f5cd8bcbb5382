"""The instance metadata service: Nova's metadata API (OpenStack and EC2
formats) for guests, reached through the per-network proxy (proxy.py), and
the content the config drive carries (content.py)."""
