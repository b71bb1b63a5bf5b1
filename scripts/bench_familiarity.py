"""How Explain's out-of-distribution measure (resnet_core/analysis/familiarity.py) does on a bundle's nets:
fitted as the page fits it (1,000 training images, 500 test images, seed 0), the share of 500 *other* test
images it calls unlike (false alarms), and its ranks on a real photo (matplotlib's Grace Hopper: the whole
picture and five crops) and on the bundled samples (assets/samples). BENCHMARKS.md, "Out-of-distribution
uploads", records its output.

    python scripts/bench_familiarity.py [BUNDLE]   # default: assets/reference
"""

import sys
import time
from pathlib import Path

import torch
from matplotlib import cbook
from PIL import Image

from resnet_core.analysis.familiarity import LIMIT, MEASURES, FamiliarityModel
from resnet_core.data.images import fit_square, open_image, to_uint8_tensor
from resnet_core.store import loading
from resnet_core.studies.reference import DEFAULT_BUNDLE, open_reference

ROOT = Path(__file__).resolve().parent.parent


def main(bundle: str) -> None:
    store = open_reference(bundle)
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    width, height = photo.size
    samples = sorted((ROOT / "assets" / "samples").glob("*.png"))
    for run in store.list():
        data = loading.run_dataset(run)
        clf = loading.classifier_from_run(store, run, data)
        generator = torch.Generator().manual_seed(0)
        train = torch.randperm(len(data.train_labels), generator=generator)[:1000]
        test = torch.randperm(len(data.test_labels), generator=generator)
        started = time.perf_counter()
        model = FamiliarityModel.fit(
            clf.net, clf.mean, clf.std, data.train_images[train], data.train_labels[train], data.test_images[test[:500]]
        )
        fit = time.perf_counter() - started
        ranks = model.ranks(data.test_images[test[500:1000]])
        alarms = float(torch.stack([ranks[m] > LIMIT for m in MEASURES]).any(0).double().mean())
        size = clf.input_size
        crops = [fit_square(photo, size)]
        for k in range(5):
            side = int(min(width, height) * (0.4 + 0.1 * k))
            x, y = (width - side) * k // 5, (height - side) * (4 - k) // 5
            crops.append(photo.crop((x, y, x + side, y + side)).resize((size, size)))
        judged = [model.assess(to_uint8_tensor(image)) for image in crops]
        flagged = [
            f.stem
            for f in samples
            if model.assess(to_uint8_tensor(fit_square(open_image(f.read_bytes()), size))).unlike
        ]
        print(
            f"{run.spec.name} on {run.dataset}: fit {fit:.1f} s; false alarms {100 * alarms:.1f}% of 500 test images; "
            f"photo and crops unlike {sum(j.unlike for j in judged)}/{len(judged)} "
            f"(pixel ranks {[round(j.ranks['pixels'], 3) for j in judged]}, layer ranks "
            f"{[round(j.ranks['layers'], 3) for j in judged]}); samples called unlike: {', '.join(flagged) or 'none'}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(DEFAULT_BUNDLE))
