"""The real training worker with a spy on its training batches: `python spy_worker.py ROOT RUN_ID`.

It runs `resnet_core.execution.worker.run_worker` unchanged, and for every training batch the trainer takes
appends a line to `<runs root>/<run id>.batches`: the epoch, a digest of the batch's normalised images and
its labels, and the torch threads the worker had for that step (worker.ThreadShare). Two runs that see
the same batches in the same order write the same digests.
"""

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from resnet_core.data.loader import DeviceLoader  # noqa: E402
from resnet_core.execution.worker import run_worker  # noqa: E402


def spy(root: str, run_id: str) -> None:
    original = DeviceLoader.batches
    log = Path(root) / f"{run_id}.batches"

    def batches(self, epoch=0):
        for images, labels in original(self, epoch):
            if self.shuffle:  # the training loader (the test pass and the probes read in order)
                digest = hashlib.sha1(images.contiguous().numpy().tobytes() + labels.numpy().tobytes()).hexdigest()
                with open(log, "a") as f:
                    f.write(f"{epoch} {digest} {torch.get_num_threads()}\n")
            yield images, labels

    DeviceLoader.batches = batches
    run_worker(root, run_id)


if __name__ == "__main__":
    spy(sys.argv[1], sys.argv[2])
