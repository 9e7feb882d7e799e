"""The image pane: view tabs over the picture, drawn with real pixels or half-block cells."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image as PILImage
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widget import Widget
from rich.text import Text
from textual.widgets import Label, Tab, Tabs

from common.settings import settings
from common.text import printable

if TYPE_CHECKING:
    import numpy as np

VIEWS: tuple[tuple[str, str], ...] = (
    ("result", "Result"),
    ("original", "Original"),
    ("layer", "Layer"),
    ("mask", "Mask"),
    ("diff", "Diff"),
)
VIEW_NAMES = tuple(name for name, _ in VIEWS)
RENDERERS = ("auto", "halfcell", "sixel", "tgp", "unicode")
DISPLAY_MAX_SIDE = 768  # pixels handed to the renderer; terminals show far fewer


def renderer_name(renderer: str | None = None) -> str:
    """The renderer to use: the argument, else $ZONE_IMAGE_RENDERER, else auto-detection."""
    name = (renderer or settings().image_renderer or "auto").strip().lower()
    name = {"kitty": "tgp", "half": "halfcell", "halfblock": "halfcell"}.get(name, name)
    if name not in RENDERERS:
        raise ValueError(f"unknown image renderer {name!r}; use one of {', '.join(RENDERERS)}")
    return name


def image_widget_class(renderer: str | None = None) -> type[Widget]:
    """The textual-image widget class for a renderer name (auto picks Kitty, Sixel or cells)."""
    from textual_image import widget as tiw  # queries the terminal once, before the app starts

    return {
        "auto": tiw.Image,
        "halfcell": tiw.HalfcellImage,
        "sixel": tiw.SixelImage,
        "tgp": tiw.TGPImage,
        "unicode": tiw.UnicodeImage,
    }[renderer_name(renderer)]


def cell_pixels() -> tuple[int, int]:
    """(width, height) of a terminal cell in pixels, as textual-image measured it (10x20 if not yet)."""
    try:
        from textual_image._terminal import get_cell_size

        size = getattr(get_cell_size, "_result", None)  # never query the terminal while the app runs
    except ImportError:  # pragma: no cover - textual-image is a dependency
        size = None
    return (int(size.width), int(size.height)) if size else (10, 20)


def to_pil(array: "np.ndarray", max_side: int = DISPLAY_MAX_SIDE) -> PILImage.Image:
    """An RGB array as a PIL image no larger than `max_side` (what the terminal can show)."""
    import numpy as np  # only in workers: numpy is not needed for the first frame

    image = PILImage.fromarray(np.ascontiguousarray(array))
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), PILImage.Resampling.LANCZOS)
    return image


POINT_STEP = 0.05  # the keyboard cursor moves by this fraction of the photo's side


class ImagePane(Vertical):
    """View tabs, the picture, and a caption saying which version and view it shows.

    Pointing: a click on the picture, or Shift+arrows (a cursor that starts at the centre), picks
    an image pixel and posts `Pointed`; "edit only here" then uses it.
    """

    BINDINGS = [
        Binding("shift+left", "nudge(-1, 0)", "Point left", show=False, tooltip="Move the pointer left"),
        Binding("shift+right", "nudge(1, 0)", "Point right", show=False, tooltip="Move the pointer right"),
        Binding("shift+up", "nudge(0, -1)", "Point up", show=False, tooltip="Move the pointer up"),
        Binding("shift+down", "nudge(0, 1)", "Point down", show=False, tooltip="Move the pointer down"),
    ]

    class Pointed(Message):
        """The user pointed at image pixel (x, y) of the photo."""

        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y
            super().__init__()

    class ViewChanged(Message):
        """The user picked another view (result, original, layer, mask or diff)."""

        def __init__(self, view: str) -> None:
            self.view = view
            super().__init__()

    def __init__(self, renderer: str | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._image_class = image_widget_class(renderer)
        self.view = "result"
        self.photo_size: tuple[int, int] | None = None  # (width, height) of the photo, set by the screen
        self.point: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Tabs(*(Tab(label, id=f"view-{name}") for name, label in VIEWS), id="views")
        with Center(id="picture"):
            yield self._image_class(None, id="image")
        yield Label("", id="caption")

    @property
    def image(self) -> PILImage.Image | None:
        return self.query_one("#image").image  # type: ignore[attr-defined]

    @property
    def caption(self) -> str:
        return str(self.query_one("#caption", Label).content)

    def pixel_size(self) -> tuple[int, int]:
        """(width, height) in pixels of the picture area, at most DISPLAY_MAX_SIDE a side: the
        size to ask the service for (a bigger picture would only be shrunk again)."""
        region = self.query_one("#picture").content_size
        cw, ch = cell_pixels()
        return (max(16, min(DISPLAY_MAX_SIDE, region.width * cw)),
                max(16, min(DISPLAY_MAX_SIDE, region.height * ch)))

    def set_view(self, view: str) -> None:
        """Select a view's tab (posts ViewChanged when it changes)."""
        if view not in VIEW_NAMES:
            raise ValueError(f"unknown view {view!r}")
        self.query_one("#views", Tabs).active = f"view-{view}"

    def next_view(self) -> str:
        view = VIEW_NAMES[(VIEW_NAMES.index(self.view) + 1) % len(VIEW_NAMES)]
        self.set_view(view)
        return view

    def show(self, image: PILImage.Image | None, caption: str) -> None:
        """Draw `image` (None clears the picture) with a one-line caption."""
        self.query_one("#image").image = image  # type: ignore[attr-defined]
        self.query_one("#caption", Label).update(Text(printable(caption)))  # shown as typed, never as markup

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        view = (event.tab.id or "view-result").removeprefix("view-")
        if view != self.view:
            self.view = view
            self.post_message(self.ViewChanged(view))

    def point_at_cell(self, screen_x: int, screen_y: int) -> tuple[int, int] | None:
        """The photo pixel under a screen cell of the picture (its centre), or None outside it."""
        if self.photo_size is None:
            return None
        region = self.query_one("#image").content_region
        if not region.width or not region.height or not region.contains(screen_x, screen_y):
            return None
        w, h = self.photo_size
        x = int((screen_x - region.x + 0.5) * w / region.width)
        y = int((screen_y - region.y + 0.5) * h / region.height)
        return min(w - 1, max(0, x)), min(h - 1, max(0, y))

    def set_point(self, x: int, y: int) -> None:
        self.point = (x, y)
        self.post_message(self.Pointed(x, y))

    def on_click(self, event: events.Click) -> None:
        point = self.point_at_cell(event.screen_x, event.screen_y)
        if point is not None:
            event.stop()
            self.set_point(*point)

    def action_nudge(self, dx: int, dy: int) -> None:
        if self.photo_size is None:
            return
        w, h = self.photo_size
        x, y = self.point or (w // 2, h // 2)
        if self.point is not None:
            x = min(w - 1, max(0, x + dx * max(1, round(POINT_STEP * w))))
            y = min(h - 1, max(0, y + dy * max(1, round(POINT_STEP * h))))
        self.set_point(x, y)
