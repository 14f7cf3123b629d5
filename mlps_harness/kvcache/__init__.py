"""The KV cache suite: the MLPerf v3.0 Option sequence, one benchmark process per MPI rank, and its aggregation."""
