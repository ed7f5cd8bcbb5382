"""The compute agent (steps 13, 19-28): one per host, topic `compute.<host>`."""
