"""ui/warm.py: what a server prepares at its first visit, in the background, so that pages' first opens find it
done — the pages' own cached functions, filled ahead (a page opened afterwards computes none of it) — and the
browser's chart library (plotly.js's 2-D bundle in static/)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import charts, drawings
from test_pages import run_page

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path, shapes_root, monkeypatch):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    yield tmp_path
    from ui.runs import release_runner

    release_runner(str((tmp_path / "runs").resolve()))


def counting(monkeypatch, module, name: str) -> list:
    """Replace `module.name` with itself, counted: the calls' first arguments."""
    calls, real = [], getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args[0] if args else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_architecture_page_opens_on_diagrams_drawn_ahead(env, monkeypatch, lang):
    from resnet_core.presentation import diagram
    from resnet_core.presentation.i18n import language
    from ui.views import architecture

    architecture.cached_diagram.__wrapped__.clear()  # under its spinner
    drawn = counting(monkeypatch, diagram, "architecture_figure")
    architecture.warm()
    assert len(drawn) == 4  # ResNet-20 and plain-20, in English and in Chinese
    assert language() == "en"  # the caller's language as it was (the tests after this one speak English)
    drawn.clear()
    at = run_page("architecture", dict(lang=lang))
    assert at.title[0].value == ("Architecture" if lang == "en" else "网络结构")
    assert len(drawings(at)) == 2 and drawn == []  # both diagrams were the warm-up's


def test_the_datasets_pages_check_and_probe_are_loaded_ahead(env, monkeypatch):
    from resnet_core.studies import experiments
    from ui import data

    data.shapes.__wrapped__.clear()  # under its spinner
    data.dataset_problem_here.clear()
    data.warm()
    checked = counting(monkeypatch, experiments, "load_dataset")
    loaded = counting(monkeypatch, data, "load_dataset")
    run_page("degradation")  # its dataset picker checks every dataset
    run_page("gradients")  # its probe batch comes from the embedded set
    assert checked == [] and loaded == []


def test_the_chart_library_is_plotly_js_2d_bundle_for_the_figures_plotly_writes():
    """static/ holds plotly.js's cartesian bundle of the version the Python package writes its figures' JSON for,
    and every trace the app makes is in it — but the 3-D surface, which goes to Streamlit's own chart element."""
    from plotly.offline import get_plotlyjs_version

    from ui.views.render import CARTESIAN_TRACES, CHART_LIBRARY

    head = (ROOT / "static" / CHART_LIBRARY).read_text()[:200]
    assert f"plotly.js (cartesian - minified) v{get_plotlyjs_version()}" in head
    made = {
        name.lower()
        for folder in ("resnet_core", "ui")
        for path in (ROOT / folder).rglob("*.py")
        for name in re.findall(r"\bgo\.([A-Z][A-Za-z0-9]*)\(", path.read_text())
        if name not in ("Figure",)
    }
    assert "scatter" in made and made - CARTESIAN_TRACES == {"surface"}


def test_each_language_but_english_has_plotly_js_words_beside_the_library():
    """The chart element loads static/plotly-locale-<name>.js for a language (ui/views/render.CHART_LOCALES):
    every language the app speaks but English has one, and each file registers the locale it is named for."""
    from resnet_core.presentation.i18n import DEFAULT, LANGUAGES
    from ui.views.render import CHART_LOCALES

    assert set(CHART_LOCALES) == set(LANGUAGES) - {DEFAULT}
    for name in CHART_LOCALES.values():
        text = (ROOT / "static" / f"plotly-locale-{name.lower()}.js").read_text()
        assert f'moduleType:"locale",name:"{name}"' in text and "Plotly.register(locale)" in text


