"""Input hygiene (course_admin/hygiene.py) and the leak check that sees encoded copies (leaks.py).

No nbgrader run: a feedback page is rendered with nbgrader's own feedback template (nbconvert, about
1 s), and the leak check gets a small course folder built here (source, release, submitted,
feedback, autograded). About 10 s in all.
"""
from __future__ import annotations

import base64
import bz2
import codecs
import gzip
import html
import html.parser
import json
import lzma
import re
import time
import urllib.parse
import zlib
from pathlib import Path

import nbformat
import pytest

from course_admin import course as nc
from course_admin import hygiene, leaks

A = "a01_receptive_fields"
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def source():
    return nc.read_notebook(nc.source_path(A))


def released(source):
    """The student's version of the source notebook, as generate_assignment makes it."""
    nb = nbformat.from_dict(json.loads(json.dumps(source)))
    for cell in nb.cells:
        if nc.is_solution_cell(cell):
            cell.source = nc.release_stub(cell.source)
        elif nc.is_test_cell(cell):
            cell.source = nc.strip_hidden_tests(cell.source)
    return nb


# --- read_submission ----------------------------------------------------------------------------

def test_read_submission_reads_a_notebook(tmp_path, source):
    path = tmp_path / "s.ipynb"
    nbformat.write(source, path)
    nb = hygiene.read_submission(path)
    assert [c.source for c in nb.cells] == [c.source for c in source.cells]
    raw = json.loads(path.read_text())  # sources as lists of lines (as Jupyter writes them) are joined
    raw["cells"][0]["source"] = ["line 1\n", "line 2"]
    path.write_text(json.dumps(raw))
    assert hygiene.read_submission(path).cells[0].source == "line 1\nline 2"


def _nb(**changes) -> dict:
    raw = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
           "cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [], "execution_count": None,
                      "id": "c1"}]}
    raw.update(changes)
    return raw


MALFORMED = {
    "not JSON": (b"this is not a notebook", "not valid JSON"),
    "binary": (bytes(range(256)) * 4, "not UTF-8"),
    "a JSON list": (b"[1, 2, 3]", "not an object"),
    "nbformat 3": (json.dumps(_nb(nbformat=3)).encode(), "format 3"),
    "no nbformat": (json.dumps({"cells": []}).encode(), "format None"),
    "cells not a list": (json.dumps(_nb(cells={"a": 1})).encode(), "no list of cells"),
    "a cell without source": (json.dumps(_nb(cells=[{"cell_type": "code", "metadata": {}}])).encode(),
                              "cell 1 has no source"),
    "a cell without cell_type": (json.dumps(_nb(cells=[{"source": "x", "metadata": {}}])).encode(),
                                 "cell 1 has no valid cell_type"),
    "a source of numbers": (json.dumps(_nb(cells=[{"cell_type": "markdown", "source": [1, 2], "metadata": {}}])).encode(),
                            "no source text"),
    "metadata not an object": (json.dumps(_nb(cells=[{"cell_type": "markdown", "source": "", "metadata": []}])).encode(),
                               "metadata that is not an object"),
    "outputs not outputs": (json.dumps(_nb(cells=[{"cell_type": "code", "source": "", "metadata": {},
                                                    "outputs": [1, "x"]}])).encode(), "not a list of outputs"),
    "deeply nested": (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_read_submission_refuses_malformed_notebooks(tmp_path, case):
    data, words = MALFORMED[case]
    path = tmp_path / "s.ipynb"
    path.write_bytes(data)
    with pytest.raises(hygiene.MalformedSubmission, match=words) as caught:
        hygiene.read_submission(path)
    assert isinstance(caught.value, ValueError) and "Traceback" not in str(caught.value)


def test_read_submission_refuses_huge_files_without_reading_them(tmp_path):
    path = tmp_path / "s.ipynb"
    with open(path, "wb") as f:  # a sparse 21 MB file: valid JSON would follow, but size comes first
        f.seek(21 * 2**20)
        f.write(json.dumps(_nb()).encode())
    with pytest.raises(hygiene.MalformedSubmission, match="larger than the 20 MB"):
        hygiene.read_submission(path)
    with pytest.raises(hygiene.MalformedSubmission, match="could not be read"):
        hygiene.read_submission(tmp_path / "missing.ipynb")


# --- check_structure ----------------------------------------------------------------------------

def _ids(nb):
    return [nc.nbgrader(c).get("grade_id") for c in nb.cells]


def test_check_structure_leaves_an_honest_notebook_alone(source):
    honest = released(source)
    honest.cells.insert(3, nbformat.v4.new_code_cell("print('my own cell')"))
    fixed, messages = hygiene.check_structure(honest, source)
    assert messages == []
    assert [(c.cell_type, c.source, c.metadata) for c in fixed.cells] == \
        [(c.cell_type, c.source, c.metadata) for c in honest.cells]


def test_check_structure_demotes_extra_and_duplicate_graded_cells(source):
    nb = released(source)
    extra = nbformat.v4.new_code_cell("print('free points')", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 100, "grade_id": "bonus", "schema_version": 3}})
    no_id = nbformat.v4.new_code_cell("1", metadata={"nbgrader": {"grade": True, "points": 5}})
    not_a_dict = nbformat.v4.new_markdown_cell("x", metadata={"nbgrader": "graded"})
    test = next(c for c in nb.cells if nc.is_test_cell(c))
    copy_of_test = nbformat.from_dict(json.loads(json.dumps(test)))
    copy_of_test.source = "pass"
    nb.cells += [extra, no_id, not_a_dict, copy_of_test]
    before = json.dumps(nb)
    fixed, messages = hygiene.check_structure(nb, source)
    assert json.dumps(nb) == before, "the submitted notebook itself is not changed"
    assert _ids(fixed) == _ids(source) + [None] * 4
    assert [c.source for c in fixed.cells[-4:]] == ["print('free points')", "1", "x", "pass"]
    assert any("an extra cell marked as graded (id 'bonus') was ignored" in m for m in messages)
    assert any("a second cell with the id " + repr(nc.nbgrader(test)["grade_id"]) in m for m in messages)
    assert len(messages) == 4


