"""`zone mask SESSION --point X,Y`: cut an edit's layer to the Segment Anything segment at a point.

The same as pointing at the photo in `zone chat` and saying "edit only here": the new mask is the
smallest SAM segment containing the point, segmented on the edit's stored canvas (on the original
for a REMOVE edit); the pixels come from the stored canvas. SAM runs; the diffusion models do not.
The result is a new version on HEAD (undo brings the old region back).
"""

from __future__ import annotations

import argparse

from tui.commands import options


def _point(text: str) -> tuple[int, int]:
    """Parse "X,Y" (image pixels, from the top left)."""
    try:
        x, y = (int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in image pixels, e.g. 120,80; got {text!r}") from None
    return x, y


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mask", help="cut an edit to the segment at a point (no diffusion)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("session", metavar="SESSION", help="session id, unique id prefix or name")
    p.add_argument("--point", required=True, type=_point, metavar="X,Y", help="a pixel of the photo")
    p.add_argument("--layer", default=None, metavar="REF",
                   help="which edit: v3, 'the hat', 'the second edit' (default: the last one)")
    options.add_engine(p)
    options.add_db(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent.service import ZoneService
    from tui.cli import UserError

    service = ZoneService(db_url=args.db, create_db=False, engine=args.engine, device=args.device)
    try:
        session = service.resume(args.session)
        x, y = args.point
        if not (0 <= x < session.width and 0 <= y < session.height):
            raise UserError(f"--point {x},{y} is outside the {session.width}x{session.height} photo")
        text = "edit only here" + (f" of {args.layer}" if args.layer else "")
        result = service.handle(session.id, text, point=(x, y))
        if not result.ok or result.clarify:
            raise UserError(result.reply.rstrip("."))
        print(result.reply)
    finally:
        service.close()
    return 0
