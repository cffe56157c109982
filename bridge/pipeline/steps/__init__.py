"""One module per worker step; the worker runs them in the order of ``bridge.pipeline.worker.STEPS``."""
