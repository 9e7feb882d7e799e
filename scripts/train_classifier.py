"""Train the instruction classifier and write agent/data/classifier.npz (deterministic, byte for byte).

Usage: python scripts/train_classifier.py [--out agent/data/classifier.npz] [--l2 1e-6]

Reads the templated training split (classifier_train.jsonl) and the hand-written training examples
(classifier_handwritten.jsonl); the held-out split and the realistic test file are never read.
Fits two multinomial logistic-regression heads with a small numpy L-BFGS (scipy.sparse at training time only): intent
over all rows, action over edit rows. Classes are re-weighted by 1/sqrt(frequency) and
hand-written rows count `HANDWRITTEN_WEIGHT` times.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # reproducible sums; threads only add contention here
os.environ["OMP_NUM_THREADS"] = "1"
import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from agent.classifier import ACTIONS, INTENTS  # noqa: E402
from agent.features import FEATURE_VERSION, hashed_features  # noqa: E402

DATA = ROOT / "agent" / "data"
TRAIN_FILES = ("classifier_train.jsonl", "classifier_handwritten.jsonl")
MIN_DOC_FREQ = 2
MAX_ITER = 100
HANDWRITTEN_WEIGHT = 3.0  # a hand-written row is worth this many templated ones


def read_rows(paths: list[Path]) -> list[dict]:
    """Return the labelled rows of JSONL files, in file order.

    Args:
        paths: JSONL files of {"text", "intent", "action"} objects.
    """
    rows: list[dict] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


def build_matrix(texts: list[str], min_df: int) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """Return (X, keys): the CSR feature matrix over the kept hashes, and those hashes sorted.

    Args:
        texts: utterances.
        min_df: keep a feature only if it occurs in at least this many utterances.
    """
    feats = [hashed_features(t) for t in texts]
    df: dict[int, int] = {}
    for f in feats:
        for h in f:
            df[h] = df.get(h, 0) + 1
    keys = np.array(sorted(h for h, c in df.items() if c >= min_df), dtype=np.uint32)
    col = {int(h): j for j, h in enumerate(keys)}
    indptr, indices, data = [0], [], []
    for f in feats:
        for h, v in sorted(f.items()):
            j = col.get(h)
            if j is not None:
                indices.append(j)
                data.append(v)
        indptr.append(len(indices))
    x = scipy.sparse.csr_matrix((np.array(data), np.array(indices, dtype=np.int64), np.array(indptr)),
                                shape=(len(texts), len(keys)))
    return x, keys


def fit_softmax(x: scipy.sparse.csr_matrix, y: np.ndarray, n_classes: int, l2: float,
                row_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (W [F, K], b [K]) of an L2-regularised, class-weighted multinomial logistic regression.

    Args:
        x: [N, F] features.
        y: [N] class indices.
        n_classes: K.
        l2: weight of 0.5 * ||W||^2 relative to the mean weighted cross-entropy.
        row_weight: [N] extra weight of each row (hand-written rows count more).
    """
    n, f = x.shape
    counts = np.bincount(y, weights=row_weight, minlength=n_classes)
    class_w = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1e-9)), 0.0)
    sw = class_w[y] * row_weight
    sw = sw / sw.mean()
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), y] = 1.0
    xt = x.T.tocsr()

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: f * n_classes].reshape(f, n_classes)
        b = theta[f * n_classes:]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -(sw * (onehot * logp).sum(axis=1)).sum() / n + 0.5 * l2 * (w * w).sum()
        g = (np.exp(logp) - onehot) * sw[:, None] / n
        gw = xt @ g + l2 * w
        return float(loss), np.concatenate([gw.ravel(), g.sum(axis=0)])

    theta = lbfgs(loss_grad, np.zeros(f * n_classes + n_classes), MAX_ITER)
    return theta[: f * n_classes].reshape(f, n_classes), theta[f * n_classes:]


def lbfgs(fun, theta: np.ndarray, max_iter: int, memory: int = 6) -> np.ndarray:
    """Return the minimiser found by plain L-BFGS with a backtracking (Armijo) line search.

    Args:
        fun: theta -> (loss, gradient).
        theta: the starting point.
        max_iter: number of iterations.
        memory: number of (step, gradient change) pairs kept.
    """
    loss, grad = fun(theta)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    for _ in range(max_iter):
        q = grad.copy()
        alphas = []
        for s, y, rho in reversed(steps):
            a = rho * (s @ q)
            alphas.append(a)
            q -= a * y
        if steps:
            s, y, _ = steps[-1]
            q *= (s @ y) / (y @ y)
        for (s, y, rho), a in zip(steps, reversed(alphas)):
            q += s * (a - rho * (y @ q))
        direction = -q
        slope = grad @ direction
        if slope >= 0:
            direction, slope, steps = -grad, -(grad @ grad), []
        t = 1.0
        while True:
            new_theta = theta + t * direction
            new_loss, new_grad = fun(new_theta)
            if new_loss <= loss + 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        s, y = new_theta - theta, new_grad - grad
        if s @ y > 1e-12:
            steps.append((s, y, 1.0 / (s @ y)))
            steps = steps[-memory:]
        theta, loss, grad = new_theta, new_loss, new_grad
    return theta


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as an .npz readable by np.load, byte-identical for identical arrays.

    Args:
        path: destination.
        arrays: name -> array (stored in the given order, fixed timestamps, deflate).
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            payload = io.BytesIO()
            np.lib.format.write_array(payload, np.require(arr, requirements="C"), allow_pickle=False)
            zf.writestr(info, payload.getvalue())
    path.write_bytes(buf.getvalue())


def train(rows: list[dict], l2: float, min_df: int = MIN_DOC_FREQ) -> dict[str, np.ndarray]:
    """Return the model arrays trained on rows.

    Args:
        rows: labelled rows ({"text", "intent", "action"}).
        l2: L2 regularisation weight.
        min_df: minimum document frequency of a kept feature.
    """
    texts = [r["text"] for r in rows]
    x, keys = build_matrix(texts, min_df)
    y_int = np.array([INTENTS.index(r["intent"]) for r in rows])
    weight = np.array([HANDWRITTEN_WEIGHT if r.get("family") == "handwritten" else 1.0 for r in rows])
    w_int, b_int = fit_softmax(x, y_int, len(INTENTS), l2, weight)
    edit = np.array([r["intent"] == "edit" for r in rows])
    y_act = np.array([ACTIONS.index(r["action"]) for r in rows if r["intent"] == "edit"])
    w_act, b_act = fit_softmax(x[edit], y_act, len(ACTIONS), l2, weight[edit])
    return {
        "feature_version": np.array(FEATURE_VERSION, dtype=np.int32),
        "intents": np.array(INTENTS),
        "actions": np.array(ACTIONS),
        "keys": keys,
        "w_intent": w_int.astype(np.float32),
        "b_intent": b_int.astype(np.float32),
        "w_action": w_act.astype(np.float32),
        "b_action": b_act.astype(np.float32),
    }


def main(argv: list[str] | None = None) -> int:
    """Train on the shipped data and write the model file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DATA / "classifier.npz"))
    parser.add_argument("--data", default=str(DATA), help="folder holding the training JSONL files")
    parser.add_argument("--l2", type=float, default=1e-6)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = read_rows([Path(args.data) / name for name in TRAIN_FILES])
    arrays = train(rows, args.l2)
    save_npz(Path(args.out), arrays)
    print(f"trained on {len(rows)} utterances, {len(arrays['keys'])} features, "
          f"{time.perf_counter() - start:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
