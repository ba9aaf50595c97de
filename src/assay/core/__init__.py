"""The pure domain: types, state machines and the error tree. No I/O, no other assay imports."""
