"""The Train page's parts: the form that starts runs, the live view of the runs shown, the table of all
runs, and the panel that renames, deletes or downloads one. The form's values become a RunConfig in
resnet_core/presentation/forms.py (testable without Streamlit); these functions draw."""

from __future__ import annotations

import functools
import time

import pandas as pd
import streamlit as st

import resnet_core as rc
from resnet_core.data import own
from resnet_core.data.catalog import available_datasets, data_root, facts
from resnet_core.data.datasets import DATASETS, num_classes
from resnet_core.execution.estimates import device_kind, estimate, measured_rates
from resnet_core.presentation.charts import error_figure, loss_figure
from resnet_core.presentation.describe import NO_VALUE, SCHEDULE_WORDS, describe_recipe, percent
from resnet_core.presentation.forms import WARMUPS, TrainForm, describe_time_here, warmup_advice
from resnet_core.presentation.i18n import N_, _, language, say
from resnet_core.presentation.reports import (
    metrics_csv,
    owner_label,
    progress_line,
    run_label,
    run_row,
    run_where,
    series_for,
    status_word,
)
from resnet_core.presentation.spec_words import DATASET_LABELS
from resnet_core.presentation.text import markdown_text
from resnet_core.studies.experiments import new_twins_id
from ui.actions import act
from ui.data import dataset_problem_here
from ui.language import spinning
from ui.live import figure_board, polling_changed, run_starting
from ui.runs import badge, follow_statuses, live_reader
from ui.spec_state import current_spec, remember_spec, spec_editor
from ui.views import classroom
from ui.views.render import show_chart

TRAIN_SIZES = [1000, 2000, 5000, 10000, 20000, 50000]
SHOWN, PENDING = "train.shown", "train.pending"  # the "Runs shown" widget, and runs to add to it next run
TOAST = "train.toast"  # what was just started, said after the rerun that shows it
MANAGE_RENAMED = "train.manage.renamed"  # the run just renamed, to select again in the manage panel
CHART_SECONDS = 5.0  # while runs train, their charts are redrawn at most this often (ui/live.FigureBoard)
# The "All runs" table's columns, the errors early: at 1024 px the columns after the first seven or so are
# scrolled out of view.
TABLE_COLUMNS = (
    "name",
    "status",
    "epochs",
    "train error %",
    "test error %",
    "dataset",
    "minutes",
    "created",
    "where",
    "error",
    "id",
)
COLUMN_HEADERS = {  # each column's header, an English msgid translated where the table is drawn
    "name": N_("name"),
    "owner": N_("owner"),  # class mode only
    "status": N_("status"),
    "epochs": N_("epochs"),
    "train error %": N_("train error %"),
    "test error %": N_("test error %"),
    "dataset": N_("dataset"),
    "minutes": N_("minutes"),
    "created": N_("created"),
    "where": N_("where"),
    "id": N_("id"),
}


@spinning(N_("Measuring the net…"))
@st.cache_data(max_entries=256, show_spinner=False)
def macs_per_image(spec: rc.NetSpec) -> int:
    return rc.summarize(spec).macs


@st.cache_data(ttl=60, show_spinner=False)
def device_rates(root: str, _store) -> list[tuple[int, float]]:
    """This device's training speed in multiply-adds per second, from the runs stored here."""
    return measured_rates(_store, rc.describe_device(), macs_per_image)


def dataset_label(name: str) -> str:
    """A dataset's name in the picker (a select box shows it as text): your own are marked as such."""
    if name.startswith(own.PREFIX):
        return _("{removeprefix} (your images)").format(removeprefix=name.removeprefix(own.PREFIX))
    return _(DATASET_LABELS[name])


def balanced_most(dataset: str) -> dict:
    """For your own images: the largest class-balanced training and test subsets (the smallest class's
    count times the classes), which the form keeps the run within."""
    if not dataset.startswith(own.PREFIX):
        return {}
    info = own.find_own(dataset, data_root())
    k = len(info.classes)
    return {"train_most": min(info.train_counts) * k, "test_most": min(info.test_counts) * k}


