"""The product photos the shop ships: drawings in `wasm_client/static/photos/<key>.svg`.

Plain Python with no Django and no third-party import. Order stores a photo's key on a
product and refuses a key that is not here; the web client's build gives each file a
content-hashed name the BFF serves for a year (`wasm_client/build.py`), and the client
draws `<img>` with the size and words below. Adding a photo is adding its file and a
line here (the build refuses a line without its file, and the tests a file without
its line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Every drawing is made on the same 4:3 canvas, so cards line up.
PHOTO_WIDTH = 480
PHOTO_HEIGHT = 360


@dataclass(frozen=True)
class Photo:
    key: str
    # What the picture shows, for people who cannot see it (the `alt` text).
    alt: str
    width: int = PHOTO_WIDTH
    height: int = PHOTO_HEIGHT

    @property
    def filename(self) -> str:
        return f"{self.key}.svg"


PHOTOS: dict[str, Photo] = {
    photo.key: photo
    for photo in (
        Photo("latte", "A latte in a tall glass, a leaf drawn in its foam"),
        Photo("espresso", "An espresso in a small white cup on a saucer"),
        Photo("macchiato", "A macchiato in a glass, caramel drizzled over the foam"),
        Photo("iced-coffee", "Iced coffee with ice cubes and a straw in a tall glass"),
        Photo("donuts", "Three donuts: glazed, jam-filled and chocolate-topped"),
        Photo("cup", "A takeaway coffee cup with a sleeve"),
    )
}


def unknown_photo(key: Any) -> str | None:
    """The key itself when it names no shipped photo, else None ("" is no photo)."""
    if key == "" or key in PHOTOS:
        return None
    return str(key)
