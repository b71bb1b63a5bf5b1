"""Issue 24 in a real browser: every page and every lesson step opened with `?lang=zh` says nothing a
Chinese reader cannot read (no visible English sentence: names like ResNet-56, numbers, units and run
names allowed), with nothing cut at 1400 and 1024 px (screenshots in test-artifacts/screenshots/zh-*.png,
to be looked at); and switching the language keeps every control's value.

One browser page walks everything on the session's reference server (conftest.reference_app_url: the
shipped runs, so figures and verdicts are drawn), so the whole walk costs one server it shares with the
lesson's browser test and a few seconds a page."""

from __future__ import annotations

import json
import re

import pytest
from helpers import CHART
from test_browser_narrow import CUT

from conftest import SCREENSHOTS, screenshot, wait_for_app
from resnet_core.presentation import lesson
from ui.navigation import PAGES

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z]{2,}")
# What may stay as it is in a Chinese page: names of nets, datasets, methods, libraries and units, run ids, the
# device, code and the Markdown / plotly notation that is not prose.
NAMES = re.compile(
    r"ResNet[- ]?\d*|plain-\d+|ref-[\w-]+|[\w-]*\d{6,}[\w-]*|CIFAR-?\d*|ImageNet|Fashion-MNIST|MNIST|shapes|"
    r"Grad-CAM|SmoothGrad|Captum|Integrated Gradients|Saliency|Occlusion|torchvision|PyTorch|Streamlit|NetSpec|"
    r"ReLU|sigmoid|tanh|BatchNorm|BN|SGD|fc|conv|float32|logit|softmax|FLOPs|top-\d|CPU|GPU|CUDA|MPS|cuda|cpu|"
    r"threads?|cores?|MB|px|He et al\.?|Veit|Li|Balduzzi|Wilber|Belongie|Glorot|Bengio|Ioffe|Szegedy|Yang|"
    r"Identity Mappings|python -m resnet_core[^\n]*|--[\w-]+|English|cifar|imagenet|"
    r"relu|reference|PNG|SVG|CSV|GIF|JPEG|WebP|BMP|TIFF|H\(x\)|F\(x\)|et al"
)
DATA_WORDS: frozenset[str] = frozenset()  # class names are shown in the reader's language (spec_words.class_name)
# Each page's first lines (the sidebar, the title) and a lesson step, in Chinese; `?lang=zh` on the URL.
PATHS = ["" if name == "home" else name for name in PAGES]
PATHS += ["why?tab=landscape", "why?tab=shattered"]  # the Why page's other two experiments

# Text of every visible element that holds text, grouped by its block (a paragraph, a heading, a label, a
# button, a chart's text element): a sentence split by bold or a link is judged whole. Material icons are
# drawn from ligature names ("school") and are not text a reader sees.
VISIBLE_TEXT = """() => {
  const blocks = new Map();
  // and the inline drawings' texts, in their elements' shadow roots
  const hosts = [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')];
  const roots = [document.body, ...hosts.map(h => h.shadowRoot).filter(Boolean)];
  const nodes = [];
  for (const root of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode()); ) nodes.push(node);
  }
  const block = 'p, li, h1, h2, h3, h4, h5, h6, label, button, td, th, summary, a, text, ' +
    '[data-testid=stMarkdownContainer], [data-testid=stCaptionContainer], [role=option], [data-testid=stMetricLabel]';
  for (const node of nodes) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    const skip = '[data-testid=stIconMaterial], script, style, noscript, [aria-hidden=true]';
    if (!text || !el || el.closest(skip)) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || style.display === 'none' || (!box.width && !box.height)) continue;
    if (box.right <= 0 || box.bottom <= 0) continue;  // moved off screen (the skip link until focused)
    const owner = el.closest(block) || el;
    blocks.set(owner, (blocks.get(owner) || '') + ' ' + text);
  }
  return [...blocks.values()].map(t => t.replace(/\\s+/g, ' ').trim());
}"""


def english_sentences(texts: list[str], allowed: frozenset[str] = DATA_WORDS) -> list[str]:
    """The texts with no Chinese that hold two or more English words, or one word of four letters or more
    (a label, an axis title): what a Chinese reader could not read. Names (NAMES) and the data's own words
    (`allowed`: the embedded dataset's class names, which the pages show as the data has them) do not count."""
    found = []
    for text in texts:
        if CJK.search(text):
            continue
        rest = NAMES.sub(" ", text)
        words = [w for w in WORD.findall(rest) if w not in allowed]
        if len(words) >= 2 or any(len(w) >= 4 for w in words):
            found.append(text)
    return found


def test_the_check_flags_english_and_lets_names_numbers_and_chinese_pass():
    texts = ["Train a net", "ResNet-56 · 0.85M", "训练 ResNet-56", "plain-20 36.7 %", "input", "x", "circle"]
    assert english_sentences(texts) == ["Train a net", "input", "circle"]  # a class name is said in Chinese too


# Every chart has drawn its SVG (its titles, axes and legend are text to read and to measure).
CHARTS_DRAWN = f"""() => [...document.querySelectorAll('{CHART}')]
  .every(c => c.querySelector('svg.main-svg .xtick, svg.main-svg .gtitle, svg.main-svg text'))"""


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.wait_for_function(CHARTS_DRAWN)
    page.wait_for_timeout(200)


