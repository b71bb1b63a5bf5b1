"""Issue 15.18: offline polish that AppTest can see — the favicon is a file the app serves itself (an emoji
or ":material/…:" icon made the browser fetch it from a font service, which fails offline)."""

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_the_favicon_is_a_local_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    seen = {}
    real = st.set_page_config

    def record(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(st, "set_page_config", record)
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert not at.exception
    finally:
        from ui.runs import release_runner

        release_runner(str((tmp_path / "runs").resolve()))
    icon = seen["page_icon"]
    assert isinstance(icon, str) and not icon.startswith(":") and Path(icon).is_file(), icon
    assert Path(icon).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["train", "degradation"])
def test_tables_show_a_dash_for_a_missing_value_in_the_browser_too(name, tmp_path, monkeypatch):
    """Issue 15.18: a run without a finished epoch showed "None" in the browser: the Styler's na_rep reaches
    the Arrow data (what AppTest reads) but a data grid draws missing values with its placeholder; a static
    table (Degradation's) draws the display values (seen in chromium: "—")."""
    import resnet_core as rc
    from resnet_core.store.run_store import RunStore

    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    store = RunStore(tmp_path / "runs")
    for skip in (False, True):
        store.create(rc.NetSpec(depth=20, skip=skip), {"experiment": "e1", "epochs": 2}, status="stopped")
    try:
        at = AppTest.from_file(str(Path(APP).parent / "pages" / f"{name}.py"), default_timeout=60).run()
        assert not at.exception
        if name == "train":  # the runs table: a data grid, which draws a missing value with its placeholder
            (table,) = at.dataframe
            assert b"None" not in table.proto.arrow_data.styler.display_values
            assert table.proto.placeholder == "—"  # what the browser shows for the missing errors
        else:  # a view's static table (ui/views/render.py), which draws the Styler's display values as they are
            (table,) = at.table
            shown = table.proto.arrow_data.styler.display_values
            assert "—".encode() in shown and b"None" not in shown
    finally:
        from ui.runs import release_runner

        release_runner(str((tmp_path / "runs").resolve()))