def import_images() -> None:
    """Import a .zip of the user's images (one folder per class) as a dataset, with its limits said first."""
    with st.popover(_("Import your images"), icon=":material/upload:", key="train.own.popover"):
        most = st.get_option("server.maxUploadSize")
        st.caption(
            _(
                "A .zip with one folder of images per class (cat/1.jpg, dog/2.png, …): {limits}; uploads "
                "here up to {most} MB (larger: `python -m resnet_core train --dataset FOLDER`). Each "
                "class keeps {share} of its images for testing."
            ).format(limits=say(own.LIMITS), most=most, share=percent(own.TEST_FRACTION, 0))
        )
        upload = st.file_uploader(_("A .zip of class folders"), type=["zip"], key="train.own.zip")
        size = st.selectbox(
            _("Image size (pixels a side)"), own.SIZES, index=own.SIZES.index(own.DEFAULT_SIZE), key="train.own.size"
        )
        if st.button(_("Import"), key="train.own.import", disabled=upload is None) and upload is not None:
            try:
                with st.spinner(_("Checking and resizing the images…")):
                    info = own.import_images(upload.getvalue(), data_root(), source_name=upload.name, size=size)
            except own.OwnDataError as err:
                st.error(markdown_text(say(err)), icon=":material/error:")  # it may quote a file's name
                return
            st.session_state["train.dataset"] = info.dataset
            st.success(
                markdown_text(
                    _(
                        "Imported {images:,} images in {classes} classes as {dataset} ({skipped} files skipped: "
                        "not images we can read)."
                    ).format(
                        images=info.train_size + info.test_size,
                        classes=len(info.classes),
                        dataset=info.dataset,
                        skipped=info.skipped,
                    )
                ),
                icon=":material/check:",
            )


def show(run_ids: list[str], message: str | None = None) -> None:
    """Add runs just started to "Runs shown" and rerun the app: the sidebar, drawn from the runs read before
    they were made, shows them too. `message`: a toast, shown after the rerun."""
    st.session_state[PENDING] = run_ids + st.session_state.get(PENDING, [])
    if message:
        st.session_state[TOAST] = message
    st.rerun()


def toast() -> None:
    """The toast of the runs just started (`show`)."""
    if TOAST in st.session_state:
        st.toast(st.session_state.pop(TOAST))


