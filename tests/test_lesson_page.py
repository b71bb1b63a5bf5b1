"""The lesson page through AppTest: predict first, then the evidence and its verdict; links between steps;
the presentation view; bad links. The reference bundle shipped in assets/reference is the evidence."""

from urllib.parse import parse_qs

import pytest
from helpers import SHAPES_BUNDLE, charts, drawings
from test_pages import run_page

from resnet_core.presentation import lesson
from resnet_core.studies.reference import DEFAULT_BUNDLE

ALL = range(1, lesson.step_count() + 1)


@pytest.fixture(autouse=True)
def reference(tmp_path, monkeypatch):
    """No runs of the user's; the shipped reference runs on, copied to a cache of this test's own."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("RESNET_LAB_RUNS", str(runs))
    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(DEFAULT_BUNDLE))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from ui.reference import _reference_for

    _reference_for.clear()
    yield
    _reference_for.clear()
    from ui.runs import release_runner

    release_runner(str(runs.resolve()))


def shown(at) -> int:
    """The figures shown: charts and inline drawings (the Architecture diagrams of steps 4 and 9)."""
    return len(charts(at)) + len(drawings(at))


def verdicts(at) -> list[str]:
    """Every alert on the page: the views' verdicts and the judgement of the learner's answer."""
    return [e.value for kind in ("success", "warning", "info", "error") for e in getattr(at, kind)]


def links(at) -> list:
    return at.get("page_link")


def commit(at, number: int, value: str):
    at.radio(key=f"lesson.choice.{number}").set_value(value).run()
    at.button(key=f"lesson.commit.{number}").click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("number", ALL)
def test_every_step_hides_its_evidence_until_the_learner_commits_then_shows_view_and_verdict(number):
    step = lesson.step(number)
    at = run_page("lesson", {"step": str(number)})
    assert at.header[0].value == step.title
    if step.question is not None:
        assert shown(at) == 0  # predict first: nothing revealed yet
        assert at.button(key=f"lesson.commit.{number}").disabled  # no answer chosen yet
        wrong = next(c.value for c in step.question.choices if c.value != step.question.answer)
        commit(at, number, wrong)
        assert any(v.startswith("Not what the paper found") for v in (e.value for e in at.error))
        assert at.radio(key=f"lesson.choice.{number}").disabled  # the answer is kept as committed
    assert shown(at) >= 1, step.slug
    judged = 1 if step.question is not None else 0
    assert len(verdicts(at)) > judged, (step.slug, verdicts(at))  # the views' own verdicts too


def test_the_right_answer_is_said_right():
    at = commit(run_page("lesson", {"step": "8"}), 8, lesson.step(8).question.answer)
    assert at.success[0].value.startswith("Right.")


def test_step_8_counts_table_6_here_and_says_what_this_machine_can_show():
    at = commit(run_page("lesson", {"step": "8"}), 8, "higher")
    texts = verdicts(at)
    assert any("1,727,962" in t and "19,421,274" in t for t in texts), texts
    table = at.table[0].value
    assert list(table.iloc[:, 0]) == ["ResNet-110", "ResNet-1202"]
    assert any("sweep --depths 110,1202" in c.value for c in at.caption)


def test_steps_link_to_their_neighbours_keeping_present_and_language():
    at = run_page("lesson", {"step": "1", "lang": "zh", "depth": "56"})
    forward = [link.proto for link in links(at) if link.proto.page == "lesson"]
    assert len(forward) == 1 and forward[0].label.startswith("下一步：")  # ?lang=zh: the link speaks Chinese
    assert parse_qs(forward[0].query_string) == {"step": ["2"], "lang": ["zh"]}  # not the other page's depth
    at = run_page("lesson", {"step": "9"})
    own = [link.proto.label for link in links(at) if link.proto.page == "lesson"]
    assert any(label.startswith("Previous:") for label in own) and "Back to step 1" in own


def test_presenting_hides_the_controls_and_shows_claim_figure_and_verdict():
    at = run_page("lesson", {"step": "8", "present": "1"})
    assert not at.radio and not at.button and not at.get("segmented_control")
    assert shown(at) == 1
    assert any("Ask the room first" in i.value for i in at.info)
    assert any("1,727,962" in t for t in verdicts(at))
    assert not any("Open this in the tool" in link.proto.label for link in links(at))


def test_a_bad_step_in_the_link_falls_back_to_step_1_with_a_message():
    at = run_page("lesson", {"step": "12"})
    assert "no step 12" in at.warning[0].value
    assert at.header[0].value == lesson.step(1).title


def test_the_tool_link_reproduces_the_view_of_the_step():
    at = commit(run_page("lesson", {"step": "8"}), 8, "higher")
    tool = [link for link in links(at) if "Open this in the tool" in link.proto.label]
    assert len(tool) == 1 and tool[0].proto.page == "architecture"
    assert parse_qs(tool[0].proto.query_string) == {"depth": ["1202"]}


def test_home_leads_into_the_lesson_first_and_its_why_links_open_their_tab():
    at = run_page("home")
    targets = [(link.proto.page, parse_qs(link.proto.query_string)) for link in at.get("page_link")]
    assert targets[0] == ("lesson", {})
    why = {
        link.proto.label.split("**")[1]: parse_qs(link.proto.query_string)
        for link in at.get("page_link")
        if link.proto.page == "why"
    }
    assert why == {
        "Lesion study": {"tab": ["lesion"]},
        "Loss landscape": {"tab": ["landscape"]},
        "Shattered gradients": {"tab": ["shattered"]},
    }


def test_step_1_on_the_shipped_runs_shows_degradation_by_nets_that_learned():
    """The shipped Fashion-MNIST runs: plain-56 learns, far below chance, and still ends above plain-20."""
    at = run_page("lesson", {"step": "1", "present": "1"})
    assert not any("did not learn" in w.value for w in at.warning)
    assert not any(i.value == lesson.step(1).if_untrained for i in at.info)
    assert any("plain" in s.value and "higher training error" in s.value for s in at.success), verdicts(at)


def test_step_1_says_when_the_deep_plain_net_did_not_learn_and_what_that_means(monkeypatch):
    """The bundle the app shipped on `shapes` (tests/helpers.SHAPES_BUNDLE), where plain-56 never learned."""
    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(SHAPES_BUNDLE))
    at = run_page("lesson", {"step": "1", "present": "1"})
    untrained = [w.value for w in at.warning if "did not learn at all" in w.value]
    assert len(untrained) == 1 and untrained[0].startswith("plain-56") and "85.4%" in untrained[0]
    assert any(i.value == lesson.step(1).if_untrained for i in at.info)
    at = run_page("lesson", {"step": "5", "present": "1"})  # both ResNets learned: no such note
    assert not any("did not learn" in w.value for w in at.warning)
    assert not any(i.value == lesson.step(5).if_untrained for i in at.info)


def test_without_reference_runs_or_own_runs_a_step_says_what_to_do(monkeypatch):
    monkeypatch.setenv("RESNET_LAB_REFERENCE", "off")
    at = run_page("lesson", {"step": "1", "present": "1"})
    assert any("No Fig. 6 experiment to show" in i.value for i in at.info)
    assert any("no reference runs" in c.value for c in at.caption)


def test_choosing_my_runs_without_any_says_so_and_keeps_the_reference_evidence():
    at = run_page("lesson", {"step": "5", "present": "1", "src": "mine"})
    assert any(c.value == lesson.UI["no_mine"] for c in at.caption)
    assert any("ResNet-56" in s.value for s in at.success)  # the reference runs' verdict
