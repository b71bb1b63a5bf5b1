"""explain(): every method's shape and finiteness, integrated gradients' completeness, the caller's net
untouched, Grad-CAM's layer and upsampling; pixel conversions; figures; ImageNet weights offline;
loading runs and their twins from the store."""

import io

import numpy as np
import pytest
import torch
from PIL import Image
from said import in_chinese
from torch import nn

import resnet_core as rc
from resnet_core.analysis import pretrained as pt
from resnet_core.analysis.attributions import (
    METHODS,
    Attribution,
    default_layer,
    eval_copy,
    layer_choices,
    predict,
    top_k,
)
from resnet_core.bench.pages import bench_explain
from resnet_core.data.pixels import to_display, to_input
from resnet_core.presentation.explain_figures import (
    MapRow,
    attribution_figure,
    attribution_png,
    colorize,
    image_figure,
    overlay,
    top_k_figure,
)
from resnet_core.presentation.palette import PLAIN_COLOR, RESIDUAL_COLOR
from resnet_core.store import loading


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    net = rc.build_net(rc.NetSpec(depth=8, width=8))
    # Non-trivial BN statistics, so that eval mode (running stats) differs from train mode (batch stats).
    with torch.no_grad():
        net.train()
        for _ in range(3):
            net(torch.randn(16, 3, 32, 32))
    return net.eval()


@pytest.fixture(scope="module")
def images():
    return torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))


FAST_OPTIONS = {"smoothgrad": {"nt_samples": 4}, "integrated_gradients": {"n_steps": 16}}


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_gives_finite_maps_of_the_image_size(net, images, method):
    a = rc.explain(net, images, method, **FAST_OPTIONS.get(method, {}))
    channels = 1 if method == "gradcam" else 3
    assert isinstance(a, Attribution) and a.method == method
    assert a.maps.shape == (2, channels, 32, 32) and a.maps.dtype == torch.float32
    assert torch.isfinite(a.maps).all() and a.maps.abs().sum() > 0
    assert a.target.shape == (2,) and a.target.dtype == torch.int64
    with torch.no_grad():
        assert a.target.tolist() == net(images).argmax(1).tolist()  # None -> the predicted class
    assert (a.delta is not None) == (method == "integrated_gradients")
    for sign in ("positive", "absolute", "all"):
        heat = a.heatmaps(sign)
        assert heat.shape == (2, 32, 32) and np.isfinite(heat).all()
        assert heat.min() >= (-1 if sign == "all" else 0) and heat.max() <= 1


def test_integrated_gradients_is_complete(net, images):
    """Sum of attributions ≈ f(x) − f(baseline) for the target logit, within the reported delta; and the
    delta shrinks to nothing with enough steps (Sundararajan et al. 2017, completeness)."""
    target = torch.tensor([3, 7])
    a = rc.explain(net, images, "integrated_gradients", target=target, n_steps=200)
    with torch.no_grad():
        fx = net(images)[torch.arange(2), target]
        f0 = net(torch.zeros_like(images))[torch.arange(2), target]
    total = a.maps.sum(dim=(1, 2, 3))
    assert torch.all((total - (fx - f0)).abs() <= a.delta.abs() + 1e-4)
    assert torch.all(a.delta.abs() <= 0.01 * (fx - f0).abs() + 1e-3)
    assert a.target.tolist() == [3, 7]


def test_integrated_gradients_with_a_custom_baseline(net, images):
    baseline = torch.full((1, 3, 32, 32), 0.5)
    a = rc.explain(net, images, "integrated_gradients", target=1, baseline=baseline, n_steps=100)
    with torch.no_grad():
        change = net(images)[:, 1] - net(baseline.expand_as(images))[:, 1]
    assert torch.allclose(a.maps.sum(dim=(1, 2, 3)), change, atol=float(a.delta.abs().max()) + 1e-3)


def test_smoothgrad_over_integrated_gradients_reports_a_delta(net, images):
    a = rc.explain(net, images, "smoothgrad", base="integrated_gradients", nt_samples=3, n_steps=8)
    assert a.maps.shape == (2, 3, 32, 32) and a.delta.shape == (2,)
    again = rc.explain(net, images, "smoothgrad", base="integrated_gradients", nt_samples=3, n_steps=8)
    assert torch.equal(a.maps, again.maps)  # the noise is seeded


