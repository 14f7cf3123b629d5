"""Shared machinery for the benchmark suites (`suites/<benchmark>/`): options, serial mode, run directories,
metadata, live progress, and the results index of the runs a suite just wrote."""
