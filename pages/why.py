"""Why residual nets train: the lesion study, the loss landscape and shattered gradients, on trained twins."""

import math
import statistics

import streamlit as st
import torch

import resnet_core as rc
from resnet_core.analysis.shattered import autocorrelation, input_gradients_along_line, toy_shattered
from resnet_core.data.pixels import to_input
from resnet_core.presentation.reports import run_label
from resnet_core.presentation.why_figures import (
    NetResult,
    autocorrelation_figure,
    gradient_line_figure,
    landscape_figure,
    landscape_slice_figure,
    lesion_figure,
    lesion_k_figure,
)
from resnet_core.store.loading import classifier_from_run, final_test_error, find_twin, run_dataset
from resnet_core.studies.analyses import LESION_PARAMS, Analyses, lesion_study, start_worker
from resnet_core.studies.reference import LANDSCAPE_PARAMS, is_reference
from ui.live import live_fragment, polling_changed
from ui.navigation import leave_pages_directory_mode, page
from ui.reference import reference_note, runs_view
from ui.threads import share_cpu_with_training

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
share_cpu_with_training()  # torch threads beside the runs training here: see ui/threads.py

LESION_IMAGES = LESION_PARAMS["images"]  # test images per evaluation (Veit et al.: the whole CIFAR-10 test set)
# One fixed batch, as Li et al. evaluate their surfaces on; the CPU defaults below are those the reference
# bundle precomputes (runs/reference.LANDSCAPE_PARAMS), so its landscapes show at once.
LANDSCAPE_IMAGES = LANDSCAPE_PARAMS["images"]


@st.cache_resource(max_entries=4, show_spinner="Loading the trained nets and their test images…")
def load_pair(root: str, run_ids: tuple[str, ...], _store):
    """For each run of `_store` (the user's or the reference runs', in folder `root`): (its Classifier,
    test images in its input space, labels)."""
    store = _store
    out = []
    for run_id in run_ids:
        run = store.get(run_id)
        data = run_dataset(run)
        n = min(LESION_IMAGES, len(data.test_labels))
        out.append(
            (
                classifier_from_run(store, run, data),
                to_input(data.test_images[:n], data.mean, data.std),
                data.test_labels[:n],
            )
        )
    return out


@st.cache_data(max_entries=16, show_spinner="Deleting blocks one at a time…")
def lesion_results(root: str, run_ids: tuple[str, ...], _store) -> list[tuple[dict, dict]]:
    """(single deletions, random k deletions) for each run: kept in the store when it has them (the reference
    runs: computed by `python -m resnet_core reference`), else computed here (~15 s a net at depth 56)."""
    results = []
    for run_id, (clf, images, labels) in zip(run_ids, load_pair(root, run_ids, _store)):
        held = Analyses(_store).find(run_id, "lesion", LESION_PARAMS)
        if held is None or held.status != "completed":
            study = lesion_study(clf.net, images, labels, LESION_PARAMS["draws"], LESION_PARAMS["seed"])
        else:
            study = held.result
        results.append((study["single"], study["random"]))
    return results


@st.cache_data(max_entries=16, show_spinner="Computing input gradients…")
def shattered_pair(root: str, run_ids: tuple[str, ...], points: int, _store) -> list[tuple[dict, dict]]:
    """(trained, at initialisation) gradients along the line between two test images, for each run."""
    out = []
    for clf, images, _ in load_pair(root, run_ids, _store):
        a, b = images[0], images[1]
        trained = input_gradients_along_line(clf.net, a, b, points)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            fresh = rc.build_net(clf.spec).eval()
        initial = input_gradients_along_line(fresh, a, b, points, target=trained["target"])
        for result in (trained, initial):
            result["autocorrelation"] = autocorrelation(result["gradient"], 20)
        out.append((trained, initial))
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def toy(depth: int, skip: bool, seed: int) -> dict:
    return toy_shattered(depth, skip, seed=seed)


st.title("Why residual nets train")
st.markdown(
    "The Degradation page shows *that* deep plain nets train worse and ResNets do not. Three experiments from "
    "the papers that followed show *why*, on a trained ResNet and its plain twin: what happens when you delete "
    "a block, what the loss looks like around the trained weights, and how the gradient behaves between nearby "
    "inputs."
)

