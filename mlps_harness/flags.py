"""Options declared once, rendered twice: into a benchmark's pytest option group (with its prefix) and into its
workload's argparse command line (with the workload's own spelling).

A `Flag` holds an option's name, type (a validator from `mlps_harness.argtypes`), default and help text; a `FlagSet`
holds a benchmark's flags with its suite prefix and help label. The suite side registers every flag as
`--<prefix><name>` (or the flag's `suite_name`) with the default None (store_true: False), so a plan can tell "not
given" from "given" and fill in its own default; the workload side registers `--<name>`, its aliases and the suite
spelling (so a command a suite prints runs as shown) with the declared default. A bad value is refused by the same
type on both sides, so the message after "argument --x:" is the same.

No import of pytest or of the rest of the package: the workloads import this inside MPI ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Flag:
    """One option, as both the suite and the workload CLI see it."""

    name: str                                      #: the workload's spelling without dashes, e.g. "size-scale"
    help: str                                      #: what it sets; no default (added from `default`), no "%"
    type: Callable[[str], Any] | None = None       #: validating converter (argtypes); None: a string
    default: Any = None                            #: the workload's default (shown in both helps)
    action: str | None = None                      #: "store_true" for switches
    choices: tuple[str, ...] | None = None
    metavar: str | None = None                     #: the value's name in both helps, e.g. "N"
    aliases: tuple[str, ...] = ()                  #: further workload spellings, e.g. ("--processes",)
    suite_name: str | None = None                  #: the suite's spelling when it is not --<prefix><name>
    suite_default: str | None = None               #: how a suite picks the value when it is not given (its help)
    default_text: str | None = None                #: how `default` is shown, e.g. "16M" for 16777216
    required: bool = False                         #: required by the workload (never by the suite)

    def __post_init__(self) -> None:
        if self.name.startswith("-") or "%" in self.help:
            raise ValueError(f"flag {self.name!r}: name without dashes and help without '%', please")

    def suite_flag(self, prefix: str) -> str:
        """The suite's spelling: `suite_name`, else `--<name>` when it already starts with the prefix, else
        `--<prefix><name>`."""
        if self.suite_name:
            return self.suite_name
        return f"--{self.name}" if self.name.startswith(prefix) else f"--{prefix}{self.name}"

    def value_kwargs(self) -> dict[str, Any]:
        """The keywords describing the value (type, choices, metavar) that pytest and argparse take alike."""
        out: dict[str, Any] = {}
        if self.type is not None:
            out["type"] = self.type
        if self.choices:
            out["choices"] = self.choices
        if self.metavar:
            out["metavar"] = self.metavar
        return out

    def shown_default(self) -> str | None:
        """The default as the help texts show it (None for switches, required flags and no default)."""
        if self.action == "store_true" or self.required:
            return None
        if self.default_text is not None:
            return self.default_text
        return None if self.default is None else str(self.default)


def _with_default(text: str, default: str | None) -> str:
    return f"{text} (default {default})" if default else text


@dataclass(frozen=True)
class FlagSet:
    """A benchmark's shared flags, its suite prefix (e.g. "vdb-") and its help label (e.g. "vectordb")."""

    prefix: str
    label: str
    flags: tuple[Flag, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str) -> Flag:
        for flag in self.flags:
            if flag.name == name:
                return flag
        raise KeyError(f"no flag {name!r} in the {self.label} flags ({', '.join(f.name for f in self.flags)})")

    def suite_flag(self, name: str) -> str:
        """The suite's spelling of flag `name` (e.g. "--vdb-num-vectors")."""
        return self[name].suite_flag(self.prefix)

    def suite_help(self, flag: Flag) -> str:
        """The suite's help text of `flag`: label, help, and the suite's default."""
        return _with_default(f"{self.label}: {flag.help}", flag.suite_default or flag.shown_default())

    def workload_help(self, flag: Flag, note: str = "", **overrides: Any) -> str:
        """The workload's help text of `flag` (`note` appended; a `default` override shown instead)."""
        text = f"{flag.help}; {note}" if note else flag.help
        if "default" not in overrides:
            return _with_default(text, flag.shown_default())
        return _with_default(text, None if overrides["default"] is None else str(overrides["default"]))

    def add_to_suite(self, addoption: Callable[..., Any], names: Iterable[str] | None = None) -> None:
        """Register the flags (all, or `names`) with pytest's `group.addoption` under their suite spellings."""
        for flag in self.flags if names is None else [self[name] for name in names]:
            kwargs: dict[str, Any] = {"help": self.suite_help(flag)}
            if flag.action:
                kwargs.update(action=flag.action, default=False)
            else:
                kwargs.update(default=None, **flag.value_kwargs())
            addoption(flag.suite_flag(self.prefix), **kwargs)

    def add_to_workload(self, add_argument: Callable[..., Any], name: str, *, note: str = "",
                        **overrides: Any) -> Any:
        """Register flag `name` with argparse's `add_argument` (a parser, group or subparser) as `--<name>`, its
        aliases and the suite spelling; `overrides` (e.g. `default=None` for one subcommand) win over the record."""
        flag = self[name]
        names = [f"--{flag.name}", *flag.aliases]
        if flag.suite_flag(self.prefix) not in names:
            names.append(flag.suite_flag(self.prefix))
        kwargs: dict[str, Any] = {"dest": flag.name.replace("-", "_")}
        if flag.action:
            kwargs["action"] = flag.action
        else:
            kwargs.update(default=flag.default, **flag.value_kwargs())
            if flag.required:
                kwargs["required"] = True
        kwargs.update(overrides)
        kwargs["help"] = self.workload_help(flag, note, **overrides)
        return add_argument(*names, **kwargs)