def test_the_callers_net_is_untouched(images):
    torch.manual_seed(0)
    net = rc.build_net(rc.NetSpec(depth=8, width=8))
    net.train()
    net(torch.randn(4, 3, 32, 32)).sum().backward()  # existing gradients
    before = {k: v.clone() for k, v in net.state_dict().items()}
    grads = {n: p.grad.clone() for n, p in net.named_parameters()}
    for method in METHODS:
        rc.explain(net, images, method, **FAST_OPTIONS.get(method, {}))
    assert net.training
    for k, v in net.state_dict().items():  # parameters and buffers (BN running stats, batch counts)
        assert torch.equal(v, before[k]), k
    for n, p in net.named_parameters():
        assert p.requires_grad and torch.equal(p.grad, grads[n]), n
    assert not images.requires_grad


def test_attributions_use_eval_mode(images):
    """In train mode a BN net's output for one image depends on the batch; explain must not."""
    torch.manual_seed(0)
    net = rc.build_net(rc.NetSpec(depth=8, width=8)).train()
    one = rc.explain(net, images[:1], "saliency", target=0).maps
    both = rc.explain(net, images, "saliency", target=0).maps
    assert torch.allclose(one[0], both[0], atol=1e-5)


def test_gradcam_uses_the_last_stage_and_upsamples_it(net, images):
    from captum.attr import LayerAttribution, LayerGradCam

    assert default_layer(net) == net.layout.stages[-1].name == "stage3"
    a = rc.explain(net, images, "gradcam", target=2)
    assert a.layer == "stage3" and a.options["layer"] == "stage3"
    model = eval_copy(net)
    raw = LayerGradCam(model, model.stage3).attribute(images, target=2, relu_attributions=True)
    assert raw.shape == (2, 1, 8, 8)  # 32 / 4: the last stage's map
    expected = LayerAttribution.interpolate(raw, (32, 32), interpolate_mode="bilinear")
    assert torch.allclose(a.maps, expected, atol=1e-5)
    assert (a.maps >= 0).all()  # relu_attributions
    early = rc.explain(net, images, "gradcam", layer="stage1", relu_attributions=False)
    assert early.maps.shape == (2, 1, 32, 32) and early.layer == "stage1"
    assert layer_choices(net)[:3] == ["stage3", "stage2", "stage1"]
    with pytest.raises(ValueError, match="no layer 'stage9'; choose one of: stage3, stage2") as err:
        rc.explain(net, images, "gradcam", layer="stage9")
    assert in_chinese(err.value).startswith("这个网络没有层 'stage9'；请从中选择一个：stage3, stage2, stage1, stem")