def start_form(runner, recipe: dict, expanded: bool) -> None:
    """The "Start a run" form: the net, its recipe, the time it should take here, and the buttons."""
    store = runner.store
    with st.expander(_("Start a run"), expanded=expanded):
        spec = spec_editor(current_spec(), key="train")  # any depth: the estimate below says how long
        remember_spec(spec)
        import_images()  # before the picker: a dataset just imported is the one it shows
        cols = st.columns([2, 1, 1.6])  # rows of three: at 1024 px a row of five cut the dataset's name
        problems = {name: dataset_problem_here(name) for name in DATASETS if name != "shapes"}
        dataset = cols[0].selectbox(
            _("Dataset"),
            available_datasets(),
            key="train.dataset",
            format_func=lambda d: dataset_label(d) + (_(" (not available here)") if problems.get(d) else ""),
        )
        epochs = cols[1].number_input(_("Epochs"), 1, 500, 5, key="train.epochs")
        train_size = cols[2].select_slider(
            _("Training images"),
            TRAIN_SIZES,
            value=5000,
            key="train.size",
            help=_("A class-balanced subset: smaller trains faster on a CPU."),
        )
        cols = st.columns([1.6, 1, 2])
        batch_size = cols[0].select_slider(
            _("Batch size"), [32, 64, 128, 256, 512], value=recipe["batch_size"], key="train.batch"
        )
        lr = cols[1].number_input(
            _("Learning rate"),
            0.0001,
            2.0,
            recipe["lr"],
            step=0.01,
            format="%.4f",
            key="train.lr",
            help=_(
                "The paper uses 0.1 at batch 128 on a GPU. On a CPU the start "
                "is 0.02: at 0.1 deep nets sit at chance for hundreds of steps on the embedded data."
            ),
        )
        schedule = cols[2].selectbox(
            _("Learning-rate schedule"),
            list(SCHEDULE_WORDS),
            key="train.schedule",
            index=list(SCHEDULE_WORDS).index(recipe["schedule"]),
            format_func=SCHEDULE_WORDS.get,
            help=_("The paper divides the lr by 10 at 50% and 75% of training (§4.2)."),
        )
        augment = st.checkbox(
            _("Augment: crop + flip (§4.2)"),
            value=recipe["augment"],
            key="train.augment",
            help=_(
                "Random 32×32 crops of the image padded by 4 pixels, and horizontal flips, as "
                "in the paper: better test error, slower-falling training error."
            ),
        )
        with st.expander(_("Momentum, weight decay, warm-up and seed"), key="train.optimizer"):
            cols = st.columns(3)
            paper = rc.TrainConfig()  # the paper's recipe (§4.2): momentum, weight decay and seed start there
            momentum = cols[0].number_input(
                _("Momentum"), 0.0, 0.99, paper.momentum, 0.05, key="train.momentum", help=_("SGD momentum; §4.2: 0.9.")
            )
            weight_decay = cols[1].number_input(
                _("Weight decay"),
                0.0,
                0.01,
                paper.weight_decay,
                1e-4,
                format="%.4f",
                key="train.wd",
                help=_("L2 penalty on every parameter; the paper uses 0.0001 (§4.2)."),
            )
            seed = cols[2].number_input(
                _("Seed"),
                0,
                2**31 - 1,
                paper.seed,
                key="train.seed",
                help=_(
                    "Picks the initial weights, the batch order and the augmentation: the "
                    "same seed and settings give the same run."
                ),
            )
            warmup = st.columns([2, 1])[0].selectbox(
                _("Warm-up"),
                list(WARMUPS),
                format_func=WARMUPS.get,
                key="train.warmup",
                help=_(
                    "§4.2, for ResNet-110: lr 0.01 until the training error is below 80% (about 400 iterations), "
                    "then 0.1 — at 0.1 it was too large to start converging."
                ),
            )
        form = TrainForm(
            epochs=epochs,
            train_size=train_size,
            **balanced_most(dataset),
            batch_size=batch_size,
            lr=lr,
            schedule=schedule,
            augment=augment,
            momentum=momentum,
            weight_decay=weight_decay,
            seed=seed,
            warmup=warmup,
            head_init_scale=recipe["head_init_scale"],
        )
        config = form.config()
        # The classifier must match the dataset's classes and the stem its channels (1 for (Fashion-)MNIST).
        spec = spec.replace(num_classes=num_classes(dataset), in_channels=facts(dataset).in_channels)
        st.caption(
            _("Recipe: {describe_recipe}. {describe_optimizer}.").format(
                describe_recipe=describe_recipe(config), describe_optimizer=form.describe_optimizer()
            )
        )
        advice = warmup_advice(spec, form)
        if advice:
            st.caption(advice)
        images = config.train_size or int(train_size)
        found = estimate(macs_per_image(spec), images, int(epochs), device_rates(str(store.root), store))
        device = device_kind(rc.describe_device())
        st.caption(describe_time_here(device, found and found.seconds, found.runs if found else 0, spec, form))
        if problems.get(dataset):
            st.warning(
                _("{dataset_label} is not available here. {problems}").format(
                    dataset_label=dataset_label(dataset), problems=markdown_text(say(problems[dataset]))
                ),
                icon=":material/cloud_off:",
            )
        buttons = st.columns([1, 2.4, 3.6])
        twins = [spec.replace(skip=True), spec.replace(skip=False)]
        classroom.room_caption(runner)  # class mode: the student's places left in the queue
        if buttons[0].button(_("Train"), type="primary", key="train.one", disabled=bool(problems.get(dataset))):
            if classroom.submit_checked(runner, 1):
                show([runner.submit(spec, config, dataset=dataset)], _("{name} queued").format(name=spec.name))
        if buttons[1].button(
            _("Train plain + residual twins"), key="train.twins", disabled=bool(problems.get(dataset))
        ) and classroom.submit_checked(runner, 2):
            pair = config.replace(experiment=new_twins_id())  # created together: find_twin pairs them by this
            show(
                [runner.submit(s, pair, dataset=dataset) for s in twins],
                _("{name} and {name2} queued").format(name=twins[0].name, name2=twins[1].name),
            )


def choose_shown(by_id: dict, default: list[str]) -> list[str]:
    """The "Runs shown" picker: its chips name each run with its status (as this rerun read it)."""
    current = st.session_state[SHOWN] if SHOWN in st.session_state else default
    st.session_state[SHOWN] = [i for i in dict.fromkeys(st.session_state.pop(PENDING, []) + current) if i in by_id]
    return st.multiselect(
        _("Runs shown"),
        list(reversed(by_id)),
        key=SHOWN,
        format_func=lambda i: f"{run_label(by_id[i])} · {status_word(by_id[i].status)} · {i}",
    )


def shown_runs(chosen: list[str]) -> list:
    """The chosen runs as the server's LiveReader last read them (shared with every tab: one read of each run
    a second, only the new rows)."""
    reader, runs = live_reader(), []
    for run_id in chosen:
        try:
            runs.append(reader.get(run_id))
        except KeyError:  # deleted in another tab meanwhile
            continue
    return runs


