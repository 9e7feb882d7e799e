"""`zone models status|download`: where the real weights are, and fetching them when a network is there."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="show or download the model weights", description=__doc__)
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    s = msub.add_parser("status", help="which models are present locally")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_status)
    d = msub.add_parser("download", help="download InstructPix2Pix, MagicBrush and SAM ($ZONE_SAM_MODEL, default ViT-H; about 7 GB)")
    d.set_defaults(func=run_download)
    p.set_defaults(func=run_status, json=False)


def run_status(args: argparse.Namespace) -> int:
    from engine.weights import DOWNLOAD_HINT, weights_status

    status = weights_status()
    if getattr(args, "json", False):
        print(json.dumps(status))
    else:
        for name, path in status.items():
            print(f"{name:32s} {path or 'missing'}")
        if not all(status.values()):
            print(f"some weights are missing: {DOWNLOAD_HINT}")
    return 0 if all(status.values()) else 1


def run_download(args: argparse.Namespace) -> int:
    from tui.cli import UserError

    from engine.weights import download_all

    try:
        paths, fetched = download_all(progress=True)
    except OSError as exc:  # no network, disk full
        raise UserError(f"download failed: {exc}; check the network connection and free disk space") from exc
    except Exception as exc:  # noqa: BLE001 - hub errors (offline, rate limits) carry their own message
        if type(exc).__module__.startswith(("huggingface_hub", "requests", "urllib3", "httpx")):
            raise UserError(f"download failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        raise
    if not fetched:
        print("all models are already present; nothing was downloaded")
    print(f"instruct-pix2pix: {paths.ip2p}\nmagicbrush: {paths.magicbrush}\nsam: {paths.sam_checkpoint}")
    return 0
