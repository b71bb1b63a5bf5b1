"""Upload decoding: the malformed-file matrix, every colour mode to RGB, EXIF, GIF frames, bombs.

Every test input is made here, in memory; `malformed_uploads()` is shared with the page tests.
"""

import io
import pickle
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, features

from resnet_core.data.images import (
    BACKGROUND,
    MAX_BYTES,
    ImageError,
    fit_square,
    open_image,
    to_rgb,
    to_uint8_tensor,
)
from resnet_core.presentation.i18n import say, set_language


def encode(img: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png(width: int, height: int, with_pixels: bool = True) -> bytes:
    """A 1-bit greyscale PNG of any size, written chunk by chunk: all-zero rows compress to almost
    nothing, so a 20000×20000 image is a few tens of KB on disk (and 50 MB once decoded)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale, no interlace
    idat = b""
    if with_pixels:
        z = zlib.compressobj(9)
        row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
        idat = b"".join(z.compress(row * 500) for _ in range(height // 500)) + z.compress(row * (height % 500))
        idat += z.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def photo(width: int = 64, height: int = 48) -> Image.Image:
    """A smooth colourful test picture (JPEG-friendly)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) % 256], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8))


def malformed_uploads() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, words the error message must contain). Shared with the page tests."""
    jpeg = encode(photo(), "JPEG", quality=90)
    png = encode(photo())
    broken_png = bytearray(png)
    idat = png.index(b"IDAT")
    broken_png[idat + 20 : idat + 60] = bytes(40)  # zeroed compressed data: the zlib stream breaks
    return {
        "empty.png": (b"", "empty"),
        "text.jpg": (b"This is a text file, not a JPEG.\n" * 20, "not an image"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "damaged"),
        "truncated.png": (png[: len(png) // 2], "damaged"),
        "corrupt.png": (bytes(broken_png), "damaged"),
        "header-only.png": (png[:33], "damaged"),
        "random.webp": (np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "not an image"),
        "huge-20000x20000.png": (huge_png(20_000, 20_000), "too large"),
        "bomb-8000x6000.png": (huge_png(8000, 6000, with_pixels=False), "megapixels"),
        "tiff-named.png": (encode(photo(), "TIFF"), "not an image"),  # a format off the allow-list
    }


@pytest.mark.parametrize("name", list(malformed_uploads()))
def test_malformed_uploads_raise_a_clear_image_error(name):
    data, words = malformed_uploads()[name]
    with pytest.raises(ImageError) as info:
        open_image(data)
    assert words in str(info.value)  # for the bombs: "too large", said from the header, before any decoding
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", list(malformed_uploads()))
def test_a_chinese_page_says_each_upload_error_in_chinese_with_its_numbers(name):
    with pytest.raises(ImageError) as info:
        open_image(malformed_uploads()[name][0])
    try:
        set_language("zh")  # as the Explain page does for a Chinese session, before it says the error
        chinese = say(info.value)
    finally:
        set_language("en")
    assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
    # the same numbers, formatted the same way (a decoder's own reason, in English, is quoted in both)
    numbers = re.compile(r"\d[\d,.]*\d|\d")
    assert sorted(numbers.findall(chinese)) == sorted(numbers.findall(str(info.value)))
    assert say(info.value) == str(info.value)  # English: the message itself


def test_the_english_messages_are_as_before():
    # the command line and the logs read str(err): the words and the numbers' formats are unchanged
    cases = {
        b"": "The file is empty.",
        bytes(MAX_BYTES + 2**20): "The file is 21.0 MB; the limit is 20 MB.",
        b"plain text" * 10: "This file is not an image we can read. Upload a PNG, JPEG, WebP, BMP or GIF file.",
        huge_png(8000, 6000, with_pixels=False): (
            "The image is 8000×6000 pixels (48 megapixels); the limit is 40 megapixels. Resize it and upload it again."
        ),
        encode(photo())[:40]: "This PNG file is damaged or incomplete and cannot be read.",
    }
    for data, message in cases.items():
        with pytest.raises(ImageError) as info:
            open_image(data)
        assert str(info.value) == message
    try:
        set_language("zh")
        assert say(info.value) == "这个 PNG 文件已损坏或不完整，无法读取。"  # a format's name stays a name
    finally:
        set_language("en")


def test_an_image_error_survives_pickling_with_braces_in_its_words():
    err = ImageError("This image's colour mode ({mode}) cannot be converted to RGB ({reason}).", mode="P", reason="{x}")
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is ImageError and str(copy) == str(err) and copy.params == {"mode": "P", "reason": "{x}"}


def test_a_20000_pixel_png_is_small_on_disk():
    assert len(huge_png(20_000, 20_000)) < 200_000


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "WEBP"])
def test_allowed_formats_decode_to_rgb(fmt):
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("this Pillow has no WebP support")
    img = open_image(encode(photo(), fmt))
    assert img.mode == "RGB" and img.size == (64, 48)


def test_a_1x1_image_is_valid_and_upscaled():
    img = open_image(encode(Image.new("RGB", (1, 1), (200, 10, 30))))
    assert img.size == (1, 1)
    small = fit_square(img, 32)
    assert small.size == (32, 32)
    assert np.all(np.asarray(small) == (200, 10, 30))


def test_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    img = open_image(out.getvalue())
    assert img.mode == "RGB"
    assert tuple(np.asarray(img)[0, 0]) == (255, 0, 0)


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (40, 20), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 10, 20))  # white on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    shown = open_image(encode(img, "JPEG", exif=exif, quality=95))
    assert shown.size == (20, 40)
    assert np.asarray(shown)[:8, :, 0].mean() > 200  # the white band is now on top


def _grey(img: Image.Image) -> np.ndarray:
    return np.asarray(to_rgb(img))


def test_transparency_is_composited_over_grey():
    rgba = Image.new("RGBA", (2, 1), (255, 0, 0, 255))
    rgba.putpixel((1, 0), (255, 0, 0, 0))
    rgb = np.asarray(open_image(encode(rgba)))
    assert tuple(rgb[0, 0]) == (255, 0, 0) and tuple(rgb[0, 1]) == BACKGROUND

    la = Image.new("LA", (1, 1), (255, 0))
    assert tuple(np.asarray(open_image(encode(la)))[0, 0]) == BACKGROUND

    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 255, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((0, 0), 0)
    palette.putpixel((1, 0), 1)
    rgb = np.asarray(open_image(encode(palette, transparency=1)))
    assert tuple(rgb[0, 0]) == (0, 255, 0) and tuple(rgb[0, 1]) == BACKGROUND

    keyed = Image.new("RGB", (2, 1), (255, 0, 0))  # an RGB PNG whose red is the transparent colour
    keyed.putpixel((1, 0), (0, 0, 255))
    rgb = np.asarray(open_image(encode(keyed, transparency=(255, 0, 0))))
    assert tuple(rgb[0, 0]) == BACKGROUND and tuple(rgb[0, 1]) == (0, 0, 255)


def test_16_bit_greyscale_is_scaled_not_clipped():
    values = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    img16 = Image.fromarray(values)  # mode I;16
    decoded = open_image(encode(img16))
    assert list(np.asarray(decoded)[0, :, 0]) == [0, 128, 255]


@pytest.mark.parametrize(
    "img, expected",
    [
        (Image.fromarray(np.array([[0, 128, 255]], dtype=np.int32), mode="I"), [0, 128, 255]),
        (Image.fromarray(np.array([[0, 32896, 65535]], dtype=np.int32), mode="I"), [0, 128, 255]),
        (Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), mode="F"), [0, 128, 255]),
        (Image.fromarray(np.array([[-2.0, 0.0, 2.0]], dtype=np.float32), mode="F"), [0, 128, 255]),
        (Image.new("1", (3, 1), 1), [255, 255, 255]),
        (Image.new("L", (3, 1), 77), [77, 77, 77]),
    ],
    ids=["I-8bit", "I-16bit", "F-unit", "F-range", "1", "L"],
)
def test_every_mode_becomes_rgb(img, expected):
    rgb = _grey(img)
    assert rgb.shape == (1, 3, 3) and rgb.dtype == np.uint8
    assert list(rgb[0, :, 0]) == expected


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))  # red
    rgb = np.asarray(open_image(encode(cmyk, "JPEG", quality=95)))
    assert rgb.shape == (4, 4, 3)
    assert rgb[..., 0].mean() > 200 and rgb[..., 1].mean() < 60


def test_fit_square_crops_the_centre_and_resizes():
    img = Image.new("RGB", (300, 100), (0, 0, 0))
    img.paste((255, 255, 255), (100, 0, 200, 100))  # the white middle third
    small = fit_square(img, 32)
    assert small.size == (32, 32) and np.asarray(small).min() > 240
    imagenet = fit_square(photo(640, 480), 224, resize=256)
    assert imagenet.size == (224, 224)


def test_to_uint8_tensor_layout():
    t = to_uint8_tensor(Image.new("RGB", (5, 3), (1, 2, 3)))
    assert t.shape == (3, 3, 5) and t.dtype.is_floating_point is False
    assert t[:, 0, 0].tolist() == [1, 2, 3]
