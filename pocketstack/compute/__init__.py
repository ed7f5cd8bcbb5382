"""Compute (Nova v2.1): api, scheduler, conductor and per-host compute agents."""
