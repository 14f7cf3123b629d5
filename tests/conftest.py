"""The harness's own tests: pytester for plugin behaviour, real subprocesses for launches."""

pytest_plugins = ["pytester"]