def test_every_page_and_lesson_step_in_chinese(page, reference_app_url):
    url = reference_app_url
    english, cut = {}, {}
    for path in PATHS:
        name = (path or "home").replace("?tab=", "-")
        page.set_viewport_size({"width": 1400, "height": 1000})
        open_page(page, f"{url}/{path}{'&' if '?' in path else '?'}lang=zh")
        assert "lang=zh" in page.url
        if found := english_sentences(page.evaluate(VISIBLE_TEXT)):
            english[name] = found
        for width in (1400, 1024):
            if width != 1400:
                page.set_viewport_size({"width": width, "height": 1000})
                page.wait_for_timeout(500)  # the charts relayout to the new width
            if found := page.evaluate(CUT):
                cut[f"{name}@{width}"] = found
            screenshot(page, f"zh-{name}-{width}")
    page.set_viewport_size({"width": 1400, "height": 1000})
    for number in range(1, lesson.step_count() + 1):
        open_page(page, f"{url}/lesson?step={number}&lang=zh&present=1")  # present: the evidence at once
        assert page.get_by_role("heading", name=re.compile(CJK.pattern)).first.is_visible()
        if found := english_sentences(page.evaluate(VISIBLE_TEXT)):
            english[f"lesson step {number}"] = found
        screenshot(page, f"zh-lesson-step-{number}")
    report = SCREENSHOTS.parent / "zh-english.json"  # what a reader of Chinese met in English, to read whole
    report.write_text(json.dumps({"english": english, "cut": cut}, ensure_ascii=False, indent=1))
    assert not english, english
    assert not cut, cut


def test_switching_the_language_keeps_every_controls_value(page, reference_app_url):
    page.goto(f"{reference_app_url}/architecture?lang=zh")
    wait_for_app(page)
    page.locator("[data-testid=stMain]").get_by_text("32", exact=True).first.click()  # a depth the paper trains
    wait_for_app(page)
    page.get_by_text("跳跃连接", exact=True).click()  # the skip toggle, by its Chinese label
    wait_for_app(page)
    assert page.locator("h3", has_text="plain-32").is_visible()
    assert "depth=32" in page.url and "skip=0" in page.url
    sidebar = page.locator("[data-testid=stSidebar]")
    for language, title in (("English", "Architecture"), ("简体中文", "网络结构")):
        sidebar.get_by_text(language, exact=True).click()
        wait_for_app(page)
        assert page.get_by_role("heading", name=title).first.is_visible()
        assert page.locator("h3", has_text="plain-32").is_visible()  # the depth and the toggle kept their values
        assert "depth=32" in page.url and "skip=0" in page.url
        assert f"lang={'en' if language == 'English' else 'zh'}" in page.url


def test_a_session_opens_in_its_browsers_language(browser, reference_app_url):
    # no ?lang=: the browser's language decides, per session (two visitors of one server, two languages)
    for locale, title in (("zh-CN", "首页"), ("en-US", "Home")):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{reference_app_url}/")
            wait_for_app(page)
            assert page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).is_visible()
            assert ("lang=zh" in page.url) == (locale == "zh-CN")  # a copied link keeps the Chinese
        finally:
            context.close()


def test_switching_the_language_keeps_choices_shown_in_words(page, reference_app_url):
    # choices shown through format_func (the image source) and tabs named in words keep what was chosen
    sidebar = page.locator("[data-testid=stSidebar]")
    page.goto(f"{reference_app_url}/explain?lang=zh")
    wait_for_app(page)
    page.locator("[data-testid=stMain]").get_by_text("示例", exact=True).click()  # the sample images
    wait_for_app(page)
    assert "image=Sample" in page.url
    sidebar.get_by_text("English", exact=True).click()
    wait_for_app(page)
    assert "image=Sample" in page.url
    # still the sample images: their picker (a select box labelled "Sample") is there, not the test images'
    assert page.locator("[data-testid=stSelectbox]", has_text="Sample").first.is_visible()
    assert page.locator("[data-testid=stSelectbox]", has_text="Test image").count() == 0
    page.goto(f"{reference_app_url}/gradients?lang=zh")
    wait_for_app(page)
    page.get_by_role("tab", name="训练过程中").click()
    wait_for_app(page)
    assert "tab=training" in page.url
    sidebar.get_by_text("English", exact=True).click()
    wait_for_app(page)
    assert "tab=training" in page.url
    assert page.get_by_role("tab", name="During training").get_attribute("aria-selected") == "true"


def test_a_charts_mode_bar_speaks_chinese_and_switches_back(page, reference_app_url):
    """plotly.js's own words (its mode bar's tooltips) come from its zh-CN locale (static/), ours from the catalog;
    back in English, English again."""
    titles = "c => [...c.querySelectorAll('.modebar-btn')].map(b => b.getAttribute('data-title'))"
    for language, expected in (
        ("zh", ["下载图表为PNG格式", "缩放", "全屏"]),
        ("en", ["Download plot as a PNG", "Zoom", "Full screen"]),
    ):
        open_page(page, f"{reference_app_url}/gradients?lang={language}")
        chart = page.locator("[role='tabpanel'] .resnet-lab-chart.js-plotly-plot").first
        chart.hover()
        shown = chart.evaluate(titles)
        assert all(title in shown for title in expected), shown
