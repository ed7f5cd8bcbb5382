"""compute-api: Nova's v2.1 REST API (steps 3, 6-8 of the launch)."""
