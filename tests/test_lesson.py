"""The lesson's step records (resnet_core/presentation/lesson.py): complete, linked, and their computed
findings change with the numbers."""

import re
import string

import pytest

import resnet_core as rc
from resnet_core.presentation import lesson
from resnet_core.presentation.lesson import STEPS, UI
from ui.navigation import PAGES
from ui.views.lesson import VIEWS


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_nine_steps_each_with_a_claim_evidence_and_a_tool_link():
    assert len(STEPS) == 9
    assert len({s.slug for s in STEPS}) == 9
    for step in STEPS:
        assert step.title and step.claim, step.slug
        assert len(re.split(r"(?<=[.?!])\s+(?=[A-Z])", step.claim)) <= 2, step.slug  # one or two sentences
        assert step.evidence, step.slug
        for item in step.evidence:
            assert item.view in VIEWS, (step.slug, item.view)
            assert item.look_at, (step.slug, item.view)
            assert item.tool.page in PAGES and item.tool.page not in ("home", "lesson"), step.slug
            assert item.tool.label


def test_questions_have_their_answer_among_the_choices_and_say_why():
    asked = [s for s in STEPS if s.question]
    assert len(asked) >= 7  # the steps where predicting teaches
    for step in asked:
        q = step.question
        values = [c.value for c in q.choices]
        assert len(values) == len(set(values)) >= 2, step.slug
        assert q.answer in values, step.slug
        assert q.prompt.endswith(("?", "…")) and q.why, step.slug


def test_the_steps_follow_the_issue_s_order():
    views = [[e.view for e in s.evidence] for s in STEPS]
    assert views[0] == ["fig6"] and STEPS[0].evidence[0].params["kind"] == "plain"
    assert views[1] == ["final_errors"]
    assert views[2] == ["init_gradients", "init_gradients"]
    norms = [(e.params["norm"], e.params["activation"]) for e in STEPS[2].evidence]
    assert norms == [("batch", "relu"), ("none", "sigmoid")]  # BatchNorm: no; sigmoid without it: yes
    assert set(views[3]) == {"block", "twins"}
    assert views[4] == ["fig6"] and STEPS[4].evidence[0].params["kind"] == "residual"
    assert views[5] == ["responses"]
    assert views[6] == ["lesion", "landscape", "shattered"]
    assert views[7] == ["table6"]
    assert views[8] == ["your_experiment"]


def test_judge_says_right_or_wrong_with_the_reason():
    q = lesson.step(1).question
    right, text = lesson.judge(q, q.answer)
    assert right and text.startswith("Right") and q.why in text
    wrong = next(c.value for c in q.choices if c.value != q.answer)
    right, text = lesson.judge(q, wrong)
    assert not right and q.choice(q.answer).label in text and q.why in text


def test_step_links_round_trip_and_keep_present_and_language():
    for number in range(1, len(STEPS) + 1):
        query = lesson.step_query(number, {"present": "1", "lang": "zh", "depth": "56", "step": "3"})
        assert query == {"present": "1", "lang": "zh", "step": str(number)}
        assert lesson.parse_step(query["step"]) == number
    assert lesson.parse_step(None) == 1
    for bad in ("0", "10", "two", "-1"):
        with pytest.raises(ValueError):
            lesson.parse_step(bad)


def test_tool_links_fill_the_evidence_s_runs_and_drop_what_is_unknown():
    context = {"experiment": "reference", "pair": "ref-resnet-20,ref-plain-20", "runs": "a,b"}
    fig6 = lesson.step(1).evidence[0].tool
    assert lesson.tool_query(fig6, context) == {"exp": "reference"}
    assert lesson.tool_query(fig6, {}) == {}
    landscape = lesson.step(7).evidence[1].tool
    assert lesson.tool_query(landscape, context) == {"tab": "landscape", "pair": "ref-resnet-20,ref-plain-20"}
    assert lesson.tool_query(landscape, {}) == {"tab": "landscape"}
    sigmoid = lesson.step(3).evidence[1].tool
    assert lesson.tool_query(sigmoid, {}) == {"depth": "56", "norm": "none", "activation": "sigmoid"}


def test_every_user_string_is_whole_with_named_placeholders():
    """One string per sentence for translation: no positional `{}` and no empty entries."""
    texts = list(UI.values()) + list(lesson.TABLE6_TEXT.values()) + list(lesson.TWINS_TEXT.values())
    texts += list(lesson.YOURS_TEXT.values())
    for step in STEPS:
        texts += [step.title, step.claim, step.if_untrained] + [e.look_at for e in step.evidence]
        if step.question:
            texts += [step.question.prompt, step.question.why] + [c.label for c in step.question.choices]
    for text in texts:
        assert "" not in placeholders(text), text
        assert text == text.strip(), text


def test_table6_counts_agree_with_the_paper_and_the_verdict_follows_the_numbers():
    counts = {110: 1_727_962, 1202: 19_421_274}
    view = lesson.table6_view(counts, {110: "about 3.5 h", 1202: "about 2.1 days"}, "CPU", 3)
    assert view.verdicts[0].kind == "agrees"
    assert "1,727,962" in view.verdicts[0].text and "19,421,274" in view.verdicts[0].text
    assert "about 2.1 days" in view.notes[0] and "sweep --depths 110,1202" in view.notes[0]
    assert list(view.figure.data[0].y) == pytest.approx([1.727962, 19.421274])
    assert list(view.figure.data[1].y) == [6.43, 7.93]
    off = lesson.table6_view({110: 2_500_000, 1202: 19_421_274}, {110: None, 1202: None}, "CPU", 0)
    assert off.verdicts[0].kind == "disagrees"
    assert "no run has trained" in off.notes[0].lower()


def test_table6_counts_are_those_of_the_nets_built_here():
    assert round(rc.summarize(rc.NetSpec(depth=110)).params / 1e6, 1) == lesson.TABLE6[110]["params_m"]


def test_twins_verdict_counts_parameters():
    same = lesson.twins_verdict("ResNet-20", "plain-20", 269_722, 269_722)
    assert same.kind == "agrees" and "269,722" in same.text
    differ = lesson.twins_verdict("ResNet-20", "plain-20", 278_000, 269_722)
    assert differ.kind == "disagrees" and "278,000" in differ.text


def test_the_table6_step_s_multiply_adds_are_those_a_forward_pass_counts():
    from ui.views.lesson import cifar_macs

    for depth in (8, 20, 110):
        assert cifar_macs(depth) == rc.count_flops(rc.build_net(rc.NetSpec(depth=depth))), depth
