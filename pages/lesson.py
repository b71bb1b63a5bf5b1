"""The lesson: one claim of He et al. 2015 per step (/lesson?step=N), predict first, then the tool's own view
and its verdict. The steps are data (resnet_core/presentation/lesson.py); this page walks them."""

import streamlit as st

from resnet_core.presentation import lesson
from resnet_core.presentation.i18n import _
from resnet_core.presentation.lesson import UI
from ui.language import use_language
from ui.navigation import leave_pages_directory_mode, page
from ui.threads import share_cpu_with_training
from ui.view_state import Param, ViewState, presenting
from ui.views.lesson import (
    MINE,
    REFERENCE,
    draw,
    evidence,
    not_learned,
    predict_first,
    show_evidence,
    step_notes,
    uses_runs,
)
from ui.views.render import show_verdict

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py
share_cpu_with_training()  # the gradient views run torch beside training runs: see ui/threads.py

STATE = ViewState("lesson", [Param("src", REFERENCE, choices=(REFERENCE, MINE))])
STATE.load()
present = presenting()

# The step is read from the URL on every run (not kept in a widget): the previous / next links change it.
raw = st.query_params.get("step")
try:
    number = lesson.parse_step(raw)
except ValueError:
    st.warning(UI["bad_step"].format(raw=raw))
    number = 1
# Set even when the server already has it: a page_link to this same page changes the server's query
# parameters but leaves the address bar on the step before, which a copied link would then name.
if raw is not None:
    st.query_params["step"] = str(number)
step = lesson.step(number)
total = lesson.step_count()
kept = {name: st.query_params[name] for name in lesson.CARRIED if name in st.query_params}
lang = {"lang": kept["lang"]} if "lang" in kept else {}


def step_link(target: int, label: str, icon: str) -> None:
    st.page_link(page("lesson"), label=label, icon=icon, query_params=lesson.step_query(target, kept))


st.title(UI["page_title"])
if not present:
    st.caption(UI["intro"])
st.progress(number / total, text=UI["step_of"].format(number=number, total=total))
st.header(_(step.title))
st.markdown(_(step.claim))

if not present and uses_runs(step):
    st.segmented_control(
        UI["evidence_from"],
        (REFERENCE, MINE),
        format_func={REFERENCE: UI["from_reference"], MINE: UI["from_mine"]}.get,
        key=STATE.key("src"),
        help=UI["from_help"],
    )
    if st.session_state.get(STATE.key("src")) is None:  # a segmented control can be cleared: back to the default
        STATE.set("src", REFERENCE)
    STATE.save()

# Predict first: the evidence appears once the learner has committed to an answer (Hohman et al. 2020).
revealed = predict_first(step.question, number, present)

if revealed:
    found = evidence(st.session_state.get(STATE.key("src"), REFERENCE))
    st.divider()
    flagged = False  # whether a view's own verdict already names a net that did not learn
    for i, item in enumerate(step.evidence):
        for j, view in enumerate(draw(item, found)):
            show_evidence(view, key=f"lesson.{number}.{i}.{j}")
            flagged = flagged or any(v.kind == "untrained" for v in view.verdicts)
        st.markdown(UI["look_at"].format(text=_(item.look_at)))
        if not present:
            st.page_link(
                page(item.tool.page),
                label=UI["open_in_tool"].format(label=_(item.tool.label)),
                icon=":material/open_in_new:",
                query_params={**lesson.tool_query(item.tool, found.placeholders()), **lang},
            )
    failed = not_learned(step.evidence, found)  # what the step's claim means when a net shown never learned
    for verdict in [] if flagged else failed:
        show_verdict(verdict)
    if (failed or flagged) and step.if_untrained:
        st.info(_(step.if_untrained), icon=":material/lightbulb:")
    for note in step_notes(step, found):
        st.caption(note)
if step.source:
    st.caption(UI["source"].format(source=_(step.source)))

st.divider()
back, forward = st.columns(2)
with back:
    if number > 1:
        step_link(number - 1, UI["previous"].format(title=_(lesson.step(number - 1).title)), ":material/arrow_back:")
with forward:
    if number < total:
        step_link(number + 1, UI["next"].format(title=_(lesson.step(number + 1).title)), ":material/arrow_forward:")
    else:
        step_link(1, UI["back_to_start"], ":material/restart_alt:")
