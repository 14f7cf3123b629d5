"""Cluster information (hosts, memory, CPUs, filesystems); see :mod:`mlps_harness.cluster.collect`."""
from mlps_harness.cluster.collect import (
                                          SOURCE_DECLARED,
                                          SOURCE_LOCAL,
                                          SOURCE_MPI,
                                          collect_local_host_info,
                                          compare_with_declared,
                                          declared_cluster_info,
                                          describe_filesystem,
                                          gather_cluster_info_mpi,
                                          local_cluster_info,
                                          merge_host_reports,
                                          read_cpu_model,
                                          read_meminfo,
                                          read_mountinfo,
)

__all__ = ["SOURCE_DECLARED", "SOURCE_LOCAL", "SOURCE_MPI", "collect_local_host_info",
           "compare_with_declared", "declared_cluster_info", "describe_filesystem",
           "gather_cluster_info_mpi", "local_cluster_info", "merge_host_reports", "read_cpu_model",
           "read_meminfo", "read_mountinfo"]
