"""Each page script on its own through Streamlit's AppTest (it cannot run an st.navigation app whole)."""

from pathlib import Path

from helpers import drawings
from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parent.parent / "pages"

TIMEOUT = 120


def run_page(name: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_home_explains_the_idea_and_names_the_device():
    at = run_page("home")
    assert at.title[0].value == "ResNet Lab"
    text = " ".join(m.value for m in at.markdown)
    assert "F(x) + x" in text and "degradation" in text
    assert any("Computing on" in c.value for c in at.caption)


def test_architecture_defaults_to_resnet_20_with_table_6_size():
    at = run_page("architecture")
    assert metric(at, "Parameters") == "0.27M"
    assert metric(at, "Weighted layers") == "20"
    assert any("ResNet-20" in m.value for m in at.markdown)
    assert len(drawings(at)) == 2  # the net and its twin
    stages = at.table[0].value
    assert list(stages["part"]) == ["stem", "stage1", "stage2", "stage3", "head"]


def test_architecture_depth_skip_and_block_controls_change_the_net():
    at = run_page("architecture")
    at.select_slider(key="arch.depth.basic.cifar").set_value(56).run()
    assert metric(at, "Parameters") == "0.85M"
    at.toggle(key="arch.skip").set_value(False).run()
    assert not at.exception
    assert any("plain-56" in m.value for m in at.markdown)
    assert at.query_params["skip"] in ("0", ["0"]) and at.query_params["depth"] in ("56", ["56"])
    # Bottleneck blocks need 9n+2 layers: 56 snaps to the nearest valid depth, 56.
    at.selectbox(key="arch.block").set_value("bottleneck").run()
    assert not at.exception
    assert metric(at, "Weighted layers") == "56"
    at.selectbox(key="arch.stem").set_value("imagenet").run()
    assert not at.exception
    assert metric(at, "Weighted layers") in {"50", "101", "152"}


def test_architecture_reads_the_net_from_the_link():
    at = run_page("architecture", {"depth": "110", "shortcut": "B"})
    assert metric(at, "Weighted layers") == "110"
    assert any("projection shortcuts add" in c.value for c in at.caption)


def test_architecture_bad_link_warns_and_falls_back():
    at = run_page("architecture", {"depth": "21"})
    assert "20, 26" in at.warning[0].value
    assert metric(at, "Weighted layers") == "20"


def test_a_chinese_bad_link_warns_in_chinese_with_its_numbers():
    at = run_page("architecture", {"depth": "21", "lang": "zh"})
    warning = at.warning[0].value
    assert warning.startswith("链接中的网络设置无效（深度 21 不符合") and "最接近的深度：20, 26" in warning
    assert "nearest" not in warning


def test_architecture_handles_1202_layers():
    at = run_page("architecture", {"depth": "1202"})
    assert metric(at, "Parameters") == "19.4M"


def test_every_page_leaves_the_pages_directory_mode_before_anything_else():
    """A fresh server's first request for a page runs that page alone (ui/navigation.py): its first statement
    after the imports must end that mode, or the page is drawn without the app's navigation and sidebar. The
    browser test opens two pages that way; this reads it from every page's code."""
    import ast

    from ui.navigation import PAGES, PAGES_DIR

    for name in PAGES:
        tree = ast.parse((PAGES_DIR / f"{name}.py").read_text())
        body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        first = body[0]
        assert (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Call)
            and getattr(first.value.func, "id", None) == "leave_pages_directory_mode"
        ), f"pages/{name}.py: {ast.unparse(first)}"
