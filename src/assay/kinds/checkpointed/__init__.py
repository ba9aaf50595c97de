"""The ``checkpointed`` kind: a task agent that pauses for an assigned human reviewer."""

from assay.kinds.checkpointed.kind import CheckpointedKind

__all__ = ["CheckpointedKind"]
