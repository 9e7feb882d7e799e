"""`zone chat [IMAGE]`: the terminal app; edit a photo by talking to it, browse its versions."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from common.text import short_id
from tui.commands import options

RENDERER_HELP = ("how pictures are drawn: auto (Kitty graphics or Sixel when the terminal has them, "
                 "else half-block cells), halfcell, sixel, tgp or unicode (default: $ZONE_IMAGE_RENDERER or auto)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="the terminal app: edit a photo through conversation", description=__doc__)
    p.add_argument("image", nargs="?", help="a photo to start a new session on (omit to pick a recent session)")
    p.add_argument("--session", "-s", metavar="ID", help="reopen a session (id, id prefix, name or 'last')")
    options.add_engine(p)
    options.add_db(p)
    options.add_steps(p, per=" per edit")
    options.add_work_size(p)
    p.add_argument("--renderer", default=None, help=RENDERER_HELP)
    p.set_defaults(func=run)


def _probe_terminal() -> None:
    """Import textual-image's renderers, which query the terminal (must happen before Textual runs)."""
    import textual_image.renderable  # noqa: F401 - the import runs the Sixel / Kitty queries
    from textual_image._terminal import get_cell_size

    get_cell_size()


def run(args: argparse.Namespace) -> int:
    from tui.cli import UserError

    if args.image and args.session:
        raise UserError("give a photo or --session, not both")
    image = Path(args.image).expanduser() if args.image else None
    if image is not None and image.is_dir():
        raise UserError(f"{args.image} is a folder, not a photo: give a photo file in it")
    if image is not None and not image.is_file():
        raise UserError(f"no such file: {args.image}")
    edit_params = options.edit_overrides(args)

    def service_factory():
        from agent.service import ZoneService

        return ZoneService(db_url=args.db, engine=args.engine, device=args.device, edit_params=edit_params)

    # Ask the terminal what it can draw (Kitty graphics, Sixel, cell size) on a thread while the
    # main thread imports Textual: the queries wait on the terminal, the imports on the CPU.
    probe = threading.Thread(target=_probe_terminal, name="zone-terminal-probe", daemon=True)
    probe.start()
    try:
        from tui.app import ZoneApp

        probe.join()

        app = ZoneApp(service_factory=service_factory, image=image, session=args.session, renderer=args.renderer)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    app.run()
    return _finish(app)


def _finish(app) -> int:
    """After the app: say where the work is, stop writes, and end without waiting for a worker.

    A worker may still be loading the engine or running an edit that Ctrl+Q cancelled; its writes
    are refused (`ZoneService.shutdown`), so nothing half-written is stored, and the process
    ends at once instead of waiting seconds for it.
    """
    import logging
    import os
    import sys

    from tui.cli import UserError

    clean = app.service.shutdown(timeout=0.5) if app.service is not None else True
    if app.open_error:
        raise UserError(app.open_error)
    session_id = app.session_id
    if session_id:
        print(f"Session {short_id(session_id)} saved; reopen with: zone chat --session {short_id(session_id)}", flush=True)
    if clean and app.service is not None:
        app.service.close()
    # End now: a busy worker thread would hold the interpreter's exit, and tearing down the
    # loaded modules alone takes up to a second. Everything is written and closed already.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
