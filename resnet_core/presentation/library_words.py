"""Words the layers below `presentation` say (they cannot import i18n, which lives here): the presets' names and
descriptions (studies/experiments.py), the attribution methods' labels and summaries (analysis/attributions.py),
the pair a page opens on (studies/pairs.py), and every template they say as `Words` or raise as a `WordedError`
(resnet_core/words.py: the upload, import, dataset, net-settings, access and store errors); and the words of the
drawings in assets/, which Babel does not read (`i18n.svg_words`). Marked here for the catalog, translated with
`_()` (or `i18n.say`) where shown; tests/test_i18n.py fails when one of them changes there and not here."""

from __future__ import annotations

from .i18n import N_

PRESETS = (
    N_("Quick CPU preset"),
    N_(
        "Two depths, 8 and 44 layers, on 2,800 training images — the family's shallowest net and one of Fig. "
        "6's, so that four nets train in minutes on a laptop; the longer preset trains the paper's 20 and 56."
        " Compare the training errors: that is what Fig. 6 is about."
    ),
    N_("Longer CPU preset"),
    N_(
        "Two depths, 20 and 56 layers, on 4,500 training images: the paper's shallowest and deepest plain "
        "nets, and the recipe of the reference runs, which trained on Fashion-MNIST (there plain-56 learns; on "
        "the embedded shapes it stays near chance). Add 32 and 44 for the paper's four depths (about twice as "
        "long). Compare the training errors: that is what Fig. 6 is about."
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
# resnet_core/words.py's templates, by the module that says them.
IMAGES = (  # data/images.py: an upload that is not an image we can use
    N_("PNG, JPEG, WebP, BMP or GIF"),
    N_("The file is empty."),
    N_("The file is {size:.1f} MB; the limit is {limit:.0f} MB."),
    N_("This {kind} file is damaged or incomplete and cannot be read."),
    N_("This file is not an image we can read. Upload a {format_names} file."),
    N_("This image file is damaged and cannot be read ({reason})."),
    N_("The image has no pixels ({width}×{height})."),
    N_("This {kind} file is damaged or incomplete and cannot be decoded ({reason})."),
    N_("This image file is damaged or incomplete and cannot be decoded ({reason})."),
    N_("This image's colour mode ({mode}) cannot be converted to RGB ({reason})."),
    N_("The image is too large to open safely (the limit is {limit:.0f} megapixels). Resize it and upload it again."),
    N_(
        "The image is {width}×{height} pixels ({megapixels:.0f} megapixels); the limit is {limit:.0f} megapixels. "
        "Resize it and upload it again."
    ),
)
OWN_DATA = (  # data/own.py: images that cannot become a dataset
    N_(
        "{least}–{most} classes (one subfolder each), at least 2 images a class, at most {images:,} images and {mb} "
        "MB in all; PNG, JPEG, WebP, BMP or GIF"
    ),
    N_("{text!r} gives no usable dataset name: name it with letters or digits"),
    N_("none yet"),
    N_(
        "there is no dataset {name!r} in {folder} (yours: {have}); import a folder of images or a .zip first (the "
        "Train page, or `--dataset PATH` on the command line)"
    ),
    N_("image size {size}: choose one of {sizes}"),
    N_("a dataset named {name!r} already exists: choose another name"),
    N_(
        "class {classes} has fewer than 2 images we can read (one to train on, one to test with); {skipped} file(s) "
        "were not images. Add images or remove the folder"
    ),
    N_("{folder!r} is neither a folder nor a .zip file"),
    N_("the folder holds more than {mb} MB; limits: {limits}"),
    N_("{label} is {size:.0f} MB; the limit is {mb} MB"),
    N_("{label} is not a zip archive we can read ({reason})"),
    N_("{label} would inflate to more than {mb} MB: refused (limits: {limits})"),
    N_("{label} is damaged: {member} cannot be read ({reason})"),
    N_("{label} holds a path that leaves its folder ({member}): refused"),
    N_("the images must sit in one subfolder per class (class/image.jpg); limits: {limits}"),
    N_("found {count} class folder(s): a dataset needs {least}–{most} (limits: {limits})"),
    N_("found {count:,} files: at most {most:,} images (limits: {limits})"),
)
DATASETS = (  # data/datasets.py and data/idx.py: a dataset whose files are not here
    N_(
        "{name} was not found in {root} (or its files are corrupted), and it could not be downloaded. Put {archive} "
        "(or its extracted folder {folder}/) in {root}, or point the environment variable RESNET_LAB_DATA at the "
        "folder that holds it, or run load_dataset({name!r}, download=True) on a machine with internet access. The "
        "embedded 'shapes' dataset needs no download: load_dataset('shapes')."
    ),
    N_(
        "{name} was not found: put its four files ({files}) in {folder}, or install them in {system}{package}, or "
        "run load_dataset({name!r}, download=True) on a machine with internet access. The embedded 'shapes' dataset "
        "needs no download."
    ),
    N_(" (Debian/Ubuntu: `apt-get install {package}`)"),
    N_("{missing} (The download failed: {err}.)"),
    N_("{name}: {err}. Replace that file with a good copy."),
    N_("{name}'s files in {folder} cannot be read ({err}): import it again"),
)
IDX_FILES = (  # data/idx.py: a (Fashion-)MNIST file that is broken, quoted by DATASETS' "Replace that file"
    N_("{file} cannot be read: {err}"),
    N_("{file} is not an IDX file (its first bytes are not an IDX header)"),
    N_("{file} holds type 0x{code:02x}, not unsigned bytes (0x{ubyte:02x})"),
    N_("{file} has a broken header"),
    N_("{file} holds {size:,} bytes of data; its header promises {expected:,}"),
    N_("{file} does not hold square images: {shape}"),
    N_("{file} holds {labels:,} labels for {images:,} images"),
    N_("{file} has a label {label} outside 0–{last}"),
)
PRETRAINED = (  # analysis/pretrained.py: ImageNet weights that are not here (Explain)
    N_(
        "The {label} weights are not on this machine yet. They are downloaded once (about {size} MB) from {url} into "
        "{folder}. Press the download button while online, or copy that file there by hand. Trained runs from the "
        "Train page work without it."
    ),
    N_(
        "Could not download the {label} weights ({kind}: {reason}). This machine may be offline: try again when "
        "online, or copy {file} into {folder} by hand."
    ),
    N_(
        "The cached {label} weights in {path} could not be loaded ({kind}: {reason}). Delete the file and download "
        "it again."
    ),
)
ATTRIBUTIONS = (  # analysis/attributions.py: a method that cannot explain this net (Explain's warning)
    N_("Grad-CAM needs a convolutional layer; this net has none"),
    N_("uses {names} activations"),
    N_("has no nn.ReLU modules"),
    N_(
        "guided backprop is defined for ReLU nets only (it rewrites the backward pass of nn.ReLU modules), and this "
        "net {uses}. Use saliency, integrated gradients or Grad-CAM instead."
    ),
    N_("the net has no layer {name!r}; choose one of: {choices}"),
)
REFERENCE = (N_("{net} · reference"),)  # studies/reference.py: the name of a run of the shipped bundle
DEVICE = (  # training/device.py: what the device is (the sidebar, Home)
    N_("{name} (CUDA)"),
    N_("Apple GPU (MPS)"),
    N_("CPU ({cores}, {threads})"),
    N_("{n} core"),  # the counts, singular and plural (the catalog's Chinese has one form)
    N_("{n} cores"),
    N_("{n} thread"),
    N_("{n} threads"),
)
SPEC = (  # model/spec.py: net settings no net can have (a link's, a saved run's, the command line's)
    N_("{name} must be True or False, got {value!r}"),
    N_("depth {depth} is not an ImageNet-style {block} net; valid depths: {valid}{hint}"),
    N_("depth {depth} is not {formula} for {block} blocks on the cifar stem; nearest: {nearest}{hint}"),
    N_("; depth {depth} fits {other} blocks (block={other!r})"),
    N_("unknown NetSpec fields {unknown}; valid fields: {known}"),
    N_("{name} {value!r} is not valid; choose one of: {choices}"),
    N_("{name} must be a positive integer, got {value!r}"),
    N_("{name} must be 1/0 or true/false, got {value!r}"),
    N_("{name} must be a whole number, got {value!r}"),
)
ACCESS = (  # store/access.py and execution/access.py: what a person may not do, and the queue's cap
    N_("stop"),
    N_("resume"),
    N_("rename"),
    N_("share"),
    N_("delete"),
    N_("download"),
    N_("You cannot {action} another person's run: only its owner or a teacher can."),
    N_("You cannot {action} a run that is not yours: only its owner or a teacher can."),
    N_("There is no run {run_id} that you can see: it was deleted, or it is no longer shared."),
    N_("Only a teacher can set the queue cap."),
    N_("Only a teacher can clear a student's queue."),
    N_(
        "You can have at most {cap} runs waiting or training at once, and this needs room for {runs} ({room} left). "
        "Stop one of yours, or wait for one to finish."
    ),
)
STORE = (  # store/run_store.py: a run that cannot be deleted yet
    N_("run {run_id} is queued: stop it before deleting it"),
    N_("run {run_id} is running: stop it before deleting it"),
)
ASSETS = (  # assets/residual_block.svg (Home): the paper's Fig. 2
    N_("A residual block: the layers learn F(x); the shortcut adds x back, so the block outputs F(x) + x"),
    N_("weight layer"),
    N_("identity"),
)
