"""The editing benchmarks' image metrics, computed as MagicBrush's `evaluation/image_eval.py` does.

- L1 / L2: the generated image is resized to the ground truth's size (PIL's default resize for
  RGB, bicubic), both are scaled to [0, 1] (`ToTensor`), and the per-image mean absolute /
  squared difference over every channel and pixel is taken. A dataset's score is the mean of the
  per-image scores. No weights; numpy only (this module imports torch only inside the scorers).
- CLIP-I: cosine similarity of CLIP ViT-B/32 image embeddings of generated and ground truth
  (CLIP's own preprocessing: bicubic resize of the short side to 224, centre crop, CLIP mean/std).
- DINO: cosine similarity of DINO ViT-S/16 CLS embeddings (resize 256 bicubic, centre crop 224,
  ImageNet mean/std).
- CLIP-T: cosine similarity of the generated image's CLIP embedding and the target caption's.

CLIP and DINO load from the Hugging Face cache the standard way (`from_pretrained`); when they are
not there `MetricModelsMissing` names them.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from engine.errors import ZoneError

CLIP_MODEL = "openai/clip-vit-base-patch32"
DINO_MODEL = "facebook/dino-vits16"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_CONTEXT = 77  # CLIP's text length in tokens


class MetricModelsMissing(ZoneError):
    """CLIP or DINO weights are not available (not in the Hugging Face cache and no hub)."""

    def __init__(self, models: list[str]) -> None:
        self.models = list(models)
        super().__init__(f"metric model(s) not available: {', '.join(self.models)}")


def _pil(image: np.ndarray):
    from PIL import Image

    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected an [H, W, 3] uint8 image, got {arr.shape} {arr.dtype}")
    return Image.fromarray(arr)


def resize_to(generated: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """`generated` at `gt`'s size, resized as MagicBrush does (PIL `resize`, bicubic for RGB)."""
    from PIL import Image

    if generated.shape[:2] == gt.shape[:2]:
        return np.asarray(generated)
    return np.asarray(_pil(generated).resize((gt.shape[1], gt.shape[0]), Image.BICUBIC))


def _unit(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / np.float32(255.0)


def l1_distance(generated: np.ndarray, gt: np.ndarray) -> float:
    """Mean absolute difference in [0, 1] units, after resizing `generated` to `gt`'s size."""
    return float(np.mean(np.abs(_unit(resize_to(generated, gt)) - _unit(gt)), dtype=np.float64))


def l2_distance(generated: np.ndarray, gt: np.ndarray) -> float:
    """Mean squared difference in [0, 1] units (MagicBrush's L2 is the MSE), after resizing."""
    diff = _unit(resize_to(generated, gt)) - _unit(gt)
    return float(np.mean(diff * diff, dtype=np.float64))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """1 - cosine distance of two feature vectors (float64)."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _transform(resize: int, crop: int, mean: tuple, std: tuple) -> Callable[[Any], Any]:
    from torchvision import transforms as T

    return T.Compose([T.Resize(resize, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(crop),
                      T.ToTensor(), T.Normalize(mean, std)])


def _features(out: Any) -> Any:
    """Projected features from `get_*_features` (a tensor, or an output whose pooler holds them)."""
    import torch

    return out if isinstance(out, torch.Tensor) else out.pooler_output


class ClipScorer:
    """CLIP ViT-B/32 image and text embeddings.

    Args:
        model: a transformers `CLIPModel`.
        tokenizer: callable(text) -> {"input_ids", "attention_mask"} tensors (a `CLIPTokenizer`).
        device: where the model runs.
    """

    def __init__(self, model: Any, tokenizer: Callable[..., Any], device: str = "cpu") -> None:
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.device = device
        size = getattr(getattr(getattr(model, "config", None), "vision_config", None), "image_size", 224)
        self.transform = _transform(size, size, CLIP_MEAN, CLIP_STD)

    @classmethod
    def load(cls, device: str = "cpu", model_id: str = CLIP_MODEL, local_only: bool = True) -> "ClipScorer":
        from transformers import CLIPModel, CLIPTokenizer

        return cls(CLIPModel.from_pretrained(model_id, local_files_only=local_only),
                   CLIPTokenizer.from_pretrained(model_id, local_files_only=local_only), device)

    def image(self, image: np.ndarray) -> np.ndarray:
        import torch

        x = self.transform(_pil(image)).unsqueeze(0).to(self.device)
        with torch.no_grad():
            return _features(self.model.get_image_features(pixel_values=x))[0].float().cpu().numpy()

    def text(self, text: str) -> np.ndarray:
        import torch

        tok = self.tokenizer(text, padding="max_length", truncation=True, max_length=CLIP_CONTEXT, return_tensors="pt")
        tok = {k: v.to(self.device) for k, v in tok.items() if k in ("input_ids", "attention_mask")}
        with torch.no_grad():
            return _features(self.model.get_text_features(**tok))[0].float().cpu().numpy()


class DinoScorer:
    """DINO ViT-S/16 CLS-token embeddings (what the torch.hub `dino_vits16` model returns).

    Args:
        model: a transformers `ViTModel` without pooler.
        device: where the model runs.
    """

    def __init__(self, model: Any, device: str = "cpu") -> None:
        self.model = model.eval().to(device)
        self.device = device
        self.transform = _transform(256, 224, IMAGENET_MEAN, IMAGENET_STD)

    @classmethod
    def load(cls, device: str = "cpu", model_id: str = DINO_MODEL, local_only: bool = True) -> "DinoScorer":
        from transformers import ViTModel

        return cls(ViTModel.from_pretrained(model_id, add_pooling_layer=False, local_files_only=local_only), device)

    def image(self, image: np.ndarray) -> np.ndarray:
        import torch

        x = self.transform(_pil(image)).unsqueeze(0).to(self.device)
        with torch.no_grad():
            return self.model(pixel_values=x).last_hidden_state[0, 0].float().cpu().numpy()


def in_cache(model_id: str) -> bool:
    """True when the model's config is in the Hugging Face cache (no network)."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model_id, "config.json"), str)


def load_scorers(device: str = "cpu", download: bool = False
                 ) -> tuple[Optional[ClipScorer], Optional[DinoScorer], list[str]]:
    """CLIP and DINO scorers; (clip or None, dino or None, ids of the models that are unavailable).

    Args:
        device: where they run.
        download: also fetch models missing from the Hugging Face cache (needs the hub);
            False loads from the cache only and never touches the network.
    """
    missing: list[str] = []
    found: dict[str, Any] = {}
    for model_id, cls in ((CLIP_MODEL, ClipScorer), (DINO_MODEL, DinoScorer)):
        if not download and not in_cache(model_id):
            missing.append(model_id)
            continue
        try:
            found[model_id] = cls.load(device, model_id, local_only=not download)
        except Exception:  # noqa: BLE001 - OSError offline, or a damaged cache: the model is unavailable
            missing.append(model_id)
    return found.get(CLIP_MODEL), found.get(DINO_MODEL), missing