@pytest.mark.parametrize("change", ["points", "grade", "locked", "solution", "task", "cell_type"])
def test_check_structure_restores_changed_grading_settings(source, change):
    nb = released(source)
    index = next(i for i, c in enumerate(nb.cells) if nc.is_test_cell(c))
    cell, want = nb.cells[index], source.cells[index]
    meta = nc.nbgrader(cell)
    if change == "cell_type":
        nb.cells[index] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
    else:
        meta[change] = {"points": 1000, "grade": False, "locked": False, "solution": True, "task": True}[change]
    fixed, messages = hygiene.check_structure(nb, source)
    assert len(messages) == 1 and "grading settings changed" in messages[0]
    got = fixed.cells[index]
    assert got.cell_type == want.cell_type == "code" and got.source == cell.source
    assert {k: nc.nbgrader(got).get(k) for k in hygiene.GRADED_KEYS} == \
        {k: nc.nbgrader(want).get(k) for k in hygiene.GRADED_KEYS}
    assert "outputs" in got  # a code cell again, that nbformat accepts
    nbformat.validate(fixed)


# --- sanitize_html ------------------------------------------------------------------------------

def feedback_page(cells, score=3, max_score=3) -> str:
    """A page as nbgrader's generate_feedback writes it (its template, bootstrap CSS and all)."""
    import nbgrader
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [str(base / "templates")]
    config.HTMLExporter.extra_template_paths = [str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    nb = nbformat.v4.new_notebook(cells=cells)
    page, _ = HTMLExporter(config=config).from_notebook_node(nb, resources={"nbgrader": {
        "notebook": A, "score": score, "max_score": max_score, "late_penalty": 0}})
    return page


def graded_cells(output=None):
    solution = nbformat.v4.new_code_cell("def f(x):\n    return x + 1", metadata={"nbgrader": {
        "grade": False, "solution": True, "locked": False, "grade_id": "f", "schema_version": 3}})
    test = nbformat.v4.new_code_cell("assert f(1) == 2  # visible test", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "test_f", "points": 3, "score": 3,
        "schema_version": 3}})
    plot = nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="checked 3 < 4 cases\n"), plot]
    if output is not None:
        solution.outputs = [output]
    return [nbformat.v4.new_markdown_cell("# Assignment 1\nThe size $n_{out}$ of a convolution."), solution, test]


@pytest.fixture(scope="module")
def honest_page():
    return feedback_page(graded_cells())


