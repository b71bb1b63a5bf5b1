"""Safe image decoding for uploads: bytes in, an RGB `PIL.Image` out, or an `ImageError` with a message
a person can act on (the page shows it with `st.error`; never a traceback).

    >>> img = open_image(uploaded.getvalue())        # PNG, JPEG, WebP, BMP or GIF (its first frame)
    >>> small = fit_square(img, 32)                  # centre square, resized to the net's input size
    >>> pixels = to_uint8_tensor(small)              # (3, 32, 32) uint8, like the datasets' images

The rules (ARCHITECTURE.md, "Rules"): a format allow-list, a decompression-bomb guard that reads only the
header's width × height before any pixel is decoded, EXIF orientation applied, every mode converted to
RGB (transparency composited over a neutral grey, 16-bit and float images scaled, not clipped), and all
of it in memory — nothing is written to disk.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ..words import WordedError, Words

# The formats we open, as Pillow names them, and the file extensions a file picker offers for them.
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
EXTENSIONS = ("png", "jpg", "jpeg", "webp", "bmp", "gif")
FORMAT_NAMES = Words("PNG, JPEG, WebP, BMP or GIF")  # words: "or" is translated where it is shown
# Largest image we decode: 40 megapixels is a large phone photo (about 160 MB as RGBA while decoding).
# Pillow's own guard starts at 89 MP (warning) and 179 MP (error); ours is stricter and checked first.
MAX_PIXELS = 40_000_000
MAX_BYTES = 20 * 2**20  # a second line behind the server's maxUploadSize (10 MB)
# Transparent pixels are composited over this grey: neither white nor black pulls the net one way.
BACKGROUND = (128, 128, 128)


class ImageError(WordedError, ValueError):
    """An upload that is not an image we can use; the message says why, in words for the user (in theirs on a
    page: words.py)."""


def open_image(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode `data` (the bytes of an uploaded file) into an RGB image, or raise `ImageError`.

    Only PNG, JPEG, WebP, BMP and GIF are opened (a GIF gives its first frame). The pixel count is
    checked from the header before decoding, so a tiny file that claims 20000×20000 pixels costs
    nothing. Truncated and corrupt files raise `ImageError`, as does anything that is not an image.
    """
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageError(
            "The file is {size:.1f} MB; the limit is {limit:.0f} MB.", size=len(data) / 2**20, limit=MAX_BYTES / 2**20
        )
    try:
        with warnings.catch_warnings():
            # Pillow only *warns* between 89 and 179 megapixels; make that an error as well.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError:
        kind = _sniff(data)
        if kind:
            raise ImageError("This {kind} file is damaged or incomplete and cannot be read.", kind=kind) from None
        raise ImageError(
            "This file is not an image we can read. Upload a {format_names} file.", format_names=FORMAT_NAMES
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(None, max_pixels) from None
    except Exception as err:  # a header so broken that Pillow fails before it can say "unidentified"
        raise ImageError("This image file is damaged and cannot be read ({reason}).", reason=_reason(err)) from None

    width, height = img.size
    if width < 1 or height < 1:
        raise ImageError("The image has no pixels ({width}×{height}).", width=width, height=height)
    if width * height > max_pixels:
        raise _too_large((width, height), max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.seek(0)  # a GIF's (or animated WebP's) first frame
            img.load()  # decode now, inside the try: a truncated file fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(img.size, max_pixels) from None
    except Exception as err:  # OSError ("image file is truncated"), SyntaxError, zlib.error, EOFError, …
        if img.format:  # a format's name is a name; "image" is a word, so it is a sentence of its own
            raise ImageError(
                "This {kind} file is damaged or incomplete and cannot be decoded ({reason}).",
                kind=img.format,
                reason=_reason(err),
            ) from None
        raise ImageError(
            "This image file is damaged or incomplete and cannot be decoded ({reason}).", reason=_reason(err)
        ) from None
    try:
        img = ImageOps.exif_transpose(img)  # photos taken sideways are stored sideways, with a tag
    except Exception:  # a broken EXIF block only loses the rotation, not the image
        pass
    try:
        return to_rgb(img)
    except Exception as err:
        raise ImageError(
            "This image's colour mode ({mode}) cannot be converted to RGB ({reason}).",
            mode=img.mode,
            reason=_reason(err),
        ) from None


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode as 8-bit RGB.

    Transparency (RGBA, LA, PA, or a palette/greyscale/RGB image with a transparent colour) is
    composited over `BACKGROUND`. 16-bit and 32-bit integer greyscale are scaled to 0..255 (a 16-bit
    value v becomes v / 257, so 65535 -> 255), float images are stretched from their range; CMYK, YCbCr,
    1-bit and palette images use Pillow's conversion.
    """
    mode = img.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return Image.fromarray(_scale_to_uint8(np.asarray(img), mode)).convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img if mode == "RGB" else img.convert("RGB")


def fit_square(img: Image.Image, size: int, resize: int | None = None) -> Image.Image:
    """The image as a net of input side `size` sees it: the shorter side resized to `resize` (default
    `size`), then the centre `size`×`size` square (torchvision's Resize + CenterCrop for ImageNet nets).

    Small images (even 1×1) are upscaled; large ones are reduced in steps first, which is fast and
    avoids aliasing.
    """
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    resize = max(resize or size, size)
    width, height = img.size
    # Crop first, in the source's own pixels (a centred square of side min(w, h) * size / resize), then
    # resize: nothing outside the crop bleeds into its edges, and only the crop is resampled.
    side = max(1, round(min(width, height) * size / resize))
    left, top = (width - side) // 2, (height - side) // 2
    square = img.crop((left, top, left + side, top + side))
    return square if side == size else square.resize((size, size), Image.Resampling.BICUBIC, reducing_gap=3.0)


def to_uint8_tensor(img: Image.Image) -> torch.Tensor:
    """An RGB image as a uint8 tensor (3, H, W) — the datasets' layout."""
    array = np.asarray(img.convert("RGB"), dtype=np.uint8)  # (H, W, 3)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous()


def encode_png(img: Image.Image | np.ndarray) -> bytes:
    """PNG bytes of an image or an (H, W, 3) uint8 array (for data URIs and downloads)."""
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _scale_to_uint8(array: np.ndarray, mode: str) -> np.ndarray:
    values = array.astype(np.float64)
    if mode == "F":
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if lo >= 0 and hi <= 1:  # already on [0, 1]
            lo, hi = 0.0, 1.0
        values = np.nan_to_num(values, nan=lo, posinf=hi, neginf=lo)
    else:
        lo = 0.0
        top = float(values.max()) if values.size else 0.0
        # 16-bit data ("I;16*", or the "I" mode older Pillows give 16-bit PNGs) spans 0..65535;
        # an "I" image that only uses 0..255 is 8-bit data in a wide container.
        hi = 255.0 if mode == "I" and top <= 255 else 65535.0 if top <= 65535 else top
        lo = min(lo, float(values.min())) if values.size else 0.0
    span = hi - lo if hi > lo else 1.0
    return np.clip(np.round((values - lo) * 255.0 / span), 0, 255).astype(np.uint8)


def _sniff(data: bytes) -> str | None:
    """The allowed format a file's first bytes announce, if any (to tell "damaged" from "not an image")."""
    for magic, name in ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"), (b"BM", "BMP")):
        if data.startswith(magic):
            return name
    return "WebP" if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else None


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> ImageError:
    limit = max_pixels / 1e6  # megapixels
    if size is None:
        return ImageError(
            "The image is too large to open safely (the limit is {limit:.0f} megapixels). Resize it and upload it "
            "again.",
            limit=limit,
        )
    width, height = size
    return ImageError(
        "The image is {width}×{height} pixels ({megapixels:.0f} megapixels); the limit is {limit:.0f} megapixels. "
        "Resize it and upload it again.",
        width=width,
        height=height,
        megapixels=width * height / 1e6,
        limit=limit,
    )


def _reason(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text[:200]
