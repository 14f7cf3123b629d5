"""Multi-host tests on one machine: hosts are network namespaces with their own sshd (netns_hosts)."""