store = runs_view("why")  # the user's runs and, unless hidden in the sidebar, the reference runs
completed = [r for r in reversed(store.list(["completed"]))]
pairs = {}
for run in completed:
    if run.spec.skip:  # a reference ResNet's twin is a reference run, a user's ResNet's the user's
        twin = find_twin(store, run, among=[r for r in reversed(completed) if is_reference(r) == is_reference(run)])
        if twin is not None:
            pairs[run.id] = twin
# The user's own pairs first, newest first; then the reference pairs, shallowest first: the lesion study runs
# when a pair is chosen, ~15 s for the 20-layer pair on a quiet 2-core CPU and ~2 min for the 56-layer one.
pairs = dict(
    sorted(
        pairs.items(),  # stable: the user's pairs keep their order
        key=lambda item: (1, item[1].spec.depth) if is_reference(item[0]) else (0, 0),
    )
)
if not pairs:
    st.info(
        "These experiments need a trained ResNet and its plain twin. On the **Train** page, press "
        "*Train plain + residual twins* (ResNet-20 on 5,000 images takes a few minutes on a CPU), or run the "
        "Degradation experiment; the pairs appear here when both runs complete. The shattered-gradients toy "
        "below needs no training."
    )
    st.page_link(page("train"), label="Train twins", icon=":material/model_training:")

by_id = {r.id: r for r in completed}


def describe(run_id: str) -> str:
    residual, plain = by_id[run_id], pairs[run_id]
    errors = [final_test_error(store, r) for r in (residual, plain)]
    tested = " · ".join(f"{r.spec.name} {100 * e:.1f}%" for r, e in zip((residual, plain), errors) if e is not None)
    return f"{run_label(residual)} + {plain.spec.name} twin" + (f" · test error {tested}" if tested else "")


chosen = st.selectbox("Trained twins", list(pairs), format_func=describe, key="why.pair") if pairs else None
home = store.store_of(chosen) if chosen else store.user  # the store holding the pair (reference or the user's)
root = str(home.root.resolve())
run_ids = (chosen, pairs[chosen].id) if chosen else ()
if chosen:
    reference_note(store, [by_id[chosen], pairs[chosen]])
lesion_tab, landscape_tab, shattered_tab = st.tabs(["Lesion study", "Loss landscape", "Shattered gradients"])

with lesion_tab:
    st.markdown(
        "**Delete one block at test time** — its output becomes its shortcut's (the identity, or the zero-padded "
        "identity where the shape changes; a plain net gets the same mapping). Veit, Wilber and Belongie (2016) "
        "found that this barely hurts a trained ResNet except at the downsampling blocks, while a plain net "
        "collapses: a ResNet behaves like an **ensemble of many paths**, mostly short ones — with n blocks, there "
        "are 2ⁿ paths and their lengths follow a Binomial(n, ½) distribution."
    )
    if not run_ids:
        st.caption("Train a pair of twins to run the lesion study.")
    else:
        try:
            results = lesion_results(root, run_ids, home)
        except Exception as err:  # a missing checkpoint or dataset: say so, keep the page alive
            st.error(f"These runs cannot be loaded: {type(err).__name__}: {err}")
            st.stop()
        nets = [by_id[chosen], pairs[chosen]]
        chance = 100 * (1 - 1 / nets[0].spec.num_classes)
        single = [NetResult(r.spec.name, r.spec.skip, res[0]) for r, res in zip(nets, results)]
        several = [NetResult(r.spec.name, r.spec.skip, res[1]) for r, res in zip(nets, results)]
        st.plotly_chart(lesion_figure(single, chance), width="stretch", key="why.lesion")
        deleted = {n.label: [v["error"] for k, v in n.data.items() if k != "intact"] for n in single}
        worst = {name: max(errors) for name, errors in deleted.items()}
        median = {name: statistics.median(errors) for name, errors in deleted.items()}
        st.caption(
            "Each point: the test error on "
            + f"{len(load_pair(root, run_ids, home)[0][2]):,}"
            + " test images with that one block deleted. Typical (median) block: "
            + "; ".join(f"{name} {median[name]:.1f}% (worst {worst[name]:.1f}%)" for name in median)
            + f". Chance is {chance:.0f}%."
        )
        st.plotly_chart(lesion_k_figure(several, chance), width="stretch", key="why.lesion.k")
        rise = "; ".join(
            f"{n.label} {statistics.mean(n.data['error'][0]):.1f}% with one block deleted, "
            f"{statistics.mean(n.data['error'][-1]):.1f}% with all {n.data['k'][-1]}"
            for n in several
        )
        st.caption(
            "Several blocks deleted at once, three random draws per k (the band spans the best to the worst "
            f"draw). Here: {rise}. In Veit et al.'s trained ResNets the error rises smoothly with k, as an "
            "ensemble's does when members leave; their plain net was already broken by one."
        )