def starting(runs: list) -> bool:
    """A shown run is in its first steps (ui/live.run_starting)."""
    reader, now = live_reader(), time.time()
    return any(run_starting(r, reader.version(r.id)[2], now) for r in runs)  # version: (…, last step, …)


def run_rows(runner, runs: list, places: dict | None = None) -> None:
    """One row per shown run: its status, what it does now, and Stop (running) or Resume (stopped) — for the
    runs the viewer may act on (`runner` is a RunAccess: it checks again when pressed). `places`: the queued
    runs' places in the fair queue (classroom.queue_places)."""
    places = places or {}
    for run in runs:
        row = st.columns([2, 4.4, 1.6])  # at 1024 px a narrower last column cut "Resume"
        row[0].markdown(f"{badge(run)} **{markdown_text(run_label(run))}**")  # a name is text, not Markdown
        if run.status == "running":
            done, text = progress_line(run)  # starting / training / evaluating on the test set
            where = (
                _(" · on {run_where}").format(run_where=markdown_text(run_where(run))) if run.executor == "ray" else ""
            )
            row[1].progress(done, text=text + where)
        elif run.status == "queued" and run.id in places:
            row[1].caption(classroom.place_words(places[run.id], len(places)))
        elif run.status == "queued":
            row[1].caption(_("waiting for a free worker"))
        elif run.error:
            row[1].caption(markdown_text(run.error))
        if not runner.can_act(run):  # another person's run, shared with the class: read-only
            row[2].caption(markdown_text(_("shared by {owner}").format(owner=run.owner)))
            continue
        if runner.actor.teacher and run.owner != runner.actor.id:  # a teacher acting on someone else's run
            row[2].caption(markdown_text(_("{owner}'s run").format(owner=owner_label(run))))
        if run.active:  # acts in the callback, before the next poll of the fragment can redraw the row
            stop = functools.partial(runner.stop, run.id)
            row[2].button(_("Stop"), key=f"stop.{run.id}", icon=":material/stop:", on_click=act, args=(stop,))
        if run.resumable and row[2].button(_("Resume"), key=f"resume.{run.id}", icon=":material/play_arrow:"):
            if classroom.resume_checked(runner, run.id):
                st.rerun()  # the whole page: the run is queued again everywhere its status shows


def live_view(runner, chosen: list[str]) -> None:
    """The shown runs' rows and their error and loss curves, as a live fragment's body."""
    follow_statuses(runner.store)  # a status changed since the page was drawn: redraw all of it
    runs = shown_runs(chosen)
    store = runner.store
    places = (  # only while a shown run waits: each open tab reruns this at every poll
        classroom.queue_places(runner, device_rates(str(store.root), store), macs_per_image)
        if any(r.status == "queued" for r in runs)
        else {}
    )
    run_rows(runner, runs, places)
    if not runs:
        st.info(_("Choose runs to show above."))
        return
    reader = live_reader()

    def charts() -> list:
        series = series_for(reader, runs)
        return [error_figure(series, _("Error: thin dashed = training, bold = test")), loss_figure(series)]

    # One build for every tab, redrawn at most every CHART_SECONDS while runs train (the progress bars above
    # move at every poll); at once when they end, and while a shown run is in its first `log_every` steps:
    # a new run's first points show within a poll, not up to CHART_SECONDS later.
    versions = tuple(reader.version(r.id) for r in runs)
    first_steps = starting(runs)
    throttle = CHART_SECONDS if any(r.active for r in runs) and not first_steps else 0.0
    errors, losses = figure_board().get(("train", language(), *(r.id for r in runs)), versions, charts, every=throttle)
    shown = " ".join(r.id for r in runs)  # a zoom holds while new points arrive, not when other runs are shown
    left, right = st.columns(2)
    with left:
        show_chart(errors, key="chart.error", keep_view=shown)
    with right:
        show_chart(losses, key="chart.loss", keep_view=shown)
    st.caption(
        _(
            "Training error and loss are running means over recent batches (weights still moving; the "
            "augmented images when augmentation is on); test error is measured on the whole test set after "
            "each epoch."
        )
    )
    polling_changed("train", any(r.active for r in runs))
    polling_changed("train.starting", first_steps)


