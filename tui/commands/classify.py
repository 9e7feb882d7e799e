"""`zone classify TEXT...` / `zone classify -`: print the intent and ZONE action of each utterance as JSON."""

from __future__ import annotations

import argparse
import sys

from common.text import printable_json


def register(subparsers) -> None:
    """Add the `classify` subcommand.

    Args:
        subparsers: the `zone` parser's subparsers object.
    """
    parser = subparsers.add_parser(
        "classify",
        help="label utterances: intent, edit action (add/remove/change), confidence",
        description="Print one JSON object per utterance: "
                    '{"text", "intent", "action", "confidence"} (action is null for non-edits).',
    )
    parser.add_argument("texts", nargs="+", metavar="TEXT",
                        help="utterances to classify; '-' reads one utterance per line from stdin")
    parser.add_argument("--model", default=None, metavar="NPZ",
                        help="classifier model file (default: the shipped one)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="also print intent_confidence and action_confidence")
    parser.set_defaults(func=run)


def read_utterances(texts: list[str], stdin) -> list[str]:
    """Return the utterances to classify: the arguments, with '-' replaced by the lines of stdin.

    Args:
        texts: command-line arguments.
        stdin: a text stream for '-'.
    """
    out: list[str] = []
    for text in texts:
        if text == "-":
            out.extend(line.rstrip("\r\n") for line in stdin)
        else:
            out.append(text)
    return out


def run(args: argparse.Namespace) -> int:
    """Classify each utterance and print one JSON line per utterance; return 0.

    Args:
        args: parsed arguments (texts, model, verbose).
    """
    from agent.classifier import InstructionClassifier

    model = InstructionClassifier.load(args.model)
    for text in read_utterances(args.texts, sys.stdin):
        result = model.classify(text)
        obj = result.to_json()
        if args.verbose:
            obj["intent_confidence"] = round(result.intent_confidence, 4)
            obj["action_confidence"] = (None if result.action_confidence is None
                                        else round(result.action_confidence, 4))
        print(printable_json(obj), flush=False)
    sys.stdout.flush()
    return 0
