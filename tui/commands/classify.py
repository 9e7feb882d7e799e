"""`zone classify TEXT...` / `zone classify -`: print what the chat would do with each utterance, as JSON.

The answer comes from the chat's own understanding (`agent.explain`): the same grammar, control
frames and classifier, so "red instead" or "a bit more" read here as they would in `zone chat`.
"""

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
        help="what the chat would do with utterances: intent, edit action (add/remove/change), confidence",
        description="Print one JSON object per utterance, as the chat understands it: "
                    '{"text", "intent", "action", "confidence"} (action is null for non-edits); '
                    "--plan adds the resolved plan (edits after splitting compounds, the command, or why it would ask).",
    )
    parser.add_argument("texts", nargs="+", metavar="TEXT",
                        help="utterances to classify; '-' reads one utterance per line from stdin")
    parser.add_argument("--model", default=None, metavar="NPZ",
                        help="classifier model file (default: the shipped one)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="also print the classifier's own intent, intent_confidence and action_confidence")
    parser.add_argument("--plan", action="store_true",
                        help="also print the plan: edits (instruction, action, kind), command or clarify")
    parser.add_argument("--after", default=None, metavar="INSTRUCTION",
                        help="the previous edit, for 'it', 'instead', 'more' (default: none, as on a fresh photo)")
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
    """Print, for each utterance, one JSON line with what the chat would do; return 0.

    Args:
        args: parsed arguments (texts, model, verbose, plan, after).
    """
    from agent.classifier import InstructionClassifier
    from agent.explain import explain, previous_edit

    model = InstructionClassifier.load(args.model)
    last = previous_edit(args.after)
    for text in read_utterances(args.texts, sys.stdin):
        answer = explain(text, model.classify, last)
        obj = {k: answer[k] for k in ("text", "intent", "action", "confidence")}
        if args.plan:
            obj["plan"] = answer["plan"]
        if args.verbose:
            result = model.classify(text)
            obj["classifier"] = {"intent": result.intent, "action": result.action,
                                 "intent_confidence": round(result.intent_confidence, 4),
                                 "action_confidence": (None if result.action_confidence is None
                                                       else round(result.action_confidence, 4))}
        print(printable_json(obj), flush=False)
    sys.stdout.flush()
    return 0
