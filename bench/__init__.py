"""Benchmarks of the exchange (issue 8): not tests. Every figure is a ratio to a ceiling
measured in the same run on the same machine. Run ``python -m bench --help``."""
