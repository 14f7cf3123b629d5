"""Start DLIO 2.0.0 (``python -m mlps_harness.dlio``) with TensorFlow handled sensibly."""
from mlps_harness.dlio.entry import (
                                     PACKAGED_CONFIG_DIR,
                                     DlioLaunchError,
                                     WorkloadSettings,
                                     build_dlio_command,
                                     check_requirements,
                                     find_workload_yaml,
                                     install_tensorflow_stub,
                                     main,
                                     module_available,
                                     read_workload_settings,
                                     with_packaged_config_dir,
)

__all__ = ["PACKAGED_CONFIG_DIR", "DlioLaunchError", "WorkloadSettings", "build_dlio_command",
           "check_requirements", "find_workload_yaml", "install_tensorflow_stub", "main",
           "module_available", "read_workload_settings", "with_packaged_config_dir"]
