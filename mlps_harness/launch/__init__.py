"""Launch benchmark processes: ``mpirun`` argv building and a safe process runner."""
from mlps_harness.launch.mpi import (
                                     DEFAULT_HOSTS,
                                     HostSlots,
                                     LaunchConfigError,
                                     MpiLaunchSpec,
                                     build_mpirun_argv,
                                     find_mpi_binary,
                                     parse_hosts,
                                     resolve_host_slots,
)
from mlps_harness.launch.runner import (
                                     INCOMPLETE_MARKER,
                                     RunResult,
                                     explain_failure,
                                     progress_line_from_output,
                                     read_incomplete_marker,
                                     run_process,
                                     stop_process_tree,
                                     write_incomplete_marker,
)

__all__ = [
    "DEFAULT_HOSTS", "HostSlots", "LaunchConfigError", "MpiLaunchSpec", "build_mpirun_argv",
    "find_mpi_binary", "parse_hosts", "resolve_host_slots", "INCOMPLETE_MARKER", "RunResult",
    "explain_failure", "progress_line_from_output", "read_incomplete_marker", "run_process",
    "stop_process_tree", "write_incomplete_marker",
]
