"""Demo and drill processes the notebooks run; not part of the patterns."""