def test_the_lessons_steps_open_on_what_was_computed_ahead(env, monkeypatch, fashion_files):
    """Step 7's gradient lines of the reference pair, step 8's Table 6 nets (ResNet-1202 among them), step 9's
    diagrams (the quick preset's deepest net, while the visitor has no experiment)."""
    import resnet_core as rc
    from resnet_core.presentation.i18n import language
    from resnet_core.studies.reference import DEFAULT_BUNDLE
    from ui.reference import _reference_for
    from ui.views import lesson, why

    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(DEFAULT_BUNDLE))
    monkeypatch.setenv("XDG_CACHE_HOME", str(env / "cache"))
    _reference_for.clear()
    lesson._table6_counts.__wrapped__.clear()  # under its spinner
    why._LINES.clear()
    from resnet_core.presentation import diagram
    from ui.views import architecture

    architecture.cached_diagram.__wrapped__.clear()  # under its spinner
    drawn = counting(monkeypatch, diagram, "architecture_figure")
    lines = counting(monkeypatch, why, "line_gradients")
    built = counting(monkeypatch, rc, "build_net")
    try:
        lesson.warm()
        assert language() == "en"
        assert len(lines) == 2 and {spec.depth for spec in built} >= {110, 1202}
        assert len(drawn) == 4  # ResNet-44 and plain-44, in English and in Chinese
        lines.clear()
        built.clear()
        drawn.clear()
        at = run_page("lesson", dict(step="7", present="1"))
        assert len(charts(at)) == 5  # lesion (2), landscape, the line and its autocorrelation
        run_page("lesson", dict(step="8", present="1"))
        at = run_page("lesson", dict(step="9", present="1"))
        assert len(drawings(at)) == 2  # no experiment of the visitor's: the nets to train, drawn
        assert lines == [] and built == [] and drawn == []
    finally:
        _reference_for.clear()


def test_degradation_and_responses_open_on_what_was_computed_ahead(env, monkeypatch, fashion_files):
    """Degradation: each preset's nets counted (their times in the preset picker); Responses: the layer tables of
    the reference runs it opens on. Both views built once in each language (plotly's figure code loads its parts
    on first use)."""
    import resnet_core as rc
    from resnet_core.model import net
    from resnet_core.presentation.i18n import language
    from resnet_core.studies.reference import DEFAULT_BUNDLE
    from ui.reference import _reference_for
    from ui.views import degradation, responses

    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(DEFAULT_BUNDLE))
    _reference_for.clear()
    degradation._macs.clear()
    net.layout_of.cache_clear()
    counted = counting(monkeypatch, rc, "summarize")
    tables = counting(monkeypatch, net, "_layer_table")
    views = counting(monkeypatch, responses, "responses_view")
    try:
        degradation.warm()
        responses.warm()
        assert language() == "en"
        assert len(counted) >= 2 and len(tables) >= 2 and len(views) == 2  # Responses' view: English, Chinese
        counted.clear()
        tables.clear()
        at = run_page("degradation")
        assert not at.exception and len(charts(at)) == 3  # the reference experiment's Fig. 6
        at = run_page("responses")
        assert not at.exception and len(charts(at)) == 1
        assert counted == [] and tables == []
    finally:
        _reference_for.clear()


def test_each_languages_words_and_number_symbols_are_loaded_ahead():
    """The first chart a server draws reads plotly's separators from Babel's CLDR data (a pickle per locale,
    loaded once per process: babel.localedata keeps them in `_cache`). In a process of its own, as a server's."""
    script = (
        "from babel import localedata; from resnet_core.presentation.i18n import LANGUAGES, LOCALES, catalog; "
        "from ui import language; language.warm(); "
        "print(set(LOCALES.values()) <= set(localedata._cache), catalog.cache_info().currsize == len(LANGUAGES))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_the_modules_plotly_looks_up_without_importing_are_whole_before_the_warm_up_starts():
    """plotly asks sys.modules whether pandas and PIL are loaded (no import lock): a chart drawn while the
    warm-up thread was still importing pandas failed with "partially initialized module 'pandas'". The page's
    thread imports both before starting the warm-up. In a process of its own, as a server's."""
    script = (
        "import sys; from ui.warm import warm_imports; warm_imports(); "
        "print(hasattr(sys.modules.get('pandas'), 'Series'), hasattr(sys.modules.get('PIL.Image'), 'Image'))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "True"], done.stderr