def test_sanitized_page_keeps_what_the_feedback_needs(honest_page):
    clean = hygiene.sanitize_html(honest_page)
    assert f"{A} (Score: 3.0 / 3.0)" in clean and '<a href="#test_f"' in clean  # score table and its links
    assert 'class="highlight' in clean and "return" in clean and "visible test" in clean  # the code, highlighted
    assert "checked 3 &lt; 4 cases" in clean and f'src="data:image/png;base64,{PNG}"' in clean
    assert "$n_{out}$" in clean  # TeX stays as text (MathJax does not run)
    assert clean.count("<style>") == 3 and ".highlight" in clean and ".panel" in clean  # nbgrader's CSS
    assert "<script" not in clean and "Content-Security-Policy" in clean
    assert hygiene.sanitize_html(clean).split() == clean.split()  # a second pass changes nothing


ATTACKS = {
    "script": "<script>alert(1)</script>",
    "event handler": '<img src="data:image/png;base64,AAAA" onerror="alert(1)"><p onclick="alert(1)">x</p>',
    "javascript link": '<a href="javascript:alert(1)">a</a><a href=" JaVa&#x09;ScRiPt&colon;alert(1)">b</a>',
    "vbscript link": '<a href="vbscript:msgbox(1)">a</a>',
    "data html link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a</a>',
    "svg image": '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "remote image": '<img src="https://tracker.example/pixel.png">',
    "iframe": '<iframe src="https://evil.example"></iframe><iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object and embed": '<object data="x.swf"></object><embed src="x.swf">',
    "form": '<form action="https://evil.example"><input name="password"><button>send</button></form>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "base and link": '<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/x.css">',
    "svg with script": '<svg><script>alert(1)</script><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>',
    "math": '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    "style attribute": '<div style="background:url(javascript:alert(1));width:expression(alert(1))">x</div>',
    "style element": "<style>body{background:url(https://evil.example/x)} *{behavior:url(x.htc)}</style>",
    "breaking out": '</pre></div></main></body></html><script>alert(1)</script><html><body onload="alert(1)">',
    "comment trick": "<!--><script>alert(1)</script>-->",
    "noscript": "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
}

ALLOWED_URL = ("#", "http://", "https://", "mailto:")


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def scriptable(page: str) -> list[str]:
    """What in ``page`` could run a script or fetch something: the test's own, independent look."""
    parser = _Tags()
    parser.feed(page)
    bad = []
    for tag, attrs in parser.found:
        if tag in ("script", "iframe", "object", "embed", "form", "base", "link", "svg", "math", "frame", "input"):
            bad.append(tag)
        if tag == "meta" and attrs.get("http-equiv", "").lower() not in ("", "content-security-policy"):
            bad.append("meta " + attrs["http-equiv"])
        for name, value in attrs.items():
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                bad.append(f"{tag} {name}")
            if name in ("href", "src") and value is not None:
                url = "".join(value.split()).lower()
                ok = url.startswith(ALLOWED_URL) if name == "href" else url.startswith(("data:image/png", "data:image/jpeg"))
                if not ok:
                    bad.append(f"{tag} {name}={value[:40]}")
    # html.parser does not parse as browsers do (<!--><script>, <noscript>): also look at the text
    bad += ["script"] * len(re.findall(r"<script", page, re.I))
    bad += ["on* attribute"] * len(re.findall(r"<[a-z][^<>]*\son\w+\s*=", page, re.I))
    for css in re.findall(r"<style[^>]*>(.*?)</style", page, re.S | re.I):
        css = css.lower()
        if "url(http" in css or "@import" in css or "behavior" in css or "expression(" in css:
            bad.append("css")
    return bad


def test_the_attack_check_sees_attacks(honest_page):
    """The test's own detector is not blind: each attack is seen in the page before sanitising."""
    for name, attack in ATTACKS.items():
        page = honest_page.replace("</main>", attack + "</main>")
        assert scriptable(page) != scriptable(honest_page), name


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_sanitized_page_has_no_script_path(honest_page, name):
    for page in (honest_page.replace("</main>", ATTACKS[name] + "</main>"),  # where a student's output goes
                 feedback_page(graded_cells(nbformat.v4.new_output("display_data", data={"text/html": ATTACKS[name]})))):
        clean = hygiene.sanitize_html(page)
        assert scriptable(clean) == [], (name, scriptable(clean))
        assert "alert(1)" not in clean.replace("&lt;", "<") or "<script" not in clean
        assert f"{A} (Score: 3.0 / 3.0)" in clean


