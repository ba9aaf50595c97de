"""Claims and runs items with leases, limits, timeouts, retries and cancellation."""
