"""Options shared by the `zone` subcommands: one declaration each, with `engine.limits`' bounds.

Every bounded option is checked while the command line is parsed (`engine.limits.arg_type`), so
a bad value gets argparse's one error line before any database opens or model loads.
"""

from __future__ import annotations

import argparse
from typing import Optional

from engine import limits
from engine.limits import arg_type

ENGINES = ("real", "tiny")
DB_HELP = "history database: a file path or an SQLAlchemy URL (default: $ZONE_DB, else the XDG data folder)"


def _default(value: object, fallback: str) -> str:
    return f" (default {value})" if value is not None else fallback


def add_engine(p: argparse.ArgumentParser, offload: bool = False) -> None:
    """--engine real|tiny and --device (and --offload)."""
    p.add_argument("--engine", choices=ENGINES, default="real", help="tiny: random weights, for dry runs")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    if offload:
        p.add_argument("--offload", action="store_true", help="keep idle models on the CPU (GPUs with little memory)")


def add_db(p: argparse.ArgumentParser, help: str = DB_HELP) -> None:
    """--db PATH_OR_URL (None: $ZONE_DB, else the XDG default)."""
    p.add_argument("--db", default=None, metavar="PATH_OR_URL", help=help)


def add_steps(p: argparse.ArgumentParser, default: Optional[int] = None, per: str = "") -> None:
    """--steps N, 1-1000."""
    p.add_argument("--steps", type=arg_type(limits.check_steps, "--steps"), default=default,
                   help=limits.STEPS_HELP + per + _default(default, " (default: the engine's)"))


def add_work_size(p: argparse.ArgumentParser) -> None:
    """--work-size PX (None: the engine's own; the help says which)."""
    p.add_argument("--work-size", type=arg_type(limits.check_work_size, "--work-size"), default=None,
                   help=limits.WORK_SIZE_HELP)


def add_edit_params(p: argparse.ArgumentParser) -> None:
    """--seed, --steps, --image-scale, --text-scale, --work-size, --work-size-policy, --smoother-gray."""
    p.add_argument("--seed", type=arg_type(limits.check_seed, "--seed"), default=0,
                   help=f"{limits.SEED_HELP} (default 0)")
    add_steps(p, default=20)
    p.add_argument("--image-scale", type=arg_type(limits.check_scale, "--image-scale"), default=1.5,
                   help=f"{limits.IMAGE_SCALE_HELP} (default 1.5)")
    p.add_argument("--text-scale", type=arg_type(limits.check_scale, "--text-scale"), default=7.5,
                   help=f"{limits.TEXT_SCALE_HELP} (default 7.5)")
    add_work_size(p)
    p.add_argument("--work-size-policy", choices=("scale", "reference"), default="scale",
                   help="scale: long side to --work-size (default); reference: the authors' (shrink only "
                        "photos larger than --work-size, pad with black to multiples of 32)")
    p.add_argument("--smoother-gray", choices=("reference", "luma"), default="reference",
                   help="the edge smoother's grey: the authors' (default) or ITU-R 601 luma")


def add_max_pixels(p: argparse.ArgumentParser) -> None:
    """--max-pixels N (None: $ZONE_MAX_PIXELS or 64 MP)."""
    p.add_argument("--max-pixels", type=arg_type(limits.check_max_pixels, "--max-pixels"), default=None,
                   help=f"{limits.MAX_PIXELS_HELP} (default: $ZONE_MAX_PIXELS or 64 MP)")


def edit_overrides(args: argparse.Namespace) -> dict:
    """The EditParams overrides a chat or replay was given (--steps, --work-size), for ZoneService."""
    return {k: getattr(args, k) for k in ("steps", "work_size") if getattr(args, k, None) is not None}
