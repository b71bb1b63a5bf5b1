"""Words a person reads about a recipe, a duration, a percentage or an experiment's progress.

The app's pages and the command line say these the same way; studies/, execution/ and store/ hold the
numbers, this module the sentences.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..store.config import RunConfig
from .i18n import N_, Messages, _, ngettext

if TYPE_CHECKING:
    from ..studies.experiments import ExperimentProgress
    from ..training.train import TrainConfig

# English msgids, translated where shown: `_(SCHEDULE_WORDS[name])`
SCHEDULE_WORDS = Messages(
    {"step": N_("÷10 at 50% and 75%"), "cosine": N_("cosine decay to 0"), "constant": N_("constant")}
)
NO_VALUE = "—"  # a table cell or a number that does not exist yet (no finished epoch)


def _is_nan(fraction: float) -> bool:
    return isinstance(fraction, float) and math.isnan(fraction)


def percent(fraction: float | None, digits: int = 1) -> str:
    """A fraction as text in percent: 0.1234 -> "12.3%" (digits=0: "12%"); None or NaN (no value yet) -> "—".
    The one way the library, the pages and the command line write a fraction for a person to read."""
    points = percent_points(fraction, digits)
    return points if points == NO_VALUE else f"{points}%"


def percent_points(fraction: float | None, digits: int = 1) -> str:
    """`percent` without its sign, for a table whose column's name already says "%": 0.1234 -> "12.3"."""
    if fraction is None or _is_nan(fraction):
        return NO_VALUE
    return f"{100 * fraction:.{digits}f}"


def percent_spread(mean: float | None, std: float | None, digits: int = 1) -> str:
    """Seeds' mean ± sample std in a "%" column: "12.3 ± 0.4"; "12.3" with one seed (no std); "—" with none."""
    text = percent_points(mean, digits)
    return text if std is None else f"{text} ± {percent_points(std, digits)}"


def percent_cell(fraction: float | None, digits: int = 2) -> float | None:
    """A fraction as a table's number in percent (the column's name says "%"): 0.1234 -> 12.34; None or
    NaN -> None, which a table shows as "—"."""
    return None if fraction is None or _is_nan(fraction) else round(100 * fraction, digits)


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(value: float, digits: int = 2) -> str:
    """A number a sentence says, readable in every language (never e-notation): `digits` significant digits,
    written out from 0.001 to 1,000,000 ("1,700", "0.042", "3.5"), as a power of ten beyond ("3.2 × 10⁻⁵",
    "10⁸"); "∞" for an infinity. The group and decimal marks are the same in English and Chinese (glossary)."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    power = int(exponent)
    if -3 <= power < 6:
        text = f"{float(mantissa) * 10**power:,.{max(0, digits - 1 - power)}f}"
    else:
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        tens = "10" + str(power).translate(SUPERSCRIPTS)
        return tens if mantissa == "1" else f"{mantissa} × {tens}".replace("-", "−", 1)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def plural(n: int | float, noun: str) -> str:
    """ "1 epoch", "2 epochs", "0.5 epochs" (English only: a translated sentence uses `epochs()` or ngettext)."""
    return f"{n:g} {noun}{'' if n == 1 else 's'}"


def epochs(n: int | float) -> str:
    """ "1 epoch", "2 epochs", "0.5 epochs", in the run's language."""
    return ngettext("{n} epoch", "{n} epochs", n).format(n=f"{n:g}")


def describe_recipe(config: RunConfig | TrainConfig | dict) -> str:
    """One line a learner can read: "6 epochs · batch 64 · lr 0.02, cosine decay to 0 · no augmentation · …"."""
    config = RunConfig.of(config)
    parts = [epochs(config.epochs), _("batch {size}").format(size=config.batch_size)]
    parts.append(_("lr {lr}, {schedule}").format(lr=f"{config.lr:g}", schedule=_(SCHEDULE_WORDS[config.schedule])))
    if config.warmup_epochs:
        parts.append(
            _("{epochs} of warm-up at lr {lr}").format(epochs=epochs(config.warmup_epochs), lr=f"{config.lr / 10:g}")
        )
    if config.warmup_until_error:
        parts.append(
            _("warm-up at lr {lr} until the training error is below {error}").format(
                lr=f"{config.lr / 10:g}", error=percent(config.warmup_until_error, 0)
            )
        )
    parts.append(_("crop + flip augmentation") if config.augment else _("no augmentation"))
    if config.head_init_scale != 1.0:
        parts.append(
            _("classifier initialised at {scale}× (every net starts near chance loss)").format(
                scale=f"{config.head_init_scale:g}"
            )
        )
    size = config.train_size
    parts.append(_("{count} training images").format(count=f"{size:,}") if size else _("all training images"))
    return " · ".join(parts)