with landscape_tab:
    st.markdown(
        "**The loss around the trained weights**, on a plane through them spanned by two random directions, "
        "each filter scaled to the norm of the same filter of the weights (Li, Xu, Taylor, Studer and Goldstein "
        "2018: *filter normalisation*, so nets of different scales compare). Without shortcuts the surface turns "
        "chaotic as depth grows; with them it stays smooth and nearly convex around the minimum."
    )
    device_type = rc.pick_device().type
    cols = st.columns(3)
    steps = cols[0].select_slider(
        "Grid (points per side)",
        [5, 7, 9, 11, 15, 21, 25, 31, 41, 51],
        value=LANDSCAPE_PARAMS["steps"] if device_type == "cpu" else 31,
        key="why.steps",
        help="Each point is one evaluation of the net on a fixed batch: 11 × 11 = 121 "
        "evaluations, about a minute for ResNet-20 on a laptop CPU.",
    )
    span = cols[1].select_slider(
        "Span (±)",
        [0.25, 0.5, 1.0, 1.5, 2.0],
        value=LANDSCAPE_PARAMS["span"],
        key="why.span",
        help="How far along each direction, in units of the weights' own filter norms.",
    )
    surface = cols[2].toggle("3-D surface", key="why.surface")
    if not run_ids:
        st.caption("Train a pair of twins to compute their landscapes.")
    else:
        analyses = Analyses(home)
        params = {
            "steps": int(steps),
            "span": float(span),
            "seed": LANDSCAPE_PARAMS["seed"],
            "images": LANDSCAPE_IMAGES,
        }

        def landscape_view() -> None:
            found = [analyses.find(run_id, "landscape", params) for run_id in run_ids]
            done = [a for a in found if a is not None and a.status == "completed"]
            active = [a for a in found if a is not None and a.active]
            if active:
                share = sum(a.progress for a in active) / len(active)
                st.progress(
                    share, text=f"Computing {len(active)} landscape{'s' if len(active) > 1 else ''}: {100 * share:.0f}%"
                )
                if st.button("Stop", key="why.landscape.stop"):
                    for a in active:
                        analyses.request_stop(a.id)
                    st.rerun()
            elif len(done) < len(run_ids):
                failed = [a for a in found if a is not None and a.status in ("failed", "interrupted", "stopped")]
                for a in failed:
                    st.warning(
                        f"The last try for {by_id.get(a.run_id, pairs[chosen]).spec.name} ended "
                        f"{a.status}" + (f": {a.error}" if a.error else ".")
                    )
                label = "Compute the landscapes" if not failed else "Compute them again"
                if st.button(label, type="primary", key="why.landscape.start"):
                    ids = [
                        analyses.create(run_id, "landscape", params)
                        for run_id, a in zip(run_ids, found)
                        if a is None or a.status != "completed"
                    ]
                    start_worker(home.root, ids)
                    st.rerun()
                st.caption(
                    f"{steps} × {steps} points per net, on {LANDSCAPE_IMAGES} test images, in the "
                    "background: leave the page and come back, the result is kept."
                )
            if len(done) == len(run_ids):
                nets = [
                    NetResult(r.spec.name, r.spec.skip, a.result) for r, a in zip((by_id[chosen], pairs[chosen]), done)
                ]
                st.plotly_chart(landscape_figure(nets, surface=surface), width="stretch", key="why.landscape")
                st.caption("One colour scale for both nets; the × marks the trained weights. Darker is lower loss.")
                st.plotly_chart(landscape_slice_figure(nets), width="stretch", key="why.landscape.slice")
                rough = [(n.label, n.data.get("roughness")) for n in nets]
                st.caption(
                    "Roughness over the grid's interior — mean |discrete Laplacian| of the log loss (0 for "
                    "a plane, larger for a bumpier surface) and the share of points where the surface curves "
                    "down in some direction (non-convex): "
                    + "; ".join(
                        f"{name} {r['log_laplacian']:.3g}, {100 * r['nonconvex_fraction']:.0f}% non-convex"
                        if r
                        else f"{name} n/a"
                        for name, r in rough
                    )
                )
            polling_changed("why.landscape", bool(active))

        live_fragment(
            landscape_view,
            "why.landscape",
            any(a is not None and a.active for a in (analyses.find(i, "landscape", params) for i in run_ids)),
            every=1.0,
        )