def test_a_forged_head_loses_its_styles_and_title_tricks(honest_page):
    page = honest_page.replace("<title>", "<title>x</title><style>@import 'https://evil.example/a.css';</style><title>")
    page = page.replace("</head>", "<style>a{background:url(https://evil.example/x)}</style></head>")
    clean = hygiene.sanitize_html(page)
    assert "evil.example" not in clean and clean.count("<style>") == 4  # the import dropped, the url() neutralised


@pytest.mark.parametrize("css,kept", [
    ("a{color:red}", "a{color:red}"),
    ("a{background:url(https://evil.example/x)}", "a{background:none}"),
    ('a{background:url("javascript:alert(1)")}', "a{background:none}"),
    (f"a{{background:url(data:image/png;base64,{PNG[:8]})}}", f"a{{background:url(data:image/png;base64,{PNG[:8]})}}"),
    ("a{content:'\\2a'}", "a{content:'\\2a'}"),
    ("a{margin:1px \\9;color:red}", "a{;color:red}"),
    ("@import 'x.css';", None),
    ("a{width:expression(alert(1))}", None),
    ("a{b:\\75rl(https://evil.example)}", None),
    ("a{b:ur/**/l(x)}", None),
    ("a{b:image-set('https://evil.example/x' 1x)}", None),
    ("a{-moz-binding:url(x.xml#xss)}", None),
    ("@namespace x url(y);", None),
    ("a{b:'unterminated}", None),
])
def test_safe_css(css, kept):
    assert hygiene.safe_css(css) == kept


# --- strip_terminal -----------------------------------------------------------------------------

@pytest.mark.parametrize("text,clean", [
    ("\x1b[31mred\x1b[0m", "red"),
    ("\x1b[2J\x1b[Hscreen cleared", "screen cleared"),
    ("\x1b]0;evil title\x07x", "x"),
    ("\x1b]52;c;aGVsbG8=\x1b\\clipboard", "clipboard"),
    ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("\x1bP+q544e\x1b\\dcs", "dcs"),
    ("\x9b31mC1 CSI\x9d0;title\x9c", "C1 CSI"),
    ("10/10\rfake 0/10", "10/10fake 0/10"),
    ("back\x08\x08space\x7f bell\x07 nul\x00", "backspace bell nul"),
    ("student \u202egnp.exe\u202c \u2066isolate\u2069 \u202aembed\u202d", "student gnp.exe isolate embed"),
    ("marks \u200e\u200f\u061c", "marks "),
    ("unterminated \x1b]0;title", "unterminated "),
    ("keeps\nlines\tand tabs, ü, 中文", "keeps\nlines\tand tabs, ü, 中文"),
])
def test_strip_terminal(text, clean):
    assert hygiene.strip_terminal(text) == clean


# --- check_leaks with encoded copies --------------------------------------------------------------

@pytest.fixture()
def course(tmp_path, source, honest_page):
    """A course folder as check_leaks reads it: source, release, and two students' submission,
    feedback page and autograded notebook (an honest one and the one the test changes)."""
    root = tmp_path / "course"
    nbformat.write(source, nc.source_path(A, root).parent.mkdir(parents=True) or nc.source_path(A, root))
    release = released(source)
    (root / "release" / A).mkdir(parents=True)
    nbformat.write(release, root / "release" / A / f"{A}.ipynb")
    honest = released(source)
    for cell, full in zip(honest.cells, source.cells):
        if nc.is_solution_cell(cell):
            cell.source = full.source.replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION\n", "")
    for student in ("honest", "hostile"):
        for sub in ("submitted", "feedback", "autograded"):
            (root / sub / student / A).mkdir(parents=True)
        nbformat.write(honest, root / "submitted" / student / A / f"{A}.ipynb")
        graded = nbformat.from_dict(json.loads(json.dumps(source)))  # the hidden tests are back in autograded/
        nbformat.write(graded, root / "autograded" / student / A / f"{A}.ipynb")
        (root / "feedback" / student / A / f"{A}.html").write_text(honest_page)
    return root


def hidden_line(source) -> str:
    hidden = set()
    for cell in source.cells:
        if nc.is_test_cell(cell):
            hidden.update(l.strip() for l in nc.split_region(cell.source, nc.BEGIN_HIDDEN, nc.END_HIDDEN)[0])
    return sorted(l for l in hidden & nc.secret_lines(source) if len(l) > 30)[0]


