"""The scheduler (steps 9-12): filters then weighs hosts, claims, sends the build."""
