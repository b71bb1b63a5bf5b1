"""The kept gradient profiles (assets/gradient_profiles.json) are the computation the Gradients page would
do: each is found only for the current probe batch, and a kept ResNet's norms match a fresh computation."""

from __future__ import annotations

import json

import numpy as np

import resnet_core as rc
from resnet_core.analysis import profiles
from resnet_core.data.datasets import load_dataset


def test_kept_profiles_match_the_current_probe_batch_and_a_fresh_computation(shapes_root):
    data = load_dataset("shapes", root=shapes_root)
    images, labels = profiles.probe_batch(data, 64)
    fingerprint = profiles.batch_fingerprint(images, labels)
    kept = profiles.kept_profiles()
    batches = {json.loads(key)["batch"] for key in json.loads(profiles.KEPT_FILE.read_text())["profiles"]}
    assert batches == {fingerprint}, "kept profiles of another probe batch: run `python -m resnet_core profiles`"
    spec = rc.NetSpec(depth=110)
    fresh = profiles.init_gradient_profile(spec, images, labels)
    # The same computation, up to float32 summation order: the number of torch threads (fewer while a run
    # trains beside) and the CPU's kernels (AVX-512 or not) change it, by a few tenths of a percent here.
    np.testing.assert_allclose(kept[profiles.profile_key(spec, fingerprint)].norms, fresh.norms, rtol=2e-2)
    assert profiles.profile_key(rc.NetSpec(depth=1202, skip=False), fingerprint) in kept


def test_kept_profiles_round_trip_overflow(tmp_path):
    spec = rc.NetSpec(depth=8, skip=False)
    norms = np.array([np.inf, np.nan, 1.5, 0.0, 2.0, 3.0, 4.0, 5.0])
    key = profiles.profile_key(spec, "abc")
    profiles.keep_profiles(
        {key: profiles.GradientProfile(spec, tuple(f"l{i}" for i in range(8)), norms)}, tmp_path / "k.json"
    )
    back = profiles.kept_profiles(tmp_path / "k.json")[key]
    assert back.spec == spec and back.overflowed == 2
    np.testing.assert_array_equal(back.norms, norms)
    assert profiles.kept_profiles(tmp_path / "missing.json") == {}
