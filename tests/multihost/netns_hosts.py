"""Fake "hosts" on one machine, built from Linux network namespaces, for multi-host tests.

Each host is a network namespace with a veth into a private bridge, its own address, its own
UTS hostname and its own sshd. The machine stays one filesystem, so a remote Open MPI ``orted``
finds the same binaries and paths as the launcher.

    with netns_cluster(3) as cluster:
        cluster.ssh(cluster.hosts[0], "hostname")          # -> "h1"
        subprocess.run(["mpirun", *cluster.mpi_params, "-H", cluster.mpi_hosts(), "hostname"],
                       env=cluster.env())

Needs root, ``ip``, ``unshare``, ``ssh``, ``ssh-keygen`` and ``/usr/sbin/sshd``
(Debian: ``apt-get install openssh-server``). :func:`check_available` says why not, and
:func:`netns_cluster` raises :class:`NetnsUnavailable` with that reason.

What it touches, and gives back on teardown (also after an exception or Ctrl-C; SIGTERM is turned
into KeyboardInterrupt while a cluster is up; a SIGKILLed run is cleaned by the next run):

* a slot directory ``/run/mlps-netns-hosts/<slot>`` (keys, configs, logs, owner pid);
* a bridge ``mlpsh<slot>br`` holding ``10.203.<slot>.1/24`` and, per host, a namespace
  ``mlpsh<slot>-<name>``, a veth ``mlpsh<slot>v<k>`` (``eth0`` inside), address ``10.203.<slot>.<10+k>``;
  nothing is routed anywhere else: the namespaces have no default route;
* ``/etc/netns/<namespace>/hosts`` (``ip netns exec`` bind-mounts it over ``/etc/hosts`` in the
  host, so the fake hostnames resolve there; ``/etc/netns`` itself goes again if this made it);
* per host, a private (bind-mounted) ``/dev/shm`` by default, see ``private_dirs``;
* one sshd per host, started as ``ip netns exec NS unshare --uts sh -c 'hostname H && exec sshd'``;
* ``~root/.ssh/authorized_keys`` only with ``authorized_keys="home"``: one line with a marker
  comment, removed again (by default the sshds read a key file in the slot directory).

Slots (1-254) are claimed with ``mkdir`` under a lock; a slot whose owner process is gone is a
leftover from a crashed run and is torn down before it is reused, and so is any ``mlpsh*``
namespace or link no live run owns.

Open MPI 4.1 (Debian openmpi-bin), mpirun in the root namespace, orted/ranks in the hosts: only
``--allow-run-as-root`` and the rsh agent (``--mca plm_rsh_agent "ssh -F <config>"``, or
``OMPI_MCA_plm_rsh_agent``) are required; ``--oversubscribe`` once ranks exceed slots, ``--bind-to none``
on 2 cores. ``oob_tcp_if_include``/``btl_tcp_if_include`` (the bridge subnet) and
``plm_rsh_no_tree_spawn 1`` were not needed (tree spawn over 4 hosts worked, orted skipped the
unreachable eth0 address) but :attr:`NetnsCluster.mpi_params` sets them so nothing depends on that.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "mlpsh"  # every namespace, link and marker this module makes starts with it
STATE_ROOT = Path("/run/mlps-netns-hosts")
SUBNET_TEMPLATE = "10.203.{slot}.0/24"
NETNS_ETC = Path("/etc/netns")
SSHD = "/usr/sbin/sshd"
KEY_MARKER = "mlps-netns-hosts"
HOST_OFFSET = 10  # host k (1-based) gets .10+k

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,30}$")
_OURS_RE = re.compile(rf"^{PREFIX}(\d{{3}})")


class NetnsUnavailable(RuntimeError):
    """The machine can't build namespace hosts (not root, a tool missing, ...). The message says why."""


class NetnsError(RuntimeError):
    """Setting a cluster up failed on a machine that should be able to."""


# ----------------------------------------------------------------------------------------------
# small process helpers