def describe_machine(machine: dict | str) -> str:
    """A machine from its fields, in the run's language: "Intel(R) Xeon(R) Processor, 2 cores, virtual machine,
    Linux" (the CPU's model and the system are names, kept as they are; an older record's sentence as it is)."""
    if not isinstance(machine, dict):
        return str(machine or "?")
    cores = int(machine.get("cores") or 0)
    fields = {"cpu": machine.get("cpu") or "?", "n": cores, "os": machine.get("os") or "?"}
    if machine.get("virtual"):
        said = ngettext("{cpu}, {n} core, virtual machine, {os}", "{cpu}, {n} cores, virtual machine, {os}", cores)
        return said.format(**fields)
    return ngettext("{cpu}, {n} core, {os}", "{cpu}, {n} cores, {os}", cores).format(**fields)


def describe_preset(key: str) -> str:
    """A preset named by its key (a record's field), in the run's language; an older record's text as it is."""
    from ..studies.experiments import preset_by_key

    preset = preset_by_key(key)
    return _(preset.name) if preset is not None else key


def describe_provenance(prov: dict) -> str:
    """Where the reference runs came from (their provenance.json: fields, not sentences), in the run's language:
    "trained on 2026-11-28 18:20 UTC by `python -m resnet_core reference` — Longer CPU preset, 16.5 min on
    Intel(R) Xeon(R) Processor, 2 cores, virtual machine, Linux — at commit abc1234, torch 2.14.1"."""
    if not prov:
        return _("trained by `python -m resnet_core reference`")
    text = _("trained on {date} by `{command}` — {preset}, {minutes:.1f} min on {machine}").format(
        date=prov.get("date", "?"),
        command=prov.get("command", "python -m resnet_core reference"),
        preset=describe_preset(prov.get("preset", "cpu_long")),
        minutes=prov.get("train_wall_seconds", prov.get("wall_seconds", 0)) / 60,
        machine=describe_machine(prov.get("machine", "?")),
    )
    commit = (prov.get("git_commit") or "")[:7]
    if commit and prov.get("git_dirty"):
        text += _(" — at commit {commit} (with local changes)").format(commit=commit)
    elif commit:
        text += _(" — at commit {commit}").format(commit=commit)
    if prov.get("torch"):
        text += _(", torch {version}").format(version=prov["torch"])
    return text


def describe_duration(seconds: float) -> str:
    """ "about 40 s", "about 12 min", "about 3.5 h", "about 2.1 days"."""
    if seconds < 90:
        return _("about {n} s").format(n=max(1, round(seconds)))
    if seconds < 90 * 60:
        return _("about {n} min").format(n=round(seconds / 60))
    if seconds < 48 * 3600:
        return _("about {n} h").format(n=f"{seconds / 3600:.1f}")
    return _("about {n} days").format(n=f"{seconds / 86400:.1f}")


def describe_progress(progress: ExperimentProgress) -> str:
    """ "12 of 56 epochs · about 7 min left · queued behind 2 other runs"."""
    parts = [_("{done} of {epochs}").format(done=progress.epochs_done, epochs=epochs(progress.epochs_total))]
    if progress.epochs_done < progress.epochs_total:
        minutes = max(1, round(progress.eta_seconds / 60)) if progress.eta_seconds is not None else None
        if minutes is not None and progress.runs_ahead:
            parts.append(_("about {n} min left once the runs ahead finish").format(n=minutes))
        elif minutes is not None:
            parts.append(_("about {n} min left").format(n=minutes))
        else:
            parts.append(_("time left: known after the first epoch"))
    if progress.runs_ahead:
        n = progress.runs_ahead
        parts.append(ngettext("queued behind {n} other run", "queued behind {n} other runs", n).format(n=n))
    return " · ".join(parts)
