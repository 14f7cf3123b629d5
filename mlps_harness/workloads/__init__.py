"""Workload programs launched under mpirun (checkpointing, vector database)."""