def _run(cmd: Sequence[str], *, check: bool = True, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(cmd), check=False, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise NetnsError(f"{shlex.join(cmd)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _quiet(cmd: Sequence[str]) -> None:
    """Teardown step: run, ignore failure (the thing may already be gone)."""
    try:
        subprocess.run(list(cmd), check=False, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pass


def _proc_start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, starttime


def _alive(pid: int, start_time: str | None) -> bool:
    now = _proc_start_time(pid)
    return now is not None and (start_time is None or now == start_time)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def netns_pids(netns: str) -> list[int]:
    """Pids of the processes whose network namespace is ``netns`` (``ip netns pids``)."""
    proc = subprocess.run(["ip", "netns", "pids", netns], check=False, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        return []
    return [int(p) for p in proc.stdout.split() if p.isdigit() and int(p) != os.getpid()]


def _kill_netns_processes(netns: str, grace: float = 2.0) -> None:
    pids = netns_pids(netns)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            pids = netns_pids(netns)
            if not pids:
                return
            time.sleep(0.05)


# ----------------------------------------------------------------------------------------------
# availability


def check_available() -> str | None:
    """None if namespace hosts can be built here, else the reason they can't."""
    if os.geteuid() != 0:
        return "netns hosts need root (network namespaces, a bridge, sshd as root)"
    for tool in ("ip", "unshare", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"{tool!r} not found on PATH"
    if not os.access(SSHD, os.X_OK):
        return f"{SSHD} not found (apt-get install -y openssh-server)"
    probe = f"{PREFIX}probe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], check=False, capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    try:
        uts = subprocess.run(
            ["ip", "netns", "exec", probe, "unshare", "--uts", "true"], check=False, capture_output=True, text=True
        )
        if uts.returncode != 0:
            return f"cannot unshare a UTS namespace inside a netns: {uts.stderr.strip()}"
        br = subprocess.run(
            ["ip", "link", "add", probe[:15], "type", "bridge"], check=False, capture_output=True, text=True
        )
        if br.returncode != 0:
            return f"cannot create a bridge: {br.stderr.strip()}"
        _quiet(["ip", "link", "del", probe[:15]])
    finally:
        _quiet(["ip", "netns", "del", probe])
    return None


def mpirun_version() -> str | None:
    """'Open MPI 4.1.4'-like string, or None when no Open MPI mpirun is on PATH."""
    if shutil.which("mpirun") is None:
        return None
    out = subprocess.run(["mpirun", "--version"], check=False, capture_output=True, text=True).stdout
    m = re.search(r"\(Open MPI\)\s+(\S+)", out)
    return f"Open MPI {m.group(1)}" if m else None


# ----------------------------------------------------------------------------------------------
# hosts and the cluster


@dataclass
class NetnsHost:
    name: str  # unique: namespace suffix and ssh alias ("h1")
    hostname: str  # what `hostname` prints inside; may repeat across hosts
    address: str
    netns: str
    veth: str
    workdir: Path
    private_dirs: tuple[str, ...] = ()
    sshd_pid: int | None = None
    _popen: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def sshd_config(self) -> Path:
        return self.workdir / "sshd_config"

    @property
    def pidfile(self) -> Path:
        return self.workdir / "sshd.pid"

    @property
    def log(self) -> Path:
        return self.workdir / "sshd.log"

    @property
    def host_key(self) -> Path:
        return self.workdir / "ssh_host_ed25519_key"

    def private_path(self, path: str) -> Path:
        """Where this host's private copy of ``path`` (one of ``private_dirs``) lives, seen from outside."""
        if path not in self.private_dirs:
            raise KeyError(f"{path} is not private on {self}")
        return self.workdir / "private" / path.strip("/").replace("/", "_")

    def exec(self, cmd: Sequence[str] | str, **kw) -> subprocess.CompletedProcess:
        """Run a command inside the namespace directly (no ssh; the root UTS hostname, not this host's)."""
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("check", False)
        return subprocess.run(["ip", "netns", "exec", self.netns, *argv], **kw)  # noqa: PLW1510 - check is in kw

    def __str__(self) -> str:
        return f"{self.name}({self.hostname}@{self.address})"


@dataclass
class NetnsCluster:
    slot: int
    subnet: ipaddress.IPv4Network
    bridge: str
    bridge_address: str
    workdir: Path
    hosts: list[NetnsHost]
    ssh_config: Path
    client_key: Path
    authorized_keys_mode: str
    mpi_version: str | None = None

    # -- ssh ------------------------------------------------------------------------------------

    @property
    def ssh_command(self) -> list[str]:
        """`ssh -F <config>`: the only ssh configuration used; ~/.ssh/config is never read."""
        return ["ssh", "-F", str(self.ssh_config)]

    def host(self, name: str) -> NetnsHost:
        for h in self.hosts:
            if name in (h.name, h.address, h.netns):
                return h
        raise KeyError(name)

    def _host(self, host: NetnsHost | str) -> NetnsHost:
        return host if isinstance(host, NetnsHost) else self.host(host)

    def ssh(
        self, host: NetnsHost | str, command: str, *, timeout: float = 30, check: bool = False
    ) -> subprocess.CompletedProcess:
        h = self._host(host)
        return subprocess.run(
            [*self.ssh_command, h.address, command], capture_output=True, text=True, timeout=timeout, check=check
        )

    # -- Open MPI -------------------------------------------------------------------------------

    @property
    def rsh_agent(self) -> str:
        return f"ssh -F {self.ssh_config}"

    @property
    def mpi_params(self) -> list[str]:
        """mpirun options that launch across these hosts with Open MPI 4.x (root, 2 cores, namespaces)."""
        return [
            "--allow-run-as-root",
            "--oversubscribe",
            "--bind-to",
            "none",
            "--mca",
            "plm_rsh_agent",
            self.rsh_agent,
            "--mca",
            "plm_rsh_no_tree_spawn",
            "1",
            "--mca",
            "oob_tcp_if_include",
            str(self.subnet),
            "--mca",
            "btl_tcp_if_include",
            str(self.subnet),
        ]

    @property
    def mpi_env(self) -> dict[str, str]:
        """The same as :attr:`mpi_params`, as environment variables (for launchers you don't build argv for).

        ``--oversubscribe`` and ``--bind-to none`` have env forms too (``rmaps_base_oversubscribe``,
        ``hwloc_base_binding_policy``).
        """
        return {
            "OMPI_ALLOW_RUN_AS_ROOT": "1",
            "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "OMPI_MCA_rmaps_base_oversubscribe": "1",
            "OMPI_MCA_hwloc_base_binding_policy": "none",
            "OMPI_MCA_plm_rsh_agent": self.rsh_agent,
            "OMPI_MCA_plm_rsh_no_tree_spawn": "1",
            "OMPI_MCA_oob_tcp_if_include": str(self.subnet),
            "OMPI_MCA_btl_tcp_if_include": str(self.subnet),
        }

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``os.environ`` (or ``base``) plus :attr:`mpi_env`."""
        return {**(os.environ if base is None else base), **self.mpi_env}

    def mpi_hosts(self, slots: int | None = None, hosts: Sequence[NetnsHost | str] | None = None) -> str:
        """The ``-H`` argument: ``addr1:slots,addr2:slots`` (addresses, so duplicate hostnames are fine)."""
        chosen = [self._host(h) for h in (hosts if hosts is not None else self.hosts)]
        return ",".join(h.address if slots is None else f"{h.address}:{slots}" for h in chosen)

    def hostfile(self, slots: int = 1, hosts: Sequence[NetnsHost | str] | None = None) -> Path:
        chosen = [self._host(h) for h in (hosts if hosts is not None else self.hosts)]
        path = self.workdir / f"hostfile-{slots}-{'-'.join(h.name for h in chosen)}"
        path.write_text("".join(f"{h.address} slots={slots}\n" for h in chosen))
        return path

    # -- per-host control -----------------------------------------------------------------------

    def stop_sshd(self, host: NetnsHost | str) -> None:
        """Stop the host's sshd (new ssh connections are refused: an unreachable host). Sessions it
        already forked keep running; :meth:`processes_left` still sees them."""
        h = self._host(host)
        _stop_sshd(h)

    def start_sshd(self, host: NetnsHost | str, timeout: float = 10) -> None:
        h = self._host(host)
        if h.sshd_pid is not None and _alive(h.sshd_pid, None):
            return
        _start_sshd(h)
        _wait_listening(h, timeout)

    def processes_left(self, host: NetnsHost | str, *, include_sshd: bool = False) -> dict[int, str]:
        """pid -> command line of the processes in the host's namespace (the listening sshd left out
        unless ``include_sshd``)."""
        h = self._host(host)
        left = {pid: _cmdline(pid) for pid in netns_pids(h.netns)}
        if not include_sshd and h.sshd_pid is not None:
            left.pop(h.sshd_pid, None)
        return {pid: cmd for pid, cmd in left.items() if cmd or _proc_start_time(pid) is not None}

    def kill_processes(self, host: NetnsHost | str, *, include_sshd: bool = False) -> None:
        """Kill what :meth:`processes_left` reports (e.g. between tests)."""
        h = self._host(host)
        for pid in self.processes_left(h, include_sshd=include_sshd):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def describe(self) -> str:
        return f"slot {self.slot} {self.subnet} via {self.bridge}: " + ", ".join(map(str, self.hosts))


# ----------------------------------------------------------------------------------------------
# slot bookkeeping and stale cleanup


_lock_depth = 0


@contextlib.contextmanager
def _state_lock() -> Iterator[None]:
    """Machine-wide lock (flock) over slots and authorized_keys edits; re-entrant within a process."""
    global _lock_depth
    if _lock_depth:
        _lock_depth += 1
        try:
            yield
        finally:
            _lock_depth -= 1
        return
    STATE_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    with open(STATE_ROOT / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        _lock_depth = 1
        try:
            yield
        finally:
            _lock_depth = 0
            fcntl.flock(fh, fcntl.LOCK_UN)


def _slot_dir(slot: int) -> Path:
    return STATE_ROOT / f"{slot:03d}"


def _read_owner(slot_dir: Path) -> dict | None:
    try:
        return json.loads((slot_dir / "owner.json").read_text())
    except (OSError, ValueError):
        return None


def _slot_live(slot_dir: Path) -> bool:
    owner = _read_owner(slot_dir)
    return owner is not None and _alive(int(owner["pid"]), owner.get("start_time"))


def _remove_key_lines(marker: str) -> None:
    """Drop the authorized_keys lines whose comment is exactly ``marker`` (nothing else)."""
    path = Path("/root/.ssh/authorized_keys")
    try:
        lines = path.read_text().splitlines(keepends=True)
    except OSError:
        return
    kept = [line for line in lines if not line.rstrip("\n").endswith(" " + marker)]
    if len(kept) != len(lines):
        _write_keeping_mode(path, "".join(kept))


def _write_keeping_mode(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".{PREFIX}.tmp")
    tmp.write_text(text)
    st = path.stat()
    os.chmod(tmp, st.st_mode & 0o7777)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, path)


# ~root/.ssh and its authorized_keys, when a run had to create them, are removed again once no run
# has a line in there any more; these markers (machine-wide, not per slot) remember that.
_CREATED_SSH_DIR = STATE_ROOT / "created-root-ssh-dir"
_CREATED_AK = STATE_ROOT / "created-root-authorized_keys"
_ADDED_NEWLINE = STATE_ROOT / "added-newline-to-root-authorized_keys"
_ROOT_SSH = Path("/root/.ssh")
_CREATED_NETNS_ETC = STATE_ROOT / "created-etc-netns"


def _authorize(pub: str) -> None:
    ak = _ROOT_SSH / "authorized_keys"
    with _state_lock():
        if not _ROOT_SSH.exists():
            _CREATED_SSH_DIR.touch()
            _ROOT_SSH.mkdir(mode=0o700)
        if not ak.exists():
            _CREATED_AK.touch()
        existing = ak.read_text() if ak.exists() else ""
        with open(ak, "a") as fh:
            if existing and not existing.endswith("\n"):
                _ADDED_NEWLINE.touch()  # taken off again with the last of our lines
                fh.write("\n")
            fh.write(pub + "\n")
        os.chmod(ak, 0o600)


def _unauthorize(slot: int) -> None:
    ak = _ROOT_SSH / "authorized_keys"
    with _state_lock():
        _remove_key_lines(_key_marker(slot))
        if _ADDED_NEWLINE.exists() and ak.exists():
            text = ak.read_text()
            if KEY_MARKER not in text:
                if text.endswith("\n"):
                    _write_keeping_mode(ak, text[:-1])
                _ADDED_NEWLINE.unlink()
        if _CREATED_AK.exists() and ak.exists() and ak.stat().st_size == 0:
            ak.unlink()
            _CREATED_AK.unlink()
        if _CREATED_SSH_DIR.exists() and not ak.exists():
            with contextlib.suppress(OSError):
                _ROOT_SSH.rmdir()  # only when empty
                _CREATED_SSH_DIR.unlink()


def _key_marker(slot: int) -> str:
    return f"{KEY_MARKER}:{PREFIX}{slot:03d}"


def _list_netns() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], check=False, capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _list_links() -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], check=False, capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2:
            names.append(parts[1].strip().split("@")[0])
    return names


def _teardown_slot(slot: int, netns_names: Sequence[str] | None = None) -> None:
    """Remove every trace of ``slot``: processes, namespaces, links, /etc/netns, key lines, its dir."""
    tag = f"{PREFIX}{slot:03d}"
    d = _slot_dir(slot)
    for pidfile in d.glob("*/sshd.pid"):
        with contextlib.suppress(OSError, ValueError, ProcessLookupError):
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGTERM)
    names = list(netns_names) if netns_names is not None else [n for n in _list_netns() if n.startswith(tag + "-")]
    for ns in names:
        _kill_netns_processes(ns)
        _quiet(["ip", "netns", "del", ns])
        shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
    with _state_lock():
        if _CREATED_NETNS_ETC.exists():
            with contextlib.suppress(OSError):
                NETNS_ETC.rmdir()  # only when no namespace (ours or anyone's) has files there
                _CREATED_NETNS_ETC.unlink()
    for link in _list_links():
        if link.startswith(tag):
            _quiet(["ip", "link", "del", link])
    _unauthorize(slot)
    shutil.rmtree(d, ignore_errors=True)


def clean_stale() -> list[int]:
    """Tear down leftovers of runs whose owner process is gone. Call with the state lock held."""
    cleaned: set[int] = set()
    live: set[int] = set()
    for d in STATE_ROOT.glob("[0-9][0-9][0-9]"):
        slot = int(d.name)
        if _slot_live(d):
            live.add(slot)
        else:
            _teardown_slot(slot)
            cleaned.add(slot)
    # namespaces, links, /etc/netns dirs and key lines without a live slot dir (e.g. the dir was removed by hand)
    orphans = [n for n in _list_netns() + _list_links() if _OURS_RE.match(n)]
    if NETNS_ETC.is_dir():
        orphans += [p.name for p in NETNS_ETC.iterdir() if _OURS_RE.match(p.name)]
    with contextlib.suppress(OSError):
        orphans += re.findall(rf"{KEY_MARKER}:({PREFIX}\d{{3}})", Path("/root/.ssh/authorized_keys").read_text())
    for name in orphans:
        slot = int(_OURS_RE.match(name).group(1))
        if slot not in live and slot not in cleaned:
            _teardown_slot(slot)
            cleaned.add(slot)
    return sorted(cleaned)


def _subnets_in_use() -> list[ipaddress.IPv4Network]:
    out = subprocess.run(["ip", "-j", "-4", "addr", "show"], check=False, capture_output=True, text=True).stdout
    nets = []
    for link in json.loads(out or "[]"):
        for a in link.get("addr_info", []):
            nets.append(ipaddress.ip_network(f"{a['local']}/{a['prefixlen']}", strict=False))
    out = subprocess.run(["ip", "-j", "-4", "route", "show"], check=False, capture_output=True, text=True).stdout
    for r in json.loads(out or "[]"):
        dst = r.get("dst", "default")
        if dst != "default":
            nets.append(ipaddress.ip_network(dst, strict=False))
    return nets


def _claim_slot(subnet_template: str) -> tuple[int, ipaddress.IPv4Network]:
    used = _subnets_in_use()
    for slot in range(1, 255):
        subnet = ipaddress.ip_network(subnet_template.format(slot=slot))
        if any(subnet.overlaps(n) for n in used):
            continue
        d = _slot_dir(slot)
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        (d / "owner.json").write_text(json.dumps({"pid": os.getpid(), "start_time": _proc_start_time(os.getpid())}))
        return slot, subnet
    raise NetnsError("no free slot / subnet for netns hosts")


# ----------------------------------------------------------------------------------------------
# sshd


def _write_sshd_config(h: NetnsHost, authorized_keys: str) -> None:
    h.sshd_config.write_text(
        "\n".join(
            [
                f"ListenAddress {h.address}",
                "Port 22",
                f"HostKey {h.host_key}",
                f"PidFile {h.pidfile}",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                f"AuthorizedKeysFile {authorized_keys}",
                # the key file may sit under a world-writable /tmp when workdirs move; this is a test sshd
                "StrictModes no",
                "UseDNS no",
                "PrintMotd no",
                "PrintLastLog no",
                "X11Forwarding no",
                "AllowTcpForwarding no",
                "MaxStartups 200",
                "MaxSessions 100",
                "LogLevel ERROR",
                "",
            ]
        )
    )


def _start_sshd(h: NetnsHost) -> None:
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
    with contextlib.suppress(FileNotFoundError):
        h.pidfile.unlink()
    # ip netns exec gives sshd its own mount namespace (root made rslave): mounts made here are seen by
    # sshd and every session under it, and by nothing else.
    mounts = ""
    for d in h.private_dirs:
        src = h.private_path(d)
        src.mkdir(parents=True, exist_ok=True)
        os.chmod(src, 0o1777)
        mounts += f"mount --bind {shlex.quote(str(src))} {shlex.quote(d)} && "
    inner = f"{mounts}hostname {shlex.quote(h.hostname)} && exec {SSHD} -D -f {shlex.quote(str(h.sshd_config))} -E {shlex.quote(str(h.log))}"
    # ip netns exec, unshare (no --fork) and sh's exec all exec: the Popen pid is sshd's pid.
    with open(h.workdir / "sshd.stderr", "ab") as err:
        h._popen = subprocess.Popen(
            ["ip", "netns", "exec", h.netns, "unshare", "--uts", "sh", "-c", inner],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # a Ctrl-C to pytest's process group doesn't reach sshd first
        )
    h.sshd_pid = h._popen.pid


def _wait_listening(h: NetnsHost, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if h._popen is not None and h._popen.poll() is not None:
            log = "".join(p.read_text(errors="replace") for p in (h.log, h.workdir / "sshd.stderr") if p.exists())
            raise NetnsError(f"sshd for {h} exited {h._popen.returncode}: {log.strip()}")
        try:
            with socket.create_connection((h.address, 22), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise NetnsError(f"sshd for {h} not listening after {timeout}s") from None
            time.sleep(0.05)


def _stop_sshd(h: NetnsHost, grace: float = 3.0) -> None:
    pid = h.sshd_pid
    if pid is None and h.pidfile.exists():
        with contextlib.suppress(ValueError, OSError):
            pid = int(h.pidfile.read_text().split()[0])
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if h._popen is not None:
        try:
            h._popen.wait(grace)
        except subprocess.TimeoutExpired:
            h._popen.kill()
            h._popen.wait(grace)
    else:
        deadline = time.monotonic() + grace
        while _alive(pid, None) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    h.sshd_pid = None
    h._popen = None


# ----------------------------------------------------------------------------------------------
# the context manager


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Make SIGTERM unwind (so teardown runs) while a cluster is up, if nobody else handles it."""
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def netns_cluster(
    n: int | None = None,
    *,
    hostnames: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    authorized_keys: str = "private",
    private_dirs: Sequence[str] = ("/dev/shm",),
    subnet_template: str = SUBNET_TEMPLATE,
    sshd_timeout: float = 10.0,
) -> Iterator[NetnsCluster]:
    """Build ``n`` namespace hosts (or one per entry of ``hostnames``), yield the cluster, tear it down.

    ``names`` (default ``h1..hN``) are unique and name the namespaces and ssh aliases; ``hostnames``
    (default: the names) are what each host's ``hostname`` prints and may repeat, e.g.
    ``hostnames=["h1", "h1"]`` for the same-hostname case.
    ``authorized_keys``: ``"private"`` (sshd reads a key file in the slot dir; ~/.ssh untouched) or
    ``"home"`` (one marked line appended to /root/.ssh/authorized_keys, removed on teardown).
    ``private_dirs``: directories each host gets its own empty copy of (a bind mount from its
    workdir, in the mount namespace sshd runs in), as real hosts would. ``/dev/shm`` by default:
    shared, two hosts with the same hostname collide in Open MPI's vader segments
    (``/dev/shm/vader_segment.<hostname>.*``) and ranks segfault. Add ``"/tmp"`` for private
    Open MPI session dirs; the rest of the filesystem stays shared.
    """
    reason = check_available()
    if reason:
        raise NetnsUnavailable(reason)
    if hostnames is None:
        if n is None:
            raise ValueError("give n or hostnames")
        hostnames = [f"h{i}" for i in range(1, n + 1)]
    hostnames = list(hostnames)
    n = len(hostnames)
    names = list(names) if names is not None else [f"h{i}" for i in range(1, n + 1)]
    if len(names) != n or len(set(names)) != n:
        raise ValueError(f"names must be {n} unique names, got {names}")
    for nm in names + hostnames:
        if not _NAME_RE.match(nm):
            raise ValueError(f"bad host name {nm!r}")
    if not 1 <= n <= 200:
        raise ValueError("1..200 hosts")
    private_dirs = tuple(private_dirs)
    for d in private_dirs:
        if (
            not os.path.isabs(d)
            or not os.path.isdir(d)
            or os.path.realpath(d) in ("/", "/proc", "/sys", "/dev", "/run")
        ):
            raise ValueError(
                f"private_dirs: {d!r} must be an existing absolute directory (and not /, /proc, /sys, /dev, /run)"
            )
    if authorized_keys not in ("private", "home"):
        raise ValueError("authorized_keys must be 'private' or 'home'")

    with _sigterm_as_interrupt():
        with _state_lock():
            clean_stale()
            slot, subnet = _claim_slot(subnet_template)
        cluster: NetnsCluster | None = None
        netns_names = [f"{PREFIX}{slot:03d}-{nm}" for nm in names]
        try:
            cluster = _setup(slot, subnet, names, hostnames, netns_names, authorized_keys, private_dirs, sshd_timeout)
            yield cluster
        finally:
            if cluster is not None:
                for h in cluster.hosts:
                    _stop_sshd(h)
            _teardown_slot(slot, netns_names)


def _setup(slot, subnet, names, hostnames, netns_names, authorized_keys, private_dirs, sshd_timeout) -> NetnsCluster:
    tag = f"{PREFIX}{slot:03d}"
    workdir = _slot_dir(slot)
    addrs = list(subnet.hosts())
    bridge, bridge_addr = f"{tag}br", str(addrs[0])
    plen = subnet.prefixlen

    _run(["ip", "link", "add", bridge, "type", "bridge", "forward_delay", "0"])
    _run(["ip", "addr", "add", f"{bridge_addr}/{plen}", "dev", bridge])
    _run(["ip", "link", "set", bridge, "up"])

    client_key = workdir / "id_ed25519"
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", _key_marker(slot), "-f", str(client_key)])
    pub = (workdir / "id_ed25519.pub").read_text().strip()
    if authorized_keys == "home":
        _authorize(pub)
        ak_path = ".ssh/authorized_keys"
    else:
        ak_file = workdir / "authorized_keys"
        ak_file.write_text(pub + "\n")
        os.chmod(ak_file, 0o600)
        ak_path = str(ak_file)

    hosts: list[NetnsHost] = []
    for k, (nm, hn, ns) in enumerate(zip(names, hostnames, netns_names), start=1):
        addr = str(addrs[HOST_OFFSET + k - 1])
        hdir = workdir / nm
        hdir.mkdir(mode=0o700)
        h = NetnsHost(
            name=nm, hostname=hn, address=addr, netns=ns, veth=f"{tag}v{k}", workdir=hdir, private_dirs=private_dirs
        )
        _run(["ip", "netns", "add", ns])
        _run(["ip", "link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        _run(["ip", "link", "set", h.veth, "master", bridge, "up"])
        _run(["ip", "-n", ns, "addr", "add", f"{addr}/{plen}", "dev", "eth0"])
        _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{tag}-{nm}", "-f", str(h.host_key)])
        _write_sshd_config(h, ak_path)
        hosts.append(h)

    # /etc/hosts as seen inside the namespaces: the fake hostnames and names resolve there
    hosts_lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback", f"{bridge_addr} {tag}-launcher"]
    for h in hosts:
        aliases = " ".join(dict.fromkeys([h.hostname, h.name]))
        hosts_lines.append(f"{h.address} {aliases}")
    with _state_lock():
        if not NETNS_ETC.exists():
            _CREATED_NETNS_ETC.touch()
            NETNS_ETC.mkdir(mode=0o755)
    for h in hosts:
        etc = NETNS_ETC / h.netns
        etc.mkdir(exist_ok=True)
        (etc / "hosts").write_text("\n".join(hosts_lines) + "\n")

    ssh_config = workdir / "ssh_config"
    aliases = "".join(f"Host {h.name}\n    HostName {h.address}\n" for h in hosts)
    patterns = " ".join([str(a) for a in (h.address for h in hosts)] + [h.name for h in hosts])
    ssh_config.write_text(
        aliases
        + f"Host {patterns}\n"
        + "".join(
            f"    {line}\n"
            for line in [
                "User root",
                f"IdentityFile {client_key}",
                "IdentitiesOnly yes",
                "StrictHostKeyChecking no",
                "UserKnownHostsFile /dev/null",
                "GlobalKnownHostsFile /dev/null",
                "BatchMode yes",
                "ConnectTimeout 5",
                "ConnectionAttempts 1",
                "ServerAliveInterval 5",
                "ServerAliveCountMax 3",
                "ControlMaster no",
                "ControlPath none",
                "ForwardAgent no",
                "LogLevel ERROR",
            ]
        )
    )

    for h in hosts:
        _start_sshd(h)
    for h in hosts:
        _wait_listening(h, sshd_timeout)

    return NetnsCluster(
        slot=slot,
        subnet=subnet,
        bridge=bridge,
        bridge_address=bridge_addr,
        workdir=workdir,
        hosts=hosts,
        ssh_config=ssh_config,
        client_key=client_key,
        authorized_keys_mode=authorized_keys,
        mpi_version=mpirun_version(),
    )


def same_hostname_cluster(hostname: str = "h1", n: int = 2, **kw):
    """``n`` hosts that all answer ``hostname`` with the same name (distinct namespaces and addresses)."""
    return netns_cluster(hostnames=[hostname] * n, **kw)


def leftovers(slot: int | None = None) -> dict[str, list[str]]:
    """What of ours (of ``slot``, or of any run) is still on the machine; all lists empty when clean."""
    tag = PREFIX if slot is None else f"{PREFIX}{slot:03d}"
    ak = Path("/root/.ssh/authorized_keys")
    found = {
        "netns": [n for n in _list_netns() if n.startswith(tag)],
        "links": [n for n in _list_links() if n.startswith(tag)],
        "etc_netns": [p.name for p in NETNS_ETC.iterdir() if p.name.startswith(tag)] if NETNS_ETC.is_dir() else [],
        "slot_dirs": [p.name for p in STATE_ROOT.glob("[0-9][0-9][0-9]") if slot is None or p.name == f"{slot:03d}"]
        if STATE_ROOT.is_dir()
        else [],
        "key_lines": [
            line for line in (ak.read_text().splitlines() if ak.exists() else []) if f"{KEY_MARKER}:{tag}" in line
        ],
    }
    return found
