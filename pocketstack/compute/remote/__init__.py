"""Placement as compute reaches it (placement.py: a REST client and a stateful
fake). The image, network and volume services are reached through their own
packages' `client.py`, with fakes next to them (`fake_client.py`)."""