with shattered_tab:
    st.markdown(
        "**Gradients between nearby inputs.** Balduzzi et al. (2017) fed a line of inputs to a net and plotted "
        "the gradient of its output with respect to the input: in a deep plain net it looks like **white noise** "
        "— neighbouring inputs get unrelated gradients, so the gradient says little about where to go (it is "
        "*shattered*); in a ResNet it keeps its structure. The autocorrelation measures it: near 0 beyond lag 0 "
        "means white noise."
    )
    st.subheader("The paper's 1-D experiment, at initialisation")
    cols = st.columns([3, 1])
    depth = cols[0].select_slider("Depth (layers or blocks)", [1, 2, 5, 10, 20, 50, 100], value=50, key="why.toy.depth")
    seed = cols[1].number_input("Seed", 0, 999, 0, key="why.toy.seed")
    toys = [
        NetResult(
            f"{'ResNet' if skip else 'plain'}, {depth} {'blocks' if skip else 'layers'}",
            skip,
            toy(int(depth), skip, int(seed)),
        )
        for skip in (True, False)
    ]
    left, right = st.columns(2)
    left.plotly_chart(
        gradient_line_figure(toys, "x", "input x (256 points on [−2, 2])", "d output / d input along the line"),
        width="stretch",
        key="why.toy",
    )
    right.plotly_chart(autocorrelation_figure(toys), width="stretch", key="why.toy.acf")
    lag1 = {n.label: n.data["autocorrelation"][1] for n in toys}
    st.caption(
        "Fully-connected ReLU nets of width 200 with batch normalisation, freshly initialised. "
        "Autocorrelation at lag 1: "
        + "; ".join(f"{k} {v:.2f}" for k, v in lag1.items())
        + ". Try depth 1 (both smooth) and 50 (plain shattered)."
    )

    st.subheader("Your trained twins, between two test images")
    if not run_ids:
        st.caption("Train a pair of twins to see their gradients.")
    else:
        pair = shattered_pair(root, run_ids, 256, home)
        nets = [by_id[chosen], pairs[chosen]]
        when = st.radio("Weights", ["trained", "at initialisation"], horizontal=True, key="why.shattered.when")
        chosen_results = [
            NetResult(f"{r.spec.name} ({when})", r.spec.skip, res[0 if when == "trained" else 1])
            for r, res in zip(nets, pair)
        ]
        left, right = st.columns(2)
        left.plotly_chart(
            gradient_line_figure(
                chosen_results, "t", "position on the line between the images (t)", "d logit / dt along the line"
            ),
            width="stretch",
            key="why.line",
        )
        right.plotly_chart(autocorrelation_figure(chosen_results), width="stretch", key="why.line.acf")
        lag1 = [(n.label, n.data["autocorrelation"][1]) for n in chosen_results]
        st.caption(
            "The logit of the class predicted at the first image, along the straight line to the second; "
            "the gradient's component along the line. Autocorrelation at lag 1: "
            + "; ".join(f"{k} {v:.2f}" if math.isfinite(v) else f"{k} n/a" for k, v in lag1)
            + "."
        )
