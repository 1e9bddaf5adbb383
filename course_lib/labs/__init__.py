"""Demo and drill processes the notebooks run (a dual write, an outbox relay under chaos, a projector killed
mid-batch, the ledger, Kafka consumers that crash); not part of the patterns, which live in the generic packages."""
