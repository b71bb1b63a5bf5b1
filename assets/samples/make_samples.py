"""Make the Explain page's bundled sample images (run from the repository root):

    python assets/samples/make_samples.py

Everything is drawn by our own code — no downloaded photos: seven images rendered by the embedded
`shapes` dataset's renderer (32×32, exactly what our nets are trained on, from a seed no split uses)
and two 256×256 drawings made with PIL for the ImageNet models.
"""

from pathlib import Path

from PIL import Image, ImageDraw

from resnet_core.data.shapes import SHAPES_CLASSES, make_shapes

HERE = Path(__file__).resolve().parent
# class -> which of its images (in the rendered order) to keep: picked by eye for a clear, whole object
SHAPES = {"circle": 2, "triangle": 1, "star": 2, "ring": 2, "stripes": 3, "checkerboard": 3, "cross": 3}
SEED = 12345  # not the datasets' seed 0, so a sample is never a training image


def shapes_samples() -> None:
    images, labels = make_shapes(200, seed=SEED, split="test")
    for name, pick in SHAPES.items():
        index = int((labels == SHAPES_CLASSES.index(name)).nonzero().flatten()[pick])
        Image.fromarray(images[index].permute(1, 2, 0).numpy()).save(HERE / f"shapes-{name}.png")


def drawings() -> None:
    # A house under the sun: sky gradient, grass, walls, roof, door, window.
    img = Image.new("RGB", (256, 256))
    draw = ImageDraw.Draw(img)
    for y in range(256):
        draw.line([(0, y), (255, y)], fill=(110 + y // 4, 170 + y // 6, 235))
    draw.rectangle([0, 190, 255, 255], fill=(76, 153, 60))
    draw.ellipse([186, 18, 236, 68], fill=(250, 204, 21))
    draw.rectangle([60, 120, 180, 200], fill=(185, 80, 60))
    draw.polygon([(48, 122), (120, 62), (192, 122)], fill=(90, 60, 50))
    draw.rectangle([106, 150, 134, 200], fill=(70, 45, 30))
    draw.rectangle([72, 134, 96, 156], fill=(200, 230, 250), outline=(255, 255, 255), width=3)
    img.save(HERE / "drawing-house.png")

    # A striped ball on a table.
    img = Image.new("RGB", (256, 256), (236, 232, 222))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 180, 255, 255], fill=(150, 105, 70))
    draw.ellipse([78, 76, 178, 176], fill=(220, 38, 38))
    draw.chord([78, 76, 178, 176], 200, 340, fill=(37, 99, 235))  # a blue cap
    draw.rectangle([80, 118, 176, 134], fill=(255, 255, 255))  # a white band
    draw.ellipse([78, 76, 178, 176], outline=(120, 20, 20), width=3)
    draw.ellipse([88, 176, 168, 188], fill=(120, 85, 55))
    img.save(HERE / "drawing-ball.png")


if __name__ == "__main__":
    shapes_samples()
    drawings()
