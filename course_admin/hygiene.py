"""Input hygiene: what a student hands in, and what the grader shows of it, is checked and cleaned.

* :func:`read_submission` reads a submitted notebook or raises :class:`MalformedSubmission` with a
  message the student understands (the grader scores that student 0 with it; the class goes on);
* :func:`check_structure` puts the nbgrader cells of a submission back in line with the source
  notebook: extra or duplicated graded cells become ordinary cells, changed points or flags are
  restored (one notebook with an extra graded cell made nbgrader's feedback fail for the class);
* :func:`sanitize_html` cleans a feedback page with Ammonia (the ``nh3`` package): a student's
  ``<script>`` or ``onerror=`` must not run in whoever opens the page;
* :func:`strip_terminal` removes escape sequences, control and bidi characters from text the
  command line prints (a student's id, message or output must not drive the instructor's terminal).
"""
from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import nbformat

MAX_SUBMISSION_BYTES = 20 * 2**20
GRADED_KEYS = ("grade", "solution", "locked", "points", "task")  # what decides how nbgrader treats a cell
CELL_TYPES = ("code", "markdown", "raw")


# --- submitted notebooks --------------------------------------------------------------------------

class MalformedSubmission(ValueError):
    """A submission that is not a readable notebook; ``str()`` is a message for the student."""


