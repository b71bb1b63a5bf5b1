"""The degradation experiment in words and figures (He et al. 2015, Fig. 6): what keeps a depth from a
verdict, the verdicts themselves, the sweep's table, and the two figures the Degradation page and the lesson
show. Every sentence that states a finding is computed from the DepthRows it is given.

The numbers come from studies/experiments.depth_table (final errors per depth and kind, with what keeps each
depth from a verdict); this module never reads the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import plotly.graph_objects as go

from ..studies import experiments
from .charts import RunSeries, error_figure, style_axes
from .describe import describe_recipe, epochs, percent, percent_points, percent_spread
from .i18n import N_, Messages, _, joined
from .palette import FONT, NEUTRAL_COLOR, PLAIN_COLOR, RESIDUAL_COLOR
from .views import Verdict

if TYPE_CHECKING:
    from ..studies.experiments import DepthRow, Gap
    from ..studies.sweeps import SweepRow

Kind = Literal["plain", "residual"]
KIND_TITLES = Messages({"plain": N_("plain nets"), "residual": N_("ResNets")})


def net_name(kind: Kind, depth: int) -> str:
    return f"{'ResNet' if kind == 'residual' else 'plain'}-{depth}"


def describe_gap(gap: Gap) -> str:
    """ "plain-56: 3 of 14 epochs, stopped", "ResNet-56: no run", "ResNet-56: trained with another recipe (…)"."""
    if gap.status is None:
        return _("{net}: no run").format(net=gap.net)
    if gap.other_recipe is not None:
        return _("{net}: trained with another recipe ({describe_recipe})").format(
            net=gap.net, describe_recipe=describe_recipe(gap.other_recipe)
        )
    return _("{net}: {done} of {epochs}, {status}").format(
        net=gap.net, done=gap.done, epochs=epochs(gap.planned), status=gap.status
    )


def verdict_missing(rows: Sequence[DepthRow]) -> list[str]:
    """What a verdict still waits for, one phrase per run; empty when every run completed the same recipe."""
    return [describe_gap(gap) for row in rows for gap in row.unfinished]


@dataclass(frozen=True)
class _Done:
    """A depth whose plain and residual net both finished an epoch: its final errors (fractions)."""

    depth: int
    plain_train: float
    plain_test: float
    residual_train: float
    residual_test: float


def _done(rows: Sequence[DepthRow]) -> list[_Done]:
    return [
        _Done(r.depth, r.plain_train, r.plain_test, r.residual_train, r.residual_test)
        for r in rows
        # an epoch's row holds both errors: train and test are None together
        if r.plain_train is not None
        and r.plain_test is not None
        and r.residual_train is not None
        and r.residual_test is not None
    ]


def verdict_withheld(rows: Sequence[DepthRow], num_classes: int = 10) -> str | None:
    """Why finished runs still give no verdict, or None. A ResNet, or the shallowest plain net, that ended
    near chance has not learned yet, and which of such nets is worse is noise (a one-epoch trial). A deep
    plain net near chance is different: beside a shallower plain net that learned, that is the degradation
    the paper reports (plain-56 ends near chance in the CPU preset)."""
    done = _done(rows)
    if len(done) < 2:
        return None
    chance = 1 - 1 / num_classes
    limit = chance - experiments.LEARNED_BELOW_CHANCE  # read at each call: tests lower it
    untrained = [f"plain-{done[0].depth}"] if done[0].plain_train >= limit else []
    untrained += [f"ResNet-{r.depth}" for r in done if r.residual_train >= limit]
    if not untrained:
        return None
    return _(
        "{join} ended with a training error of {value:.0f}% or more, still near chance "
        "({value2:.0f}% with {num_classes} classes): which net is worse says nothing yet — train "
        "longer or on more images"
    ).format(join=_(", ").join(untrained), value=100 * limit, value2=100 * chance, num_classes=num_classes)


def _compare(deep: float, shallow: float) -> str:
    if deep < shallow - experiments.SAME_WITHIN:
        return _("better than")
    return _("no worse than") if deep <= shallow + experiments.SAME_WITHIN else _("worse than")


def _versus(a: float, b: float) -> str:
    return _("{percent} vs {percent2}").format(percent=percent(a), percent2=percent(b))


def _near_chance(deep: _Done, num_classes: int) -> str:
    """A sentence when the deeper plain net stayed near chance (the CPU presets' plain-56 does): the
    degradation at its extreme, which the reader should know is what they are looking at."""
    chance = 1 - 1 / num_classes
    if deep.plain_train < chance - experiments.LEARNED_BELOW_CHANCE:
        return ""
    return _(
        " plain-{depth} stayed near chance ({value:.0f}% with {num_classes} classes): on this "
        "budget it barely learned at all."
    ).format(depth=deep.depth, value=100 * chance, num_classes=num_classes)


def _plain_verdict(shallow: _Done, deep: _Done, num_classes: int = 10) -> Verdict:
    diff = deep.plain_train - shallow.plain_train
    numbers = f"({_versus(deep.plain_train, shallow.plain_train)})"
    if abs(diff) <= experiments.SAME_WITHIN:
        return Verdict(
            "too_close",
            _(
                "plain-{depth} and plain-{depth2} end within one point of each other in training error "
                "{numbers}: too close to call degradation from one run of each."
            ).format(depth=deep.depth, depth2=shallow.depth, numbers=numbers),
        )
    higher = diff > 0
    return Verdict(
        "agrees" if higher else "disagrees",
        _("plain-{depth} ends with a higher training error than plain-{depth2} {numbers}: degradation.").format(
            depth=deep.depth, depth2=shallow.depth, numbers=numbers
        )
        + _near_chance(deep, num_classes)
        if higher
        else _("plain-{depth} ends with no higher training error than plain-{depth2} {numbers}.").format(
            depth=deep.depth, depth2=shallow.depth, numbers=numbers
        ),
    )


def _residual_verdict(shallow: _Done, deep: _Done) -> Verdict:
    ok = deep.residual_train <= shallow.residual_train + experiments.SAME_WITHIN
    return Verdict(
        "agrees" if ok else "disagrees",
        _("ResNet-{depth} is {compare} ResNet-{depth2} in training error ({versus}).").format(
            depth=deep.depth,
            compare=_compare(deep.residual_train, shallow.residual_train),
            depth2=shallow.depth,
            versus=_versus(deep.residual_train, shallow.residual_train),
        ),
    )


def waiting_verdict(rows: Sequence[DepthRow], num_classes: int = 10, active: bool = False) -> Verdict | None:
    """The one verdict to show instead of findings, or None when the rows can be judged: runs still
    training, runs unfinished or trained another way, nets that have not learned, fewer than two depths."""
    if active:
        return Verdict("pending", _("Final numbers when every run has finished; until then each run's latest epoch."))
    missing = verdict_missing(rows)
    if missing:
        return Verdict(
            "pending",
            _(
                "No verdict: a comparison needs every run to complete the same recipe, and these did not — "
                "{missing}. Resume the unfinished runs on the Train page to get a verdict."
            ).format(missing=joined(missing)),
        )
    withheld = verdict_withheld(rows, num_classes)
    if withheld:
        return Verdict("untrained", _("No verdict: {withheld}.").format(withheld=withheld))
    if len(_done(rows)) < 2:
        return Verdict("pending", _("No verdict: Fig. 6 compares at least two depths, and this experiment has fewer."))
    return None


def degradation_verdicts(rows: Sequence[DepthRow], num_classes: int = 10) -> list[Verdict]:
    """[plain verdict, ResNet verdict] for the shallowest vs the deepest net of each kind; [] while the rows
    cannot be judged (`waiting_verdict` says why)."""
    if waiting_verdict(rows, num_classes) is not None:
        return []
    done = _done(rows)
    return [_plain_verdict(done[0], done[-1], num_classes), _residual_verdict(done[0], done[-1])]


def degradation_findings(rows: Sequence[DepthRow], num_classes: int = 10) -> list[tuple[bool, str]]:
    """(agrees with the paper, sentence) for the plain and the residual comparison (`degradation_verdicts`)."""
    return [(v.kind == "agrees", v.text) for v in degradation_verdicts(rows, num_classes)]


def fig6_verdicts(rows: Sequence[DepthRow], kind: Kind, num_classes: int = 10, active: bool = False) -> list[Verdict]:
    """The verdict on one half of Fig. 6: for plain nets, whether the deeper one trains worse; for ResNets,
    whether the deeper one is no worse."""
    waiting = waiting_verdict(rows, num_classes, active)
    if waiting is not None:
        return [waiting]
    return [degradation_verdicts(rows, num_classes)[0 if kind == "plain" else 1]]


def not_overfitting_verdicts(rows: Sequence[DepthRow], num_classes: int = 10, active: bool = False) -> list[Verdict]:
    """Whether the deeper plain net's higher error is overfitting: it is not when its *training* error is
    higher too (§4.2: "the deeper plain net has higher training error"); and whether the deeper ResNet's
    test error is no worse."""
    waiting = waiting_verdict(rows, num_classes, active)
    if waiting is not None:
        return [waiting]
    done = _done(rows)
    shallow, deep = done[0], done[-1]
    train = deep.plain_train - shallow.plain_train
    trains = _versus(deep.plain_train, shallow.plain_train)
    tests = _versus(deep.plain_test, shallow.plain_test)
    a, b = f"plain-{deep.depth}", f"plain-{shallow.depth}"
    if abs(train) <= experiments.SAME_WITHIN:
        plain = Verdict(
            "too_close",
            _(
                "{a} and {b} end within one point of each other in training error ({trains}): no "
                "degradation to explain in this experiment."
            ).format(a=a, b=b, trains=trains),
        )
    elif train > 0:
        worse_test = deep.plain_test > shallow.plain_test
        plain = Verdict(
            "agrees",
            _("Not overfitting: {a} has the higher training error ({trains}), ").format(a=a, trains=trains)
            + (
                _("not only the higher test error ({tests})").format(tests=tests)
                if worse_test
                else _("though not the higher test error ({tests})").format(tests=tests)
            )
            + _(" — an overfitting net would fit its training images better, not worse.")
            + _near_chance(deep, num_classes),
        )
    elif deep.plain_test > shallow.plain_test:
        plain = Verdict(
            "disagrees",
            _(
                "{a} fits its training images better than {b} (training error {trains}) but tests worse "
                "({tests}): that is overfitting, not the degradation of Fig. 6."
            ).format(a=a, b=b, trains=trains, tests=tests),
        )
    else:
        plain = Verdict(
            "disagrees",
            _("{a} is no worse than {b} in training error ({trains}) or test error ({tests}): no degradation.").format(
                a=a, b=b, trains=trains, tests=tests
            ),
        )
    residual = Verdict(
        "agrees" if deep.residual_test <= shallow.residual_test + experiments.SAME_WITHIN else "disagrees",
        _("ResNet-{depth} is {compare} ResNet-{depth2} in test error ({versus}).").format(
            depth=deep.depth,
            compare=_compare(deep.residual_test, shallow.residual_test),
            depth2=shallow.depth,
            versus=_versus(deep.residual_test, shallow.residual_test),
        ),
    )
    return [plain, residual]


def fig6_half_figure(series: Sequence[RunSeries], kind: Kind) -> go.Figure:
    """One half of Fig. 6: the error curves of one kind's nets, darker = deeper, error axis 0–100 % so the
    two halves compare at a glance."""
    name = KIND_TITLES[kind]
    fig = error_figure(
        series, _("{value}: error by depth").format(value=name[0].upper() + name[1:])
    )  # short: half a page at 1024 px
    fig.update_yaxes(range=[0, 100])
    fig.update_xaxes(rangemode="tozero", showline=True, linecolor=NEUTRAL_COLOR)
    fig.update_yaxes(showline=True, linecolor=NEUTRAL_COLOR)
    if not any(len(s.steps) or len(s.test_error) for s in series):
        fig.update_xaxes(range=[0, 100])
        fig.add_annotation(
            text=_("no steps yet"),
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="x domain",
            yref="y domain",
            font=dict(FONT, color=NEUTRAL_COLOR),
        )
    return fig


def final_errors_figure(rows: Sequence[DepthRow]) -> go.Figure:
    """Final training (solid) and test (dashed) error against depth, plain orange and ResNets blue."""
    fig = go.Figure()
    depths = [r.depth for r in rows]
    for kind, color in (("plain", PLAIN_COLOR), ("residual", RESIDUAL_COLOR)):
        prefix = "plain" if kind == "plain" else "residual"
        for which, dash in (("train", "solid"), ("test", "dash")):
            values = [getattr(r, f"{prefix}_{which}") for r in rows]
            fig.add_trace(
                go.Scatter(
                    x=depths,
                    y=[None if v is None else 100 * v for v in values],
                    mode="lines+markers",
                    name=(_("{kind}, training error") if which == "train" else _("{kind}, test error")).format(
                        kind=KIND_TITLES[kind]
                    ),
                    line=dict(color=color, width=3 if which == "train" else 2, dash=dash),
                    marker=dict(size=8),
                )
            )
    style_axes(fig, hovermode="x unified", title=_("Final error by depth"), height=380)
    fig.update_xaxes(title=_("depth (weighted layers)"), tickvals=depths, showline=True, linecolor=NEUTRAL_COLOR)
    fig.update_yaxes(
        title=_("error after the last epoch (%)"), rangemode="tozero", showline=True, linecolor=NEUTRAL_COLOR
    )
    return fig


def depth_records(rows: Sequence[DepthRow]) -> list[dict]:
    """The depth table's rows for a table widget: error in percent, None (shown "—") before an epoch."""
    from .describe import percent_cell

    return [  # headers in the run's language: the table and its CSV download are read, not parsed
        {
            _("depth"): r.depth,
            _("plain train error %"): percent_cell(r.plain_train),
            _("plain test error %"): percent_cell(r.plain_test),
            _("ResNet train error %"): percent_cell(r.residual_train),
            _("ResNet test error %"): percent_cell(r.residual_test),
        }
        for r in rows
    ]


def format_depth_table(rows: Sequence[DepthRow], num_classes: int = 10) -> str:
    """The command line's table of final errors by depth (%), then the verdict by the page's rules."""

    lines = [_("depth  plain train %  plain test %  ResNet train %  ResNet test %")]
    lines += [
        f"{r.depth:>5}  {percent_points(r.plain_train):>13}  {percent_points(r.plain_test):>12}  "
        f"{percent_points(r.residual_train):>14}  {percent_points(r.residual_test):>13}"
        for r in rows
    ]
    missing = verdict_missing(rows)
    withheld = verdict_withheld(rows, num_classes)
    if missing:  # a verdict only on runs that completed the same recipe ...
        lines.append(_("no verdict yet: {missing}").format(missing=joined(missing)))
    elif withheld:  # ... and learned something
        lines.append(_("no verdict: {withheld}").format(withheld=withheld))
    lines += [_cli_line(v) for v in degradation_verdicts(rows, num_classes)]
    return "\n".join(lines)


_CLI_PREFIX = Messages({"agrees": N_("as in the paper: "), "too_close": N_("too close to call: ")})


def _cli_line(verdict: Verdict) -> str:
    return _CLI_PREFIX.get(verdict.kind, "NOT as in the paper: ") + verdict.text


def format_sweep_table(rows: Sequence[SweepRow]) -> str:
    """A sweep's table (error %, mean ± std over seeds), then the degradation verdict on the means."""
    header = ("depth", _("plain train %"), _("plain test %"), _("ResNet train %"), _("ResNet test %"))
    cells = [
        (
            str(r.depth),
            *(percent_spread(s.mean, s.std) for s in (r.plain_train, r.plain_test, r.residual_train, r.residual_test)),
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    means = [
        experiments.DepthRow(
            r.depth, r.plain_train.mean, r.plain_test.mean, r.residual_train.mean, r.residual_test.mean
        )
        for r in rows
    ]
    withheld = verdict_withheld(means)  # the Degradation page's rule
    if withheld:
        lines.append(_("no verdict: {withheld} (--epochs, --train-size)").format(withheld=withheld))
        return "\n".join(lines)
    lines += [_cli_line(v) for v in degradation_verdicts(means)]
    return "\n".join(lines)
