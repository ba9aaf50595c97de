"""Signed, retried deliveries of evaluation events, from an outbox in the store."""
