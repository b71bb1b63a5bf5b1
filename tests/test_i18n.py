"""The message catalog: every message of the code has a Chinese entry, with the same placeholders, and the
catalog is not stale against the code (re-extracted here, as `make messages` does); `_()` speaks the run's
language and English when none is set (the CLI)."""

from __future__ import annotations

import ast
import base64
import html
import re
import string
import threading
import unicodedata
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from resnet_core.presentation import i18n
from resnet_core.presentation.i18n import _, ngettext, set_language

ROOT = Path(__file__).resolve().parent.parent
PO = i18n.po_path("zh")
CJK = re.compile(r"[\u3400-\u9fff]")
# printf-style placeholders, for a message that uses them (`%(name)s`, `%d`); `%%` is a literal percent sign.
# No space flag: "7.93 % for" is a percentage in a sentence, not "% f".
PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale="zh")


def placeholders(text: str) -> list[str]:
    """The named/positional fields `str.format` fills, and printf-style ones, sorted: what a translation
    must keep, no more and no fewer."""
    fields = []
    try:
        for _literal, name, spec, conversion in string.Formatter().parse(text):
            if name is not None:
                fields.append(
                    "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
                )
    except ValueError:  # not a format string (a lone brace): compare the printf fields only
        pass
    fields += PRINTF.findall(text.replace("%%", ""))
    return sorted(fields)


def forms(message: Message) -> tuple[list[str], list[str]]:
    ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
    strings = list(message.string) if isinstance(message.string, tuple | list) else [message.string]
    return ids, strings


def problems(catalog: Catalog) -> list[str]:
    """What is wrong with a catalog: untranslated or fuzzy entries, lost or added placeholders."""
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids, strings = forms(message)
        if message.fuzzy:
            found.append(f"fuzzy (check it, then drop the flag): {ids[0]!r}")
        if not all(strings):
            found.append(f"no Chinese: {ids[0]!r}")
            continue
        # a plural message: each Chinese form must hold the plural msgid's placeholders (Chinese has one form)
        expected = placeholders(ids[-1])
        for text in strings:
            got = placeholders(text)
            if got != expected:
                found.append(f"placeholders {got} instead of {expected}: {ids[0]!r} -> {text!r}")
    return found


