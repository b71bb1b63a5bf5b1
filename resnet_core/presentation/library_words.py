"""Words the layers below `presentation` say (they cannot import i18n, which lives here): the presets' names and
descriptions (studies/experiments.py), the attribution methods' labels and summaries (analysis/attributions.py),
the pair a page opens on (studies/pairs.py). Marked here for the catalog, translated with `_()` where shown;
tests/test_i18n.py fails when one of them changes there and not here."""

from __future__ import annotations

from .i18n import N_

PRESETS = (
    N_("Quick CPU preset"),
    N_(
        "Two depths, 8 and 44 layers, on 2,800 embedded images — the family's shallowest net and one of Fig. "
        "6's, so that four nets train in minutes on a laptop; the longer preset trains the paper's 20 and 56."
        " Compare the training errors: that is what Fig. 6 is about."
    ),
    N_("Longer CPU preset"),
    N_(
        "Two depths, 20 and 56 layers, on 4,500 embedded images: the paper's shallowest and deepest plain "
        "nets, and the recipe of the reference runs. Add 32 and 44 for the paper's four depths (about twice "
        "as long). Compare the training errors: that is what Fig. 6 is about."
    ),
    N_("GPU preset on the embedded dataset"),
    N_("CIFAR-10 is not available here; the embedded dataset with a 30-epoch step schedule."),
    N_("The paper's schedule (GPU)"),
    N_("He et al. 2015 §4.2: lr 0.1, ÷10 at 50% and 75% of training, weight decay 1e-4, momentum 0.9."),
)
METHODS = (
    N_("Integrated gradients"),
    N_(
        "Sums the gradient along a straight path from a baseline (here the dataset's mean image) to the "
        "image; the attributions add up to the change in the class score, up to the reported convergence "
        "error."
    ),
    N_("Saliency (gradient)"),
    N_(
        "The gradient of the class score with respect to each pixel: how much a tiny change of that pixel "
        "would move the score. Fast, but noisy."
    ),
    N_("SmoothGrad"),
    N_(
        "Averages the saliency (or integrated gradients) of many noisy copies of the image, which removes "
        "much of the gradient's pixel-to-pixel noise."
    ),
    N_("Guided backprop"),
    N_(
        "The gradient with negative signals stopped at every ReLU on the way back: sharp, edge-like maps. It "
        "shows image structure more than the class decision, and is defined for ReLU nets only."
    ),
    N_("Grad-CAM"),
    N_(
        "Weights the feature maps of a late layer (default: the last stage) by their average gradient and "
        "upsamples the result: coarse (the last stage is 8×8 for a 32×32 image, 7×7 for 224×224), but class-"
        "specific."
    ),
    N_("Occlusion"),
    N_(
        "Covers the image with a sliding grey square (the mean image) and records how much the class score "
        "drops: no gradients, just many forward passes."
    ),
)
PAIRS = (
    N_("No pair here has two nets that learned; showing the first pair there is."),
    N_("There is no trained ResNet with its plain twin yet."),
    N_("Showing your newest pair in which both nets learned."),
    N_("Showing the reference pair in which both nets learned; your own pairs are in the list."),
)