class Corner(nn.Module):
    """A toy classifier whose class-0 score is the sum of the top-left 8×8 corner of channel 0."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        corner = self.relu(x[:, 0, :8, :8]).sum(dim=(1, 2)) * self.scale
        return torch.stack([corner, -corner], dim=1)


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "guided_backprop", "occlusion"])
def test_maps_are_zero_where_the_score_does_not_look(method):
    x = torch.rand(1, 3, 32, 32) + 0.1
    a = rc.explain(Corner(), x, method, target=0, **({"window": 4, "stride": 4} if method == "occlusion" else {}))
    assert a.maps[..., :8, :8].abs().sum() > 0
    outside = a.maps.clone()
    outside[..., :8, :8] = 0
    assert outside.abs().max() == 0
    if method == "integrated_gradients":
        assert torch.allclose(a.maps.sum(), x[0, 0, :8, :8].sum(), atol=1e-3)


def test_occlusion_defaults_and_batching(net, images):
    a = rc.explain(net, images, "occlusion", target=0)
    assert a.options["window"] == 8 and a.options["stride"] == 4 and a.options["perturbations_per_eval"] > 1
    one_by_one = rc.explain(net, images, "occlusion", target=0, perturbations_per_eval=1)
    assert torch.allclose(a.maps, one_by_one.maps, atol=1e-4)


def test_guided_backprop_is_relu_only(images):
    for activation in ("sigmoid", "tanh"):
        other = rc.build_net(rc.NetSpec(depth=8, width=8, activation=activation))
        with pytest.raises(ValueError, match="ReLU nets only") as err:
            rc.explain(other, images, "guided_backprop")
        names = {"sigmoid": "Sigmoid", "tanh": "Tanh"}[activation]
        assert f"and this net uses {names} activations. Use saliency" in str(err.value)  # the English, as it was
        assert in_chinese(err.value) == (  # Explain's warning on a Chinese page
            "导向反向传播只适用于 ReLU 网络（它改写 nn.ReLU 模块的反向传播），而这个网络"
            f"使用的是 {names} 激活函数。请改用显著图、积分梯度或 Grad-CAM。"
        )


def test_guided_backprop_on_torchvision_resnet_with_inplace_relus():
    import torchvision

    torch.manual_seed(0)
    tv = torchvision.models.resnet18(num_classes=5).eval()
    assert any(getattr(m, "inplace", False) for m in tv.modules())
    a = rc.explain(tv, torch.randn(1, 3, 64, 64), "guided_backprop")
    assert a.maps.shape == (1, 3, 64, 64) and torch.isfinite(a.maps).all()
    assert default_layer(tv) == "layer4"
    assert rc.explain(tv, torch.randn(1, 3, 64, 64), "gradcam").layer == "layer4"
    assert any(getattr(m, "inplace", False) for m in tv.modules())  # the caller's net keeps its ReLUs


def test_bad_arguments_name_the_valid_choices(net, images):
    with pytest.raises(ValueError, match="integrated_gradients"):
        rc.explain(net, images, "lime")
    with pytest.raises(ValueError, match="n_steps"):
        rc.explain(net, images, "integrated_gradients", steps=10)
    with pytest.raises(ValueError, match="one per image"):
        rc.explain(net, images, "saliency", target=[1, 2, 3])
    with pytest.raises(ValueError, match="to_input"):
        rc.explain(net, (images * 255).to(torch.uint8), "saliency")
    single = rc.explain(net, images[0], "saliency", target=[4])
    assert single.maps.shape == (1, 3, 32, 32)


def test_pixels_to_the_nets_space_and_back():
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    pixels = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    x = to_input(pixels, mean, std)
    assert x.dtype == torch.float32 and x.shape == (2, 3, 8, 8)
    assert torch.allclose(x[0, 1, 0, 0], (pixels[0, 1, 0, 0] / 255 - 0.4) / 0.25)
    back = to_display(x, mean, std)
    assert back.shape == (2, 8, 8, 3) and np.array_equal(back, pixels.permute(0, 2, 3, 1).numpy())
    from_pil = to_input(Image.fromarray(back[0]), mean, std)
    assert torch.allclose(from_pil, x[:1])
    zero = to_display(torch.zeros(3, 1, 1), mean, std)  # the zero baseline is the mean colour
    assert zero[0, 0, 0].tolist() == [128, 102, 76]


def test_predict_and_top_k(net, images):
    probs = predict(net, images)
    assert probs.shape == (2, 10) and torch.allclose(probs.sum(1), torch.ones(2))
    best = top_k(probs[0], [f"c{i}" for i in range(10)], k=5)
    assert len(best) == 5 and best[0][1] >= best[-1][1]
    assert best[0][0] == f"c{int(probs[0].argmax())}"


def test_bench_explain_reports_medians():
    result = bench_explain(depth=8, repeats=1)
    for key in ("integrated_gradients", "gradcam", "saliency", "occlusion", "smoothgrad", "total"):
        assert result[key] > 0
    assert result["total"] >= result["integrated_gradients"]


# ------------------------------------------------------------------------------------------ figures


def test_overlay_is_transparent_where_the_map_is_zero():
    image = np.full((4, 4, 3), 100, np.uint8)
    heat = np.zeros((4, 4))
    heat[0, 0] = 1.0
    out = overlay(image, heat, signed=False, opacity=1.0)
    assert out.dtype == np.uint8 and out.shape == (4, 4, 3)
    assert np.array_equal(out[1:, 1:], image[1:, 1:]) and not np.array_equal(out[0, 0], image[0, 0])
    assert np.array_equal(overlay(image, heat, signed=False, opacity=0.0), image)
    rgb, alpha = colorize(np.array([-1.0, 0.0, 1.0]), signed=True)
    assert alpha[1] == 0 and alpha[0] == alpha[2] == 1
    assert rgb[0, 0] > rgb[0, 1] and rgb[2, 1] > rgb[2, 0]  # magenta lowers, green raises


def test_attribution_figures_and_png():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    heat = np.random.default_rng(1).random((32, 32))
    rows = [
        MapRow("plain-8", PLAIN_COLOR, {"Saliency": heat, "Grad-CAM": heat}),
        MapRow("ResNet-8", RESIDUAL_COLOR, {"Saliency": heat, "Grad-CAM": heat}),
    ]
    fig = attribution_figure(image, rows, "absolute", 0.7, "What the nets look at")
    assert sum(t.type == "image" for t in fig.data) == 6  # 2 rows × (input + 2 methods)
    assert fig.layout.title.text == "What the nets look at"
    assert fig.layout.yaxis.title.font.color == PLAIN_COLOR
    png = attribution_png(image, rows, "all", 0.7, "What the nets look at")
    decoded = Image.open(io.BytesIO(png))
    assert decoded.format == "PNG" and decoded.width > 3 * 192 and decoded.height > 2 * 192
    bars = top_k_figure([("circle", 0.7), ("ring", 0.2)], RESIDUAL_COLOR, "Top-5")
    assert list(bars.data[0].y) == ["ring", "circle"] and bars.data[0].marker.color == RESIDUAL_COLOR
    assert "probability" in bars.layout.xaxis.title.text
    assert image_figure(image, "As the net sees it").data[0].type == "image"


# ------------------------------------------------------------------------- ImageNet weights, offline


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_imagenet_weights_are_looked_up_in_the_hub_cache_only(hub):
    assert pt.weights_path("resnet18") == hub / "resnet18-f37072fd.pth"
    assert not pt.is_cached("resnet18")
    message = str(pt.offline_words("resnet18"))
    assert "resnet18-f37072fd.pth" in message and str(hub) in message
    with pytest.raises(pt.PretrainedUnavailable, match="not on this machine") as err:
        pt.load_pretrained("resnet18")
    assert str(err.value) == message  # the command line's English, the words Explain shows
    said = in_chinese(err.value)
    assert said.startswith("这台机器上还没有 ResNet-18 (ImageNet, torchvision) 的权重。它们只需下载一次（约 45 MB）")
    assert f"resnet18-f37072fd.pth 下载到 {hub}。" in said


def test_a_failed_download_says_so_quickly_and_leaves_nothing(hub, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on: the connection is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(pt, "weights_url", lambda name: f"http://127.0.0.1:{port}/resnet18-f37072fd.pth")
    with pytest.raises(pt.PretrainedUnavailable, match="Could not download") as err:
        pt.download("resnet18", timeout=2)
    said = in_chinese(err.value)
    assert said.startswith("无法下载 ResNet-18 (ImageNet, torchvision) 的权重（URLError：")
    assert said.endswith(f"或手动把 resnet18-f37072fd.pth 复制到 {hub}。")
    assert not pt.is_cached("resnet18") and not any(hub.glob("*")) if hub.exists() else True


def test_cached_imagenet_weights_load_with_weights_only(hub):
    import torchvision

    hub.mkdir(parents=True)
    torch.save(torchvision.models.resnet18().state_dict(), hub / "resnet18-f37072fd.pth")
    assert pt.is_cached("resnet18")
    clf = pt.load_pretrained("resnet18")
    assert clf.input_size == 224 and clf.resize_size == 256 and len(clf.classes) == 1000
    assert clf.classes[0] == "tench" and clf.mean == pytest.approx((0.485, 0.456, 0.406))
    assert not any(getattr(m, "inplace", False) for m in clf.net.modules())
    (hub / "resnet18-f37072fd.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(pt.PretrainedUnavailable, match="could not be loaded") as err:
        pt.load_pretrained("resnet18")
    said = in_chinese(err.value)
    assert said.startswith(f"{hub / 'resnet18-f37072fd.pth'} 中缓存的 ResNet-18 (ImageNet, torchvision) 权重无法加载（")
    assert said.endswith("）。请删除该文件并重新下载。")


# ------------------------------------------------------------------------------- runs from the store


def make_run(store, spec, shapes_root, test_error=0.5, config=None):
    """A completed run with random weights (enough for loading tests)."""
    config = config or {"epochs": 1, "train_size": 500, "test_size": 100, "data_dir": str(shapes_root)}
    run_id = store.create(spec, config, dataset="shapes", status="completed")
    torch.manual_seed(0)
    store.save_checkpoint(run_id, 1, 5, rc.build_net(spec).state_dict())
    store.add_epoch(
        run_id,
        {
            "epoch": 1,
            "step": 5,
            "train_loss": 2.0,
            "train_error": 0.6,
            "test_loss": 2.0,
            "test_error": test_error,
            "seconds": 1.0,
            "images_per_second": 500.0,
        },
    )
    return store.get(run_id)


def test_runs_load_as_classifiers_and_find_their_twins(tmp_path, shapes_root):
    store = rc.RunStore(tmp_path / "runs")
    spec = rc.NetSpec(depth=8, width=8)
    residual = make_run(store, spec, shapes_root)
    assert loading.find_twin(store, residual) is None
    make_run(store, spec.replace(depth=14, skip=False), shapes_root)  # another depth: not a twin
    plain = make_run(store, spec.replace(skip=False), shapes_root, test_error=0.7)
    assert loading.find_twin(store, residual).id == plain.id
    assert loading.find_twin(store, plain).id == residual.id
    assert loading.final_test_error(store, plain) == 0.7

    data = loading.run_dataset(residual)
    assert len(data.train_labels) == 500 and data.classes[0] == "circle"
    clf = loading.classifier_from_run(store, residual, data)
    assert clf.input_size == 32 and clf.skip and clf.spec == spec and clf.mean == data.mean
    assert not clf.net.training
    x = to_input(data.test_images[:2], clf.mean, clf.std)
    assert rc.explain(clf.net, x, "gradcam").maps.shape == (2, 1, 32, 32)


def test_twins_are_the_runs_created_together_or_trained_the_same_way(tmp_path, shapes_root):
    """Issue 15: twins were found by guesswork (any run of the toggled net); Explain suggested training a twin
    that was already queued."""
    store = rc.RunStore(tmp_path / "runs")
    spec = rc.NetSpec(depth=8, width=8)
    base = {"epochs": 1, "train_size": 500, "test_size": 100, "data_dir": str(shapes_root)}
    residual = make_run(store, spec, shapes_root, config=dict(base, experiment="twins-a"))
    make_run(store, spec.replace(skip=False), shapes_root, config=dict(base, epochs=2))  # another recipe
    assert loading.find_twin(store, residual) is None
    same = make_run(store, spec.replace(skip=False), shapes_root, config=base)  # same recipe, not tagged
    assert loading.find_twin(store, residual).id == same.id
    together = make_run(store, spec.replace(skip=False), shapes_root, config=dict(base, experiment="twins-a"))
    make_run(store, spec.replace(skip=False), shapes_root, config=dict(base, experiment="twins-b"))  # newer
    assert loading.find_twin(store, residual).id == together.id
    lone = make_run(store, spec.replace(depth=14), shapes_root, config=base)
    queued = store.get(store.create(spec.replace(depth=14, skip=False), base, dataset="shapes"))
    assert loading.find_twin(store, lone) is None
    assert loading.find_twin(store, lone, statuses=("queued", "running")).id == queued.id


def test_small_charts_break_long_titles_instead_of_cutting_them():
    """Issue 15.18: beside two other charts at 1024 px, "Top-5 predictions · plain-8 · shapes" was cut at the
    chart's edge (plotly does not wrap titles)."""
    from resnet_core.presentation.explain_figures import fit_title, top_k_figure

    figure = top_k_figure([("circle", 0.5)], "#000000", "Top-5 predictions · plain-8 · shapes")
    assert figure.layout.title.text == "Top-5 predictions<br><sup>plain-8 · shapes</sup>"
    assert fit_title("As the net sees it: 32×32<br><sup>true class: circle</sup>") == (
        "As the net sees it:<br><sup>32×32</sup><br><sup>true class: circle</sup>"
    )
    assert fit_title("Top-5 · ResNet-8") == "Top-5 · ResNet-8"  # short titles stay on one line
