"""The `zone` command line: a thin dispatcher over `tui.commands.*`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from common.errors import UserFacingError, error_kind, one_line
from common.settings import settings
from common.text import printable
from tui.commands import COMMAND_MODULES


class UserError(UserFacingError):
    """A command line that cannot be carried out (printed as one line, without a traceback)."""


class ZoneArgumentParser(argparse.ArgumentParser):
    """argparse with Zone's error form: one line `zone: error: ...` on stderr, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from common.text import printable

        sub = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        where = f"{sub}: " if sub else ""
        self.exit(2, f"zone: error: {where}{printable(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ZoneArgumentParser(
        prog="zone",
        description="Zone: conversational, layered, local photo editing.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"tui.commands.{name}").register(sub)
    return parser


def _pipe_closed() -> int:
    """The reader of stdout went away (`zone history | head`): end quietly, like `git log | head`."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail again
    except (OSError, ValueError):
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at interpreter exit
        return code
    except BrokenPipeError:
        return _pipe_closed()
    except KeyboardInterrupt:
        print("zone: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: one line, never a traceback
        if error_kind(exc) == "internal" and settings().debug:
            raise
        print(error_line(exc), file=sys.stderr)
        return 1


def error_line(exc: BaseException) -> str:
    """The CLI's one line for an error: `zone: error: ...` (a bug says how to see its traceback)."""
    if error_kind(exc) == "internal":  # a bug: its type and message, and how to see the traceback
        msg = " ".join(str(exc).split())
        return f"zone: error: {type(exc).__name__}: {printable(msg)} (set ZONE_DEBUG=1 for details)"
    return f"zone: error: {printable(one_line(exc))}"


if __name__ == "__main__":  # pragma: no cover
    # `python -m tui.cli`: run the imported module's main, so that `tui.cli.UserError` raised by
    # the commands is the class caught there (not a second copy living in __main__)
    from tui.cli import main as _main

    sys.exit(_main())
