"""A smoke run of the page benchmarks' code paths (tiny sizes; benchmarks are never timed tests)."""

from resnet_core.bench.pages import gradient_profile_seconds, store_read_seconds, why_seconds
from resnet_core.data.datasets import load_dataset


def test_page_benchmarks_return_positive_medians(shapes_root):
    data = load_dataset("shapes", root=shapes_root, train_size=200, test_size=100)
    assert gradient_profile_seconds(data, depth=8, batch_size=8, repeats=1) > 0
    reads = store_read_seconds(runs=3, steps=50, repeats=2)
    assert set(reads) == {"all_steps_of_one_run", "last_100_steps_of_one_run", "list_runs"}
    assert all(v > 0 for v in reads.values())
    why = why_seconds(
        data,
        lesion_depth=8,
        landscape_depth=8,
        lesion_images=50,
        landscape_steps=3,
        landscape_images=20,
        toy_depth=2,
        repeats=1,
    )
    assert set(why) == {"lesion_seconds", "landscape_seconds", "shattered_toy_seconds"}
    assert all(v > 0 for v in why.values())
