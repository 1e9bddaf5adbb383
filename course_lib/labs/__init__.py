"""Demo and drill processes the notebooks run (a dual write, an outbox relay under chaos, a projector that is
killed mid-batch); not part of the patterns, which live in the generic packages."""