def extract(tmp_path: Path) -> Catalog:
    """The catalog template as `make messages` extracts it from the code now."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "--no-location", "-o", str(pot), "."]
    )
    with pot.open("rb") as f:
        return read_po(f)


def test_the_catalog_is_up_to_date_with_the_code(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = {m.id if isinstance(m.id, str) else tuple(m.id) for m in extract(tmp_path) if m.id}
    po = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read(PO) if m.id}
    missing, gone = code - po, po - code
    assert not missing, f"messages in the code but not in {PO.name} (run `make messages`): {sorted(map(str, missing))}"
    assert not gone, f"messages in {PO.name} the code no longer has (run `make messages`): {sorted(map(str, gone))}"


def test_every_message_has_chinese_with_the_same_placeholders():
    found = problems(read(PO))
    assert not found, "\n".join(found)


def test_the_check_catches_a_missing_entry_and_a_lost_or_added_placeholder():
    catalog = Catalog(locale="zh")
    catalog.add("{depth} layers", "{depth} 层")  # right
    catalog.add("Depth", "")  # not translated
    catalog.add("{n} of {total}", "第 {n} 个")  # lost {total}
    catalog.add("ResNet-{depth}", "ResNet-{depth}，共 {layers} 层")  # added a placeholder
    catalog.add("%(count)d runs", "%(count)s 个运行")  # printf type changed
    catalog.add("Old words", "旧的", flags=["fuzzy"])
    catalog.add(("{n} epoch", "{n} epochs"), ("{n} 轮",))
    catalog.add(("{n} run", "{n} runs"), ("个运行",))
    found = problems(catalog)
    assert len(found) == 6, found
    assert any("'Depth'" in f and "no Chinese" in f for f in found)
    assert any("{total}" in f for f in found) and any("{layers}" in f for f in found)
    assert any("%(count)d" in f for f in found) and any("fuzzy" in f for f in found)
    assert any("'{n} run'" in f for f in found)


def test_the_chinese_catalog_is_chinese():
    # a translation that copies the English (nothing translated, but non-empty) reads as done: most
    # entries must hold Chinese characters (a few are names, units or symbols, e.g. "ResNet-{depth}")
    messages = [m for m in read(PO) if m.id]
    chinese = [m for m in messages if CJK.search(forms(m)[1][0])]
    assert len(chinese) >= 0.8 * len(messages)


def test_english_when_no_language_is_set_and_chinese_when_it_is():
    done = {}

    def fresh_thread() -> None:  # a new thread's context: nothing set, as in the CLI or a worker
        done["text"] = _("Architecture")
        done["plural"] = ngettext("{n} epoch", "{n} epochs", 2)

    thread = threading.Thread(target=fresh_thread)
    thread.start()
    thread.join()
    assert done == {"text": "Architecture", "plural": "{n} epochs"}
    try:
        set_language("zh")
        assert _("Architecture") == "网络结构"
        assert ngettext("{n} epoch", "{n} epochs", 2).format(n=2) == "2 轮"
        assert _("a message nobody wrote") == "a message nobody wrote"  # no entry: the English
        set_language("xx")  # a code we do not speak: English
        assert _("Architecture") == "Architecture"
    finally:
        set_language("en")


@pytest.mark.parametrize("lang, expected", [("en", ".,"), ("zh", ".,")])
def test_plotly_separators_come_from_the_locale(lang, expected):
    try:
        set_language(lang)
        assert i18n.plotly_separators() == expected
    finally:
        set_language("en")


def test_the_words_of_the_lower_layers_are_in_the_catalog():
    # studies/ and analysis/ cannot import i18n (a lower layer): presentation/library_words.py marks what
    # they say for the catalog, and it must follow them when they change
    from resnet_core.analysis.attributions import METHODS
    from resnet_core.presentation import library_words
    from resnet_core.studies import experiments, pairs, reference

    marked = set(library_words.PRESETS + library_words.METHODS + library_words.PAIRS + library_words.REFERENCE)
    presets = [experiments.cpu_preset(), experiments.cpu_long_preset()]
    presets += [experiments.gpu_shapes_preset(), experiments.paper_preset()]
    said = [p.name for p in presets] + [p.note for p in presets if p.note]
    said += [text for m in METHODS.values() for text in (m.label, m.summary)]
    said += [reference.NAME]
    code = Path(pairs.__file__).read_text()
    said += [text for text in library_words.PAIRS if text in code]
    assert len([t for t in library_words.PAIRS if t in code]) == len(library_words.PAIRS)
    assert not [text for text in said if text not in marked]


def _punctuation(c: str) -> bool:
    return unicodedata.category(c)[0] in "PS"


def emphasis_problems(text: str) -> list[str]:
    """Markdown emphasis (`**bold**`, `*italic*`) that CommonMark will not render: a closing run right after
    punctuation and right before a letter ("**并排对比。**快") or an opening run right before punctuation and
    right after a letter ("看**（") is not a delimiter, and the asterisks show. English rarely meets this;
    Chinese, with its full-width punctuation and no spaces, meets it all the time."""
    found = []
    for marker in ("**", "*"):
        pattern = re.escape(marker) if marker == "**" else r"(?<!\*)\*(?!\*)"
        runs = [m.start() for m in re.finditer(pattern, text)]
        for i, at in enumerate(runs):
            before = text[at - 1] if at else " "
            after = text[at + len(marker)] if at + len(marker) < len(text) else " "
            before, after = ("x" if before == "}" else before), ("x" if after == "{" else after)  # placeholders
            if i % 2 == 0 and _punctuation(after) and not (before.isspace() or _punctuation(before)):
                found.append(text[max(0, at - 6) : at + 8])
            if i % 2 == 1 and _punctuation(before) and not (after.isspace() or _punctuation(after)):
                found.append(text[max(0, at - 6) : at + 8])
    return found


def test_chinese_bold_and_italic_render():
    bad = {}
    for message in read(PO):
        for text in forms(message)[1]:
            if message.id and text and (found := emphasis_problems(text)):
                bad[text[:40]] = found
    assert not bad, bad


def test_the_emphasis_check_finds_what_commonmark_leaves_as_asterisks():
    assert emphasis_problems("**并排对比。**快捷连接") == ["*并排对比。**快捷连接"]
    assert emphasis_problems("**并排对比。**{caption}") != []  # a placeholder is text
    assert emphasis_problems("**并排对比**。快捷连接") == []
    assert emphasis_problems("看**（中）**字") != []
    assert emphasis_problems("*普通*网络比较浅") == []


def worded_classes(trees: list[ast.Module]) -> set[str]:
    """`Words` and the classes that derive from `WordedError` (resnet_core/words.py), at any depth."""
    classes = {"WordedError"}
    defs = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    while grown := {d.name for d in defs if d.name not in classes and {_called(b) for b in d.bases} & classes}:
        classes |= grown
    return (classes - {"WordedError"}) | {"Words"}


def _called(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def said_templates(tree: ast.Module, classes: set[str]) -> tuple[set[str], set[str]]:
    """The templates a module says (the first argument of a call of one of `classes`), and the calls whose
    template is no literal the catalog can hold (an f-string, a `%`, a `.format`). A name or an attribute
    passes on a template made elsewhere, where it is found."""
    templates, unmarkable = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and _called(node.func) in classes:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                templates.add(first.value)
            elif not isinstance(first, ast.Name | ast.Attribute):
                unmarkable.add(ast.unparse(first))
    return templates, unmarkable


def test_every_template_the_lower_layers_say_is_marked():
    # what data/, model/, store/ and execution/ say as Words or raise as a WordedError reaches the pages, which say
    # it in the reader's language: library_words.py must mark each template, and nothing they no longer say
    from resnet_core.presentation import library_words

    paths = [p for p in sorted((ROOT / "resnet_core").rglob("*.py")) if "presentation" not in p.parts]
    trees = [ast.parse(p.read_text(), str(p)) for p in paths]
    classes = worded_classes(trees)
    assert {"ImageError", "OwnDataError", "DatasetUnavailable", "SpecError", "QueueFull", "AccessDenied"} <= classes
    assert {"NoSuchRun", "RunActive", "IdxError", "PretrainedUnavailable", "AttributionError"} <= classes
    said: set[str] = set()
    for tree in trees:
        templates, unmarkable = said_templates(tree, classes)
        assert not unmarkable, f"a template must be a literal string (the catalog holds it): {unmarkable}"
        said |= templates
    groups = (
        "IMAGES",
        "OWN_DATA",
        "DATASETS",
        "IDX_FILES",
        "PRETRAINED",
        "ATTRIBUTIONS",
        "SPEC",
        "ACCESS",
        "STORE",
        "DEVICE",
    )
    marked = {text for group in groups for text in getattr(library_words, group)}
    assert not said - marked, f"mark these in presentation/library_words.py: {sorted(said - marked)}"
    assert not marked - said, f"no longer said (drop them from library_words.py): {sorted(marked - said)}"


def test_the_template_check_finds_subclasses_and_catches_an_f_string():
    tree = ast.parse(
        "class A(words.WordedError, ValueError): ...\nclass B(A): ...\nclass C(ValueError): ...\n"
        'B(f"{x} MB")\nWords("{n} MB", n=1)\nA("%d MB" % 3)\nA(refusal.template)\nC(f"{x}")\nB("The file is empty.")'
    )
    classes = worded_classes([tree])
    assert classes == {"Words", "A", "B"}
    assert said_templates(tree, classes) == ({"{n} MB", "The file is empty."}, {"f'{x} MB'", "'%d MB' % 3"})


def test_the_drawings_words_are_marked_and_said_in_chinese():
    # assets/*.svg are not Python: Babel does not read them, library_words.ASSETS marks their words
    from resnet_core.presentation import library_words

    names = {"x", "F(x)", "F(x) + x", "+", "relu"}  # symbols and names: the same in every language
    said = set()
    for path in (ROOT / "assets").glob("*.svg"):
        svg = path.read_text()
        found = [html.unescape(m[3]) for m in i18n.SVG_WORDS.finditer(svg)]
        assert len(found) == svg.count("<text") + svg.count("<title"), f"{path.name}: a text the pattern misses"
        said |= set(found)
    assert said - names == set(library_words.ASSETS)
    block = (ROOT / "assets" / "residual_block.svg").read_text()
    assert i18n.svg_words(block) == block  # English: the file as it is
    try:
        set_language("zh")
        chinese = i18n.svg_words(block)
    finally:
        set_language("en")
    assert chinese.count(">权重层<") == 2 and ">恒等映射<" in chinese and "weight layer" not in chinese
    assert chinese.replace(">权重层<", "").count("<") == block.replace(">weight layer<", "").count("<")  # same tags


def test_the_chinese_home_page_draws_the_chinese_residual_block():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    urls = [img.url for element in at.get("image") for img in element.proto.imgs]
    svgs = [base64.b64decode(u.split(",", 1)[1]).decode() for u in urls if u.startswith("data:image/svg+xml;base64,")]
    assert len(svgs) == 1 and ">权重层<" in svgs[0] and "weight layer" not in svgs[0]
