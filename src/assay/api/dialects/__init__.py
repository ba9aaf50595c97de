"""One folder per reference API: schemas, pure translators, a thin router, an error renderer."""