def hidden_cell(source) -> str:
    """The whole test cell that holds :func:`hidden_line`."""
    return next(c.source for c in source.cells if nc.is_test_cell(c) and hidden_line(source) in c.source)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ENCODINGS = {
    "base64": lambda s: b64(s.encode()),
    "base64, urlsafe": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    "base64 after 1 character": lambda s: "x" + b64(s.encode()),
    "base64 after 6 characters": lambda s: "secret" + b64(s.encode()).rstrip("="),
    "base64, wrapped at 76": lambda s: base64.encodebytes(s.encode()).decode(),
    "base32": lambda s: base64.b32encode(s.encode()).decode(),
    "base32, lower case": lambda s: base64.b32encode(s.encode()).decode().lower(),
    "hex": lambda s: s.encode().hex(),
    "hex after 0x": lambda s: "0x" + s.encode().hex(),
    "percent": lambda s: urllib.parse.quote(s, safe=""),
    "percent, plus": lambda s: urllib.parse.quote_plus(s),
    "html entities": lambda s: "".join(f"&#{ord(c)};" for c in s),
    "html entities twice": lambda s: html.escape("".join(f"&#x{ord(c):x};" for c in s)),
    "\\u escapes": lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    "\\x escapes": lambda s: "".join(f"\\x{b:02x}" for b in s.encode()),
    "octal escapes": lambda s: "".join(f"\\{b:03o}" for b in s.encode()),
    "rot13": lambda s: codecs.encode(s, "rot13"),
    "reversed": lambda s: s[::-1],
    "zlib, base64": lambda s: b64(zlib.compress(s.encode())),
    "gzip, base64": lambda s: b64(gzip.compress(s.encode())),
    "bz2, base64": lambda s: b64(bz2.compress(s.encode())),
    "lzma, base64": lambda s: b64(lzma.compress(s.encode())),
    "xz inside, base64": lambda s: b64(b"junk" + lzma.compress(s.encode())),
    "zlib, hex": lambda s: zlib.compress(s.encode()).hex(),
    "raw deflate, base64": lambda s: b64(zlib.compress(s.encode(), wbits=-15) if False else
                                          (lambda c: c.compress(s.encode()) + c.flush())(zlib.compressobj(wbits=-15))),
    "base64 of base64": lambda s: b64(b64(s.encode()).encode()),
    "hex of base64": lambda s: b64(s.encode()).encode().hex(),
    "reversed base64": lambda s: b64(s[::-1].encode()),
}


def put_in_page(root, student, text):
    page = root / "feedback" / student / A / f"{A}.html"
    page.write_text(page.read_text().replace("</main>", f"<pre>{html.escape(text)}</pre></main>"))


def put_in_outputs(root, student, text):
    path = root / "autograded" / student / A / f"{A}.ipynb"
    nb = nc.read_notebook(path)
    cell = next(c for c in nb.cells if nc.is_solution_cell(c))
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nbformat.write(nb, path)


def test_an_honest_course_has_no_leaks(course):
    assert leaks.check_leaks(course, A) == []


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_find_lines_sees_encoded_copies(source, encoding):
    line, other = hidden_line(source), "x = conv_output_size(7, 3)  # not in the text"
    found, complete = leaks.find_lines("here you go: " + ENCODINGS[encoding](hidden_cell(source)) + " bye",
                                       {line, other}, plain=False)
    assert set(found) == {line} and found[line] and complete, found


@pytest.mark.parametrize("encoding", ["base64 after 1 character", "gzip, base64", "html entities twice", "rot13"])
def test_check_leaks_finds_encoded_copies_in_feedback(course, source, encoding):
    line = hidden_line(source)
    put_in_page(course, "hostile", "here you go: " + ENCODINGS[encoding](hidden_cell(source)) + " bye")
    found = leaks.check_leaks(course, A)
    assert found and all(p.startswith(f"feedback/hostile/{A}/{A}.html: ") for p in found), found
    assert f"feedback/hostile/{A}/{A}.html: {line} (encoded: " in "\n".join(found)


@pytest.mark.parametrize("encoding", ["base64", "hex", "\\x escapes"])
def test_check_leaks_finds_encoded_copies_in_autograded_outputs(course, source, encoding):
    line = hidden_line(source)
    put_in_outputs(course, "hostile", "noise\n" + ENCODINGS[encoding](line) + "\n")
    found = leaks.check_leaks(course, A)
    assert found == [f"autograded/hostile/{A}/{A}.ipynb: {line} (encoded: {found[0].split('(encoded: ')[1][:-1]})"]


