"""LLM clients. Each maps its SDK's errors to ProviderError subclasses; SDKs load lazily."""