def read_submission(path: Path):
    """The notebook at ``path`` as an nbformat-4 node (sources joined into strings).

    Raises:
        MalformedSubmission: the file is missing, larger than 20 MB, not UTF-8 JSON, not nbformat 4,
            or its cells are not a list of cells each with a ``cell_type`` and a ``source`` made of
            text; the message says which, in words a student can act on.

    Why: nbgrader and nbformat fail on such files with tracebacks (or, for some, half-read them);
    checking the shape first gives one clear message and lets the grader go on with the class.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise MalformedSubmission(f"the notebook is {size / 2**20:.0f} MB, larger than the 20 MB allowed: "
                                      "clear the outputs (Edit > Clear Outputs of All Cells) and hand it in again")
        data = path.read_bytes()
    except OSError as err:
        raise MalformedSubmission(f"the notebook could not be read ({err.strerror or type(err).__name__})") from err
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise MalformedSubmission("the file is not a notebook: it is not UTF-8 text (was another file renamed "
                                  "to .ipynb?)") from err
    try:
        raw = json.loads(text)
    except RecursionError as err:
        raise MalformedSubmission("the file is not a notebook: its JSON is nested too deeply") from err
    except ValueError as err:
        where = f" (line {err.lineno}, column {err.colno})" if hasattr(err, "lineno") else ""
        raise MalformedSubmission(f"the file is not a notebook: it is not valid JSON{where}; open it in "
                                  "Jupyter, save it and hand it in again") from err
    _check_shape(raw)
    try:
        return nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as err:  # noqa: BLE001 - nbformat raises many kinds; all mean the same to a student
        raise MalformedSubmission(f"the notebook could not be read ({type(err).__name__})") from err


def _check_shape(raw) -> None:
    """What nbformat and nbgrader take for granted of a version-4 notebook (see read_submission)."""
    if not isinstance(raw, dict):
        raise MalformedSubmission("the file is not a notebook: its JSON is not an object with cells")
    version = raw.get("nbformat")
    if version != 4 or isinstance(version, bool):
        raise MalformedSubmission(f"the notebook is in format {version!r}, expected 4: open it in a current "
                                  "Jupyter (or Colab), save it and hand it in again")
    if not isinstance(raw.get("nbformat_minor", 0), int):
        raise MalformedSubmission("the notebook's nbformat_minor is not a number")
    if not isinstance(raw.get("metadata", {}), dict):
        raise MalformedSubmission("the notebook's metadata is not an object")
    cells = raw.get("cells")
    if not isinstance(cells, list):
        raise MalformedSubmission("the notebook has no list of cells")
    for number, cell in enumerate(cells, 1):
        where = f"cell {number}"
        if not isinstance(cell, dict):
            raise MalformedSubmission(f"{where} is not a cell")
        if cell.get("cell_type") not in CELL_TYPES:
            raise MalformedSubmission(f"{where} has no valid cell_type (code, markdown or raw)")
        source = cell.get("source")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise MalformedSubmission(f"{where} has no source text")
        if not isinstance(cell.get("metadata", {}), dict):
            raise MalformedSubmission(f"{where} has metadata that is not an object")
        outputs = cell.get("outputs", []) if cell["cell_type"] == "code" else []
        if not isinstance(outputs, list) or not all(isinstance(o, dict) and isinstance(o.get("output_type"), str)
                                                    for o in outputs):
            raise MalformedSubmission(f"{where} has outputs that are not a list of outputs: clear the outputs "
                                      "(Edit > Clear Outputs of All Cells) and hand it in again")


def _graded_fields(meta: dict, cell_type: str) -> tuple:
    """What nbgrader reads of a cell, normalised (points 3 and 3.0 are the same)."""
    def points(value):
        try:
            return float(value)
        except (TypeError, ValueError):
            return repr(value)
    return (cell_type, bool(meta.get("grade")), bool(meta.get("solution")), bool(meta.get("locked")),
            bool(meta.get("task")), points(meta.get("points", 0)) if meta.get("grade") or meta.get("task") else 0.0)


def _claims(meta) -> bool:
    return isinstance(meta, dict) and any(meta.get(k) for k in GRADED_KEYS)


def check_structure(submitted, source) -> tuple:
    """A copy of the notebook ``submitted`` whose nbgrader cells are those of ``source``, and messages.

    * a cell with nbgrader metadata whose grade_id the source does not have (or none) loses that
      metadata and becomes an ordinary cell;
    * of several cells with one grade_id the first is kept, the others become ordinary cells;
    * a known grade_id whose cell type, grade, solution, locked, task or points differ from the
      source's gets the source's back.

    Cells the student deleted are left to the grader (``submission.restore_deleted_cells``).
    Returns ``(notebook, messages)``, one message per change, for the student's feedback.

    Why: nbgrader trusts the submitted metadata; an extra graded cell made its feedback fail for the
    whole class, and a cell whose points were raised or that stopped being locked is graded as such.
    """
    nb = copy.deepcopy(submitted)
    expected = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") is not None:
            expected.setdefault(str(meta["grade_id"]), (cell.cell_type, meta))
    messages, seen, cells = [], set(), []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            cells.append(cell)
            continue
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        label = _quote_id(gid)
        if not isinstance(gid, str) or gid not in expected:
            del cell.metadata["nbgrader"]
            if _claims(meta) or gid is not None or not isinstance(meta, dict):
                messages.append(f"an extra cell marked as graded (id {label}) was ignored: it was graded as an "
                                "ordinary cell")
        elif gid in seen:
            del cell.metadata["nbgrader"]
            messages.append(f"a second cell with the id {label} was ignored: it was graded as an ordinary cell")
        else:
            seen.add(gid)
            cell_type, want = expected[gid]
            if _graded_fields(meta, cell.cell_type) != _graded_fields(want, cell_type):
                fixed = {k: v for k, v in meta.items() if k not in GRADED_KEYS}
                fixed.update({k: copy.deepcopy(want[k]) for k in GRADED_KEYS if k in want})
                fixed["grade_id"] = gid
                cell = _as_type(cell, cell_type, fixed)
                messages.append(f"the cell {label} had its grading settings changed; the original ones were "
                                "restored")
        cells.append(cell)
    nb.cells = cells
    return nb, messages


def _quote_id(gid) -> str:
    text = strip_terminal(str(gid))[:80]
    return repr(text) if isinstance(gid, str) else text


def _as_type(cell, cell_type: str, meta: dict):
    """``cell`` as a cell of type ``cell_type`` with nbgrader metadata ``meta`` (source and id kept)."""
    metadata = dict(cell.metadata)
    metadata["nbgrader"] = meta
    if cell.cell_type == cell_type:
        cell.metadata = nbformat.from_dict(metadata)
        return cell
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}[cell_type]
    new = make(source=cell.source, metadata=metadata)
    if "id" in cell:
        new["id"] = cell["id"]
    return new


# --- feedback pages -------------------------------------------------------------------------------

PAGE_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
             "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
             "header", "hr", "i", "img", "ins", "kbd", "li", "main", "mark", "ol", "p", "pre", "q", "s", "samp",
             "section", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
             "thead", "tr", "tt", "u", "ul", "var", "wbr"}
# Removed with everything inside (others not allowed lose the tag and keep their text).
DROP_WITH_CONTENT = {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript",
                     "noembed", "noframes", "template", "svg", "math", "title", "head", "textarea", "select"}
PAGE_ATTRIBUTES = {"*": {"class", "id", "title", "lang"}, "a": {"href", "name"},
                   "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan", "align"},
                   "th": {"colspan", "rowspan", "align", "scope"}, "ol": {"start"}}
IMAGE_URL = re.compile(r"data:image/(png|jpeg|jpg)(;base64)?,", re.I)
LINK_SCHEMES = ("http:", "https:", "mailto:")
# No script, no frame, nothing fetched from elsewhere, even if something slipped through.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'"


def _attribute_filter(tag: str, attribute: str, value: str):
    url = re.sub(r"[\x00-\x20]+", "", value).lower()
    if tag == "img" and attribute == "src":
        return value if IMAGE_URL.match(url) else None
    if attribute == "href":
        if url.startswith("#") or url.startswith(LINK_SCHEMES):
            return value
        return None if re.match(r"^[a-z][a-z0-9+.-]*:", url) else value
    return value


def sanitize_html(page: str) -> str:
    """``page`` (a whole HTML document, as nbgrader's feedback writes it) rebuilt from safe parts.

    The body goes through Ammonia (``nh3``) with an allow-list: text, headings, tables, lists,
    ``pre``/``code``, ``div``/``span`` with their classes and ids, links (http, https, mailto,
    in-page) and images given as ``data:image/png`` or ``jpeg`` URIs. Everything else goes:
    ``<script>``, ``on*`` attributes, ``javascript:``/``data:`` links, frames, objects, forms,
    ``<meta>``/``<base>``/``<link>``, SVG and MathML, ``style`` attributes. The stylesheets of the
    page's ``<head>`` (nbgrader's template) are kept when :func:`safe_css` accepts them; a
    Content-Security-Policy in the new head forbids scripts and anything fetched from elsewhere.
    MathJax therefore does not run: formulas show as their TeX source.

    Why: a student's notebook can put any HTML in its outputs and Markdown, and nbconvert copies it
    into the page; the page is opened by the student and by the instructor.
    """
    import nh3

    match = re.search(r"<body\b", page, re.I)
    head, body = (page[:match.start()], page[match.start():]) if match else ("", page)
    title = re.search(r"<title[^>]*>(.*?)</title", head, re.I | re.S)
    title = html.escape(strip_terminal(html.unescape(re.sub(r"<[^>]*>", "", title.group(1)))).strip()) if title else ""
    styles = []
    for css in re.findall(r"<style[^>]*>(.*?)</style\s*>", head, re.I | re.S):
        css = safe_css(css)
        if css:
            styles.append(f"<style>{css}</style>")
    clean = nh3.clean(body, tags=PAGE_TAGS, clean_content_tags=DROP_WITH_CONTENT, attributes=PAGE_ATTRIBUTES,
                      attribute_filter=_attribute_filter, url_schemes={"http", "https", "mailto", "data"},
                      strip_comments=True, link_rel="noopener noreferrer")
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n<title>{title}</title>\n"
            + "\n".join(styles) + f"\n</head>\n<body>\n{clean}\n</body>\n</html>\n")


CSS_AT_RULES = {"media", "font-face", "keyframes", "-webkit-keyframes", "-moz-keyframes", "-o-keyframes",
                "-ms-viewport", "viewport", "page", "supports"}
CSS_FUNCTIONS = {"rgb", "rgba", "hsl", "hsla", "calc", "var", "min", "max", "clamp", "attr", "counter", "counters",
                 "rect", "format", "local", "alpha", "not", "is", "where", "nth-child", "nth-of-type",
                 "nth-last-child", "nth-last-of-type", "lang", "and", "or", "from", "to", "color-stop",
                 "linear-gradient", "radial-gradient", "repeating-linear-gradient", "repeating-radial-gradient",
                 "-webkit-linear-gradient", "-o-linear-gradient", "-moz-linear-gradient", "-webkit-gradient",
                 "dximagetransform.microsoft.gradient", "translate", "translatex", "translatey", "translate3d",
                 "rotate", "rotatex", "rotatey", "rotatez", "scale", "scalex", "scaley", "scale3d", "skew", "skewx",
                 "skewy", "matrix", "matrix3d", "perspective", "cubic-bezier", "steps", "media",
                 "url"}  # every url() left is a png/jpeg data URI (see safe_css)
CSS_FORBIDDEN = re.compile(r"expression|javascript|vbscript|behavior|binding|@import|<", re.I)


def safe_css(css: str) -> str | None:
    """A stylesheet with every ``url()`` other than a png/jpeg data URI replaced by ``none``, or
    ``None`` when it holds anything this cannot vouch for: an escape outside a string (other than
    the ``\\9`` hack of old IE, whose declarations are dropped), an unterminated string or comment,
    an at-rule other than @media, @font-face, @keyframes, @page, @supports, a function outside a
    list of plain ones, or the words expression, javascript, behavior, binding, @import.

    Why: stylesheets cannot run scripts in current browsers, but old ones did (``expression()``,
    ``behavior``, ``-moz-binding``) and any browser fetches ``url()``/``@import`` targets; the
    check is strict because only nbgrader's own template CSS needs to pass.
    """
    css = css.replace("\x00", "\ufffd")  # as a browser reads it; and NUL marks the strings below
    code, strings, i, n = [], [], 0, len(css)
    while i < n:  # split into code and strings, dropping comments
        ch = css[i]
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            if end < 0:
                return None
            i = end + 2
            code.append(" ")
        elif ch in "\"'":
            j = i + 1
            while j < n and css[j] != ch:
                if css[j] in "\n\r\f":
                    return None
                j += 2 if css[j] == "\\" else 1
            if j >= n:
                return None
            strings.append(css[i:j + 1])
            code.append(f"\x00{len(strings) - 1}\x00")
            i = j + 1
        else:
            code.append(ch)
            i += 1
    text = re.sub(r"[^;{}]*\\9\s*(?=[;}])", "", "".join(code))
    if "\\" in text or CSS_FORBIDDEN.search(text):  # in strings these words are inert (url() is below)
        return None
    if any(rule.lower() not in CSS_AT_RULES for rule in re.findall(r"@([-\w]+)", text)):
        return None

    def url(match):
        inner = match.group(1).strip()
        literal = re.fullmatch(r"\x00(\d+)\x00", inner)
        target = strings[int(literal.group(1))][1:-1] if literal else inner
        return match.group(0) if IMAGE_URL.match(re.sub(r"\s+", "", target).lower()) else "none"

    text = re.sub(r"\burl\(([^)]*)\)", url, text, flags=re.I)
    if any(name.lower() not in CSS_FUNCTIONS for name in re.findall(r"([-\w.]+)\s*\(", text)):
        return None
    return re.sub(r"\x00(\d+)\x00", lambda m: strings[int(m.group(1))], text)


# --- the terminal ---------------------------------------------------------------------------------

_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"       # CSI ... final byte
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC ... ST
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"                             # other escapes (ESC c, ESC ( B, ...)
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_terminal(text: str) -> str:
    """``text`` without ANSI escape sequences (CSI, OSC, DCS, ...), C0/C1 control characters other
    than newline and tab, and bidi characters (embeddings, overrides, isolates, and the marks
    U+200E, U+200F, U+061C).

    Why: ids, messages and outputs of a submission reach the instructor's terminal; an escape
    sequence can rewrite what the terminal shows (a score, a leak report), set its title or
    clipboard, and a bidi override can make a line read differently from what it is.
    """
    return _CONTROLS.sub("", _ESCAPES.sub("", str(text)))