def test_plain_lines_in_autograded_outputs_are_not_leaks(course, source):
    """A failing hidden test quotes its line in the traceback of the autograded notebook: that is
    the instructor's copy (the feedback removes it), not a leak."""
    put_in_outputs(course, "hostile", f"Traceback ...\n----> 3 {hidden_line(source)}\nAssertionError\n")
    assert leaks.check_leaks(course, A) == []


def test_a_plain_line_in_feedback_is_still_reported(course, source):
    put_in_page(course, "hostile", hidden_line(source))
    assert leaks.check_leaks(course, A) == [f"feedback/hostile/{A}/{A}.html: {hidden_line(source)}"]


def test_lines_the_student_wrote_are_not_leaks(course, source):
    line = hidden_line(source)
    path = course / "submitted" / "hostile" / A / f"{A}.ipynb"
    nb = nc.read_notebook(path)
    nb.cells.append(nbformat.v4.new_code_cell(f"# my own check\n{line}"))
    nbformat.write(nb, path)
    put_in_page(course, "hostile", b64(line.encode()))
    put_in_outputs(course, "hostile", b64(line.encode()))
    assert leaks.check_leaks(course, A) == []


def test_solution_lines_of_an_untouched_release_are_looked_for_encoded(course, source):
    nbformat.write(released(source), course / "submitted" / "hostile" / A / f"{A}.ipynb")
    solution = next(c.source for c in source.cells if nc.is_solution_cell(c))
    put_in_page(course, "hostile", b64(zlib.compress(solution.encode())))
    found = leaks.check_leaks(course, A)
    assert found and all("(encoded: zlib of base64)" in p for p in found)
    put_in_page(course, "honest", b64(zlib.compress(solution.encode())))  # the honest student wrote them
    assert all("hostile" in p for p in leaks.check_leaks(course, A))


def test_decompression_bombs_and_huge_pages_cost_bounded_time(course, source, monkeypatch):
    import tracemalloc

    zeros, chunk = zlib.compressobj(9), bytes(2**20)
    bomb = b"".join(zeros.compress(chunk) for _ in range(400)) + zeros.flush()  # 400 MB of zeros in 400 kB
    put_in_page(course, "hostile", b64(bomb) + "\n" + b64(bz2.compress(b"A" * 100 * 2**20)))
    start = time.perf_counter()
    tracemalloc.start()
    try:
        assert leaks.check_leaks(course, A) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 60 and peak < 150 * 2**20, (time.perf_counter() - start, peak)
    monkeypatch.setattr(leaks, "MAX_DOCUMENT", 2**20)  # (8 MB takes 10 s)
    put_in_page(course, "honest", "QUFB" * (leaks.MAX_DOCUMENT // 4 + 1))
    found = [p for p in leaks.check_leaks(course, A) if "/honest/" in p]
    assert found == [f"feedback/honest/{A}/{A}.html: too much text to search for encoded copies; look at it yourself"]


def test_a_page_full_of_images_is_searched_whole(course, source):
    """Plots are base64 too: a page with 2 MB of images is searched in a few seconds, and a line
    hidden after them is still found."""
    noise = b64(bytes((i * 7919 + i // 3) % 251 for i in range(1_500_000)))
    put_in_page(course, "hostile", noise + "\n" + b64(hidden_line(source).encode()))
    start = time.perf_counter()
    found = leaks.check_leaks(course, A)
    assert any("(encoded: base64)" in p for p in found), found
    assert time.perf_counter() - start < 30


# --- the command line prints no escape sequence ---------------------------------------------------

def test_printed_results_and_collect_lines_are_stripped(tmp_path, capsys):
    from types import SimpleNamespace

    from course_admin import cli

    result = SimpleNamespace(student="eve\x1b]0;owned\x07", score=0, max_score=10, seconds=1.0,
                             summary="\x1b[2J\x1b[Hall 10/10 \u202eok\u202c")
    cli._print_results([result])
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "mallory\x1b[31m.ipynb").write_text("{}")
    assert cli.main(["--course", str(tmp_path / "course"), "collect", A, str(folder)]) == 1
    out = capsys.readouterr().out
    assert "| eve | 0/10 | 1.0 | all 10/10 ok" in out and "mallory.ipynb: skipped: not a valid student id" in out
    assert not [c for c in out if c != "\n" and (ord(c) < 32 or 0x7f <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e)]
