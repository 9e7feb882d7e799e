"""The instruction classifier: intent of an utterance and, for edits, the ZONE action (numpy only).

The model is two multinomial logistic-regression heads over hashed word and character n-grams
and word classes (`agent.features`), trained by `scripts/train_classifier.py` and shipped as
`agent/data/classifier.npz`. Inference needs only numpy.

Confidence (`Classification.confidence`) is a probability:
- `edit`: P(intent = edit) x P(action), the probability that both labels are right;
- another known intent: P(intent);
- `unknown`: the probability of the most likely *known* intent (at most 0.5, as `unknown` won),
  i.e. how plausible the best actionable reading is; 0.0 for input rejected before the model
  (empty, longer than `MAX_CHARS`, mostly non-Latin script).
Below `CLARIFY_BELOW` the agent should ask the user what they meant instead of acting.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from agent.features import FEATURE_VERSION, hashed_features
from engine.errors import ZoneError

INTENTS = (
    "edit", "undo", "redo", "undo_all", "retry", "branch", "checkout",
    "history", "export", "show", "help", "unknown",
)
ACTIONS = ("add", "remove", "change")
CLARIFY_BELOW = 0.5
MAX_CHARS = 1000  # longer input is a story, not a command: unknown (and keeps a call under 5 ms)
MIN_LATIN_FRACTION = 0.5
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "data" / "classifier.npz"


class ClassifierModelError(ZoneError):
    """The classifier's model file is missing, unreadable or from another feature version."""

    kind = "weights"


@dataclass(frozen=True)
class Classification:
    """What the classifier says about one utterance.

    Attributes:
        text: the utterance as given.
        intent: one of `INTENTS`.
        action: one of `ACTIONS` for edits, else None.
        confidence: probability that the answer is right (see the module docstring).
        intent_confidence: P(intent) from the intent head (1.0 for input rejected before the model).
        action_confidence: P(action) from the action head for edits, else None.
    """

    text: str
    intent: str
    action: str | None
    confidence: float
    intent_confidence: float
    action_confidence: float | None = None

    def to_json(self) -> dict:
        """Return the public JSON form: text, intent, action, confidence (rounded to 4 places)."""
        return {"text": self.text, "intent": self.intent, "action": self.action,
                "confidence": round(self.confidence, 4)}

    def as_dict(self) -> dict:
        """Return every field as a dict."""
        return asdict(self)


def latin_fraction(text: str) -> float:
    """Return the fraction of letters in text that are Latin (1.0 when there are no letters).

    Args:
        text: any string.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 1.0
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return latin / len(letters)


def softmax(z: np.ndarray) -> np.ndarray:
    """Return the softmax of a 1-D logit vector.

    Args:
        z: logits.
    """
    e = np.exp(z - z.max())
    return e / e.sum()


class InstructionClassifier:
    """Two logistic-regression heads (intent, action) over hashed sparse features."""

    def __init__(self, keys: np.ndarray, w_intent: np.ndarray, b_intent: np.ndarray,
                 w_action: np.ndarray, b_action: np.ndarray, path: Path | None = None):
        """Build a classifier from its arrays.

        Args:
            keys: sorted uint32 feature hashes, one per weight row.
            w_intent: [F, len(INTENTS)] float32 weights of the intent head.
            b_intent: [len(INTENTS)] intent biases.
            w_action: [F, len(ACTIONS)] float32 weights of the action head.
            b_action: [len(ACTIONS)] action biases.
            path: where the arrays came from (for messages).
        """
        self.keys = keys
        self.w_intent = w_intent
        self.b_intent = b_intent
        self.w_action = w_action
        self.b_action = b_action
        self.path = path

    @classmethod
    def load(cls, path: str | Path | None = None) -> "InstructionClassifier":
        """Return the classifier stored at path (default: the shipped model); cached per path.

        Args:
            path: an .npz written by scripts/train_classifier.py, or None for the shipped one.

        Raises:
            ClassifierModelError: the file is missing, corrupt or of another feature version.
        """
        return _load_cached(str(Path(path).resolve()) if path else str(DEFAULT_MODEL_PATH))

    @classmethod
    def from_file(cls, path: Path) -> "InstructionClassifier":
        """Read a model file without caching (see `load`).

        Args:
            path: the .npz file.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, KeyError) as exc:
            raise ClassifierModelError(f"cannot read the classifier model {path}: {exc}") from None
        meta_version = int(np.asarray(arrays.get("feature_version", -1)).reshape(-1)[0])
        if meta_version != FEATURE_VERSION:
            raise ClassifierModelError(
                f"classifier model {path} has feature version {meta_version}, expected "
                f"{FEATURE_VERSION}; run scripts/train_classifier.py")
        if tuple(arrays["intents"].tolist()) != INTENTS or tuple(arrays["actions"].tolist()) != ACTIONS:
            raise ClassifierModelError(f"classifier model {path} has different labels; retrain it")
        return cls(arrays["keys"], arrays["w_intent"], arrays["b_intent"], arrays["w_action"],
                   arrays["b_action"], path=path)

    def probabilities(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (P(intent) over `INTENTS`, P(action) over `ACTIONS`) from the model alone.

        Args:
            text: the utterance.
        """
        feats = hashed_features(text)
        z_int = self.b_intent.astype(np.float64)
        z_act = self.b_action.astype(np.float64)
        if feats:
            hashes = np.fromiter(feats.keys(), dtype=np.uint32, count=len(feats))
            values = np.fromiter(feats.values(), dtype=np.float64, count=len(feats))
            idx = np.searchsorted(self.keys, hashes)
            idx[idx >= len(self.keys)] = 0
            known = self.keys[idx] == hashes
            idx, values = idx[known], values[known]
            z_int = z_int + values @ self.w_intent[idx]
            z_act = z_act + values @ self.w_action[idx]
        return softmax(z_int), softmax(z_act)

    def classify(self, text: str) -> Classification:
        """Return the intent, action and confidence of one utterance; never raises on odd input.

        Args:
            text: the utterance (empty, very long or non-English input gives `unknown`).
        """
        text = "" if text is None else str(text)
        stripped = text.strip()
        if not stripped or len(stripped) > MAX_CHARS or latin_fraction(stripped) < MIN_LATIN_FRACTION:
            return Classification(text, "unknown", None, 0.0, 1.0, None)
        p_int, p_act = self.probabilities(stripped)
        i = int(np.argmax(p_int))
        intent = INTENTS[i]
        if intent == "edit":
            a = int(np.argmax(p_act))
            conf = float(p_int[i] * p_act[a])
            return Classification(text, intent, ACTIONS[a], conf, float(p_int[i]), float(p_act[a]))
        if intent == "unknown":
            known = np.delete(p_int, INTENTS.index("unknown"))
            return Classification(text, intent, None, float(known.max()), float(p_int[i]), None)
        return Classification(text, intent, None, float(p_int[i]), float(p_int[i]), None)

    def classify_many(self, texts: list[str]) -> list[Classification]:
        """Return `classify` of each text, in order.

        Args:
            texts: utterances.
        """
        return [self.classify(t) for t in texts]


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> InstructionClassifier:
    """Load and cache the model at path (see `InstructionClassifier.load`)."""
    p = Path(path)
    if not p.is_file():
        raise ClassifierModelError(f"classifier model not found: {p}; run scripts/train_classifier.py")
    return InstructionClassifier.from_file(p)