def runs_table(store, all_runs: list, owners: bool = False) -> None:
    """Every run, newest first, with its status and latest errors (a run without an epoch: "—"); with `owners`
    (class mode), whose each run is, after its name."""
    rows = []
    for run in reversed(all_runs):
        try:
            rows.append(run_row(store, run) | ({"owner": owner_label(run)} if owners else {}))
        except KeyError:  # deleted (or no longer shared) since this rerun read the runs: gone from the table
            continue
    columns = (TABLE_COLUMNS[0], "owner", *TABLE_COLUMNS[1:]) if owners else TABLE_COLUMNS
    table = pd.DataFrame(rows)
    if len(table):
        table["status"] = table["status"].map(status_word)
    # The browser draws a missing value as "None" whatever the Styler says (its na_rep only reaches the
    # Arrow data), so the table's own placeholder says it there.
    st.dataframe(
        table.style.format(precision=2, na_rep=NO_VALUE),
        placeholder=NO_VALUE,
        hide_index=True,
        width="stretch",
        column_order=columns,
        # Headers in the reader's language; the columns keep their names (the CSV and the CLI use them).
        column_config={
            **{name: st.column_config.Column(_(COLUMN_HEADERS[name])) for name in columns if name != "error"},
            "error": st.column_config.TextColumn(_("message"), width="medium"),
        },
    )


def teacher_panel(runner) -> None:
    """The teacher's panel (classroom.teacher_panel); nothing, and nothing read, for anyone else."""
    if not runner.actor.teacher:
        return
    store = runner.store
    classroom.teacher_panel(
        runner, classroom.queue_places(runner, device_rates(str(store.root), store), macs_per_image)
    )


def manage_panel(runner, by_id: dict) -> None:
    """Rename, resume, share, download or delete one of the runs the viewer may act on (`runner` is a RunAccess:
    each action is checked again when it happens; a download's file is read only then)."""
    store = runner.store
    by_id = {i: r for i, r in by_id.items() if runner.can_act(r)}
    if not by_id:
        return
    with st.expander(_("Rename, delete or download a run"), key="train.manage.panel"):
        if MANAGE_RENAMED in st.session_state:  # a run was renamed: send the picker its new label (see below)
            st.session_state["train.manage"] = st.session_state.pop(MANAGE_RENAMED)
        target = st.selectbox(
            _("Run"), list(reversed(by_id)), format_func=lambda i: f"{by_id[i].name} · {i}", key="train.manage"
        )
        run = by_id[target]
        cols = st.columns([2.2, 1.1, 1.1, 1.6, 1.6])  # at 1024 px narrower columns cut "Rename"
        new_name = cols[0].text_input(_("Name"), run.name, key=f"rename.{target}")
        if (
            cols[1].button(_("Rename"), key="train.rename")
            and new_name.strip()
            and new_name != run.name
            and act(lambda: runner.rename(target, new_name))
        ):
            # The browser keeps a selectbox's chosen *label*; unless the value is set again it goes on showing
            # the old name (Streamlit sends the selection only when it is set from the script).
            st.session_state[MANAGE_RENAMED] = target
            st.rerun()
        if (
            run.resumable
            and cols[2].button(_("Resume"), key="train.resume")
            and classroom.resume_checked(runner, target)
        ):
            show([target])
        # Both files are made when the button is pressed, not at every rerun (a checkpoint can be 80 MB).
        cols[3].download_button(
            _("Metrics (CSV)"),
            lambda run_id=target: metrics_csv(runner.downloadable(run_id), run_id),
            file_name=f"{target}.csv",
            mime="text/csv",
            key="train.csv",
        )
        try:
            checkpoint = store.latest_checkpoint(target)
        except KeyError:  # deleted since this rerun read the runs (an action on it says so): no file to offer
            checkpoint = None
        if checkpoint is not None:
            cols[4].download_button(
                _("Checkpoint"),
                lambda run_id=target: runner.checkpoint_bytes(run_id),
                file_name=f"{target}.safetensors",
                mime="application/octet-stream",
                key="train.ckpt",
                help=_("Weights after epoch {checkpoint} (safetensors).").format(checkpoint=checkpoint[0]),
            )
        if runner.actor.id is not None:  # class mode: a run is private until its owner shares it
            classroom.share_switch(runner, run, "train.share")
        confirm = st.checkbox(_("Yes, delete this run and its files"), key=f"confirm.{target}")
        help_text = _("Stop a running run before deleting it.")
        # Refused for a run that started meanwhile (in another tab), or that someone else deleted.
        if st.button(_("Delete"), disabled=not confirm or run.active, key="train.delete", help=help_text) and act(
            lambda: runner.delete(target)
        ):
            st.rerun()  # "Runs shown" drops ids that no longer exist
