"""The HTTP service: the native /v1 API and one router per reference API (dialect)."""
