"""The leak check: no solution or hidden-test line in ``release/``, ``feedback/`` or the outputs of
``autograded/``, written plainly or encoded.

A submission that can read a hidden test can also print it encoded so that a search for the plain
line misses it (and so that ``redact`` leaves it in the feedback). :func:`encoded_texts` decodes
what a page or an output holds: base64 (standard and urlsafe, at every alignment), base32, hex,
percent-encoding, HTML entities, ``\\u``/``\\x`` escapes, and zlib/gzip/bz2/lzma streams inside
decoded bytes, two layers deep; the lines are also looked for rot13'd and reversed. The work is
bounded (:data:`MAX_DOCUMENT`, :data:`MAX_DECODED`, :data:`MAX_INFLATE`), so a decompression bomb
or a huge page costs a bounded time, and what lies beyond the bounds is not searched.
"""
from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import html
import itertools
import json
import lzma
import re
import urllib.parse
import zlib
from pathlib import Path

from . import course as nc
from .hygiene import MalformedSubmission, read_submission, strip_terminal

MIN_RUN = 16  # shortest run of encoded characters decoded (12 bytes of base64)
MAX_DOCUMENT = 8 * 2**20  # characters of one page, or of one notebook's outputs, that are searched
MAX_DECODED = 16 * 2**20  # characters of decoded text searched in one document, all layers together
MAX_RAW = 256 * 2**20  # bytes decoded in one document, all layers together
MAX_INFLATE = 2 * 2**20  # bytes one decompression may give
MAX_STREAMS = 32  # decompressions tried in one decoded blob
DEPTH = 2  # layers of encoding (base64 of gzip counts as one; hex of base64 as two)

B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{%d,}={0,2}" % MIN_RUN)
# base32 runs standing alone (inside a longer base64 run, such as an image, they are base64)
B32_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z2-7]{%d,}={0,6}(?![A-Za-z0-9+/_-])" % MIN_RUN)
LONG_RUN = re.compile(r"[A-Za-z0-9+/_=-]{256,}")  # an image or other blob: decoded, not searched as text
RUN_CHARS = re.compile(r"[A-Za-z0-9+/_=-]+")
TEXT_PIECES = re.compile("[^\ufffd\x00-\x08\x0e-\x1f\x7f-\x9f]{8,}")  # text inside decoded binary
HEX_RUN = re.compile(r"[0-9A-Fa-f]{%d,}" % MIN_RUN)
RUN_LINE = re.compile(r"[ \t]*([A-Za-z0-9+/_=-]{%d,})[ \t]*" % MIN_RUN)  # a line of a wrapped base64 block
ESCAPE = re.compile(r"\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|([0-7]{1,3}))")
STREAM = re.compile(rb"\x78[\x01\x5e\x9c\xda]|\x1f\x8b\x08|BZh[1-9]|\xfd7zXZ\x00|\x5d\x00\x00")


def html_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# --- decoding -------------------------------------------------------------------------------------

def _unescape(text: str) -> str:
    def one(m):
        digits = next(g for g in m.groups() if g is not None)
        code = int(digits, 8 if m.group(5) is not None else 16)
        return chr(code) if code < 0x110000 else m.group(0)
    return ESCAPE.sub(one, text)


def _inflate(blob: bytes) -> list[tuple[str, bytes]]:
    """Compressed streams found in ``blob`` (at a magic number, or raw deflate at its start), each
    decompressed to at most MAX_INFLATE bytes."""
    view, found = memoryview(blob), []
    starts = [(0, "deflate")] + [(m.start(), m.group()) for m in itertools.islice(STREAM.finditer(blob), MAX_STREAMS)]
    for start, magic in starts:
        data = view[start:]
        try:
            if magic == "deflate":
                name, out = "deflate", zlib.decompressobj(-15).decompress(data, MAX_INFLATE)
            elif magic[:1] == b"\x78":
                name, out = "zlib", zlib.decompressobj(15).decompress(data, MAX_INFLATE)
            elif magic[:1] == b"\x1f":
                name, out = "gzip", zlib.decompressobj(31).decompress(data, MAX_INFLATE)
            elif magic[:1] == b"B":
                name, out = "bz2", bz2.BZ2Decompressor().decompress(data, max_length=MAX_INFLATE)
            else:
                name, out = "lzma", lzma.LZMADecompressor().decompress(data, max_length=MAX_INFLATE)
        except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError):
            continue
        if len(out) >= 8:
            found.append((name, out))
    return found


def _runs(text: str) -> set[str]:
    """Runs of base64/base32/hex characters in ``text``, wrapped blocks joined into one run."""
    runs = set(B64_RUN.findall(text)) | set(B32_RUN.findall(text)) | set(HEX_RUN.findall(text))
    block = []
    for line in text.splitlines() + [""]:
        m = RUN_LINE.fullmatch(line)
        if m:
            block.append(m.group(1))
            continue
        if len(block) > 1:
            runs.add("".join(block))
        block = []
    return runs


B32_DIGITS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")


def _b32decode(text: str) -> bytes:
    """Base32 without padding, the bits of an unfinished byte at the end dropped: through ``int(.., 32)``,
    linear in time (``base64.b32decode`` is Python code, 3 s for 1 MB)."""
    bits = 5 * len(text)
    if bits < 8:
        return b""
    return (int(text.translate(B32_DIGITS), 32) >> (bits % 8)).to_bytes(bits // 8, "big")


def _decode_run(run: str) -> list[tuple[str, bytes]]:
    """``run`` decoded as base64 (4 alignments), base32 (8) and hex (2), where it can be."""
    out = []
    b64 = run.rstrip("=").replace("-", "+").replace("_", "/")
    if "=" not in b64:
        for offset in range(4):
            part = b64[offset:]
            part = part[:-1] if len(part) % 4 == 1 else part + "=" * (-len(part) % 4)
            out.append(("base64", base64.b64decode(part)))
    b32 = run.rstrip("=").upper()
    if re.fullmatch(r"[A-Z2-7]+", b32):
        for offset in range(8):
            out.append(("base32", _b32decode(b32[offset:])))
    if re.fullmatch(r"[0-9A-Fa-f]+", run):
        for offset in range(2):
            part = run[offset:]
            out.append(("hex", bytes.fromhex(part[:len(part) // 2 * 2])))
    return out


def encoded_texts(text: str, depth: int = DEPTH, budget: list | None = None):
    """``(how, text)`` for ``text`` itself (``how`` empty) and every decoding of it found (see the
    module docstring), up to ``depth`` layers. ``budget`` is ``[characters, bytes]`` left to decode
    (MAX_DECODED, MAX_RAW); it is spent in place, and the caller can see whether it ran out."""
    budget = [MAX_DECODED, MAX_RAW] if budget is None else budget
    text = text[:MAX_DOCUMENT]
    yield "", text
    wholes = {}
    for name, decode in (("html entities", lambda t: html.unescape(html.unescape(t))),
                         ("percent-encoding", urllib.parse.unquote), ("percent-encoding", urllib.parse.unquote_plus),
                         ("escapes", _unescape)):
        decoded = decode(text)
        if decoded != text and decoded not in wholes:
            wholes[decoded] = name
            yield name, decoded
    if depth <= 0:
        return
    runs = set()
    for t in [text, *wholes]:
        runs |= _runs(t)
    for run in sorted(runs, key=len):  # short runs first: a copy of a line is short, images are long
        for name, blob in _decode_run(run):
            layers = [(name, blob)] + [(f"{inner} of {name}", out) for inner, out in _inflate(blob)]
            for how, data in layers:
                budget[1] -= len(data)
                # only the text inside: binary (an image) decodes to noise with a few short words
                decoded = "\n".join(TEXT_PIECES.findall(data.decode("utf-8", "replace")))
                budget[0] -= len(decoded)
                if budget[0] < 0 or budget[1] < 0:
                    return
                if decoded:
                    for inner, t in encoded_texts(decoded, depth - 1, budget):
                        yield (f"{inner} of {how}" if inner else how), t


def find_lines(text: str, lines: set[str], plain: bool = True) -> tuple[dict[str, str], bool]:
    """``({line: how}, complete)`` for each of ``lines`` found in ``text``: ``how`` is "" when
    written plainly, else the encoding (e.g. "base64", "rot13, gzip of base64", "reversed");
    ``plain=False`` reports only encoded copies. ``complete`` is False when ``text`` was too large
    to be searched whole (MAX_DOCUMENT, MAX_DECODED)."""
    needles = []
    for line in lines:
        rot = codecs.encode(line, "rot13")
        needles += [(line, line, ""), (line, rot, "rot13"), (line, line[::-1], "reversed"),
                    (line, rot[::-1], "rot13, reversed")]
    found: dict[str, str] = {}
    budget = [MAX_DECODED, MAX_RAW]
    for how, decoded in encoded_texts(text, budget=budget):
        short = LONG_RUN.sub(" ", decoded) if len(decoded) > 4096 else decoded
        for line, needle, variant in needles:
            if line in found or needle not in (decoded if RUN_CHARS.fullmatch(needle) else short):
                continue
            label = ", ".join(part for part in (variant, how) if part)
            if label or plain:
                found[line] = label
        if len(found) == len(lines):
            return found, True
    return found, min(budget) >= 0 and len(text) <= MAX_DOCUMENT


# --- the check ------------------------------------------------------------------------------------

def output_text(nb) -> str:
    """Everything the code cells of ``nb`` output (streams, results, errors), escape sequences removed."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for key in ("text", "ename", "evalue"):
                if isinstance(output.get(key), str):
                    parts.append(output[key])
            parts += [entry for entry in output.get("traceback", []) if isinstance(entry, str)]
            for value in output.get("data", {}).values():
                parts.append(value if isinstance(value, str) else json.dumps(value))
    return strip_terminal("\n".join(parts))


def check_leaks(root: Path, assignment: str) -> list[str]:
    """Lines of solutions or hidden tests found in ``release/<a>/``, ``feedback/*/<a>/`` or the
    outputs of ``autograded/*/<a>/``.

    Release notebooks: no line of a solution region or of a hidden test (as lines). Feedback
    pages: no hidden-test line anywhere in the page (as text, so a line quoted inside a
    traceback counts), plainly or encoded (see :func:`find_lines`), unless the release notebook or
    the student's own submission has that text too; and the feedback of a student who handed in
    the release notebook untouched holds no solution line (same exception). Autograded notebooks'
    outputs: no encoded copy of those lines (plain ones are there when a hidden test fails, and
    ``redact`` removes them from the feedback). Each problem is "path: line", followed by
    "(encoded: how)" for an encoded copy.
    """
    root = Path(root)
    source = nc.read_notebook(nc.source_path(assignment, root))
    secrets = nc.secret_lines(source)
    hidden = set()
    for cell in source.cells:
        if nc.is_test_cell(cell):
            hidden.update(line.strip() for line in nc.split_region(cell.source, nc.BEGIN_HIDDEN, nc.END_HIDDEN)[0])
    hidden = {line for line in hidden & secrets if len(line) >= 8}
    solution = {line for line in secrets - hidden if len(line) >= 8}
    problems = []
    for path in sorted((root / "release" / assignment).glob("*.ipynb")):
        nb = nc.read_notebook(path)
        lines = {line.strip() for cell in nb.cells for line in cell.source.splitlines()}
        problems += [f"{path.relative_to(root)}: {line}" for line in sorted(secrets & lines)]
        for marker in (nc.BEGIN_SOLUTION, nc.BEGIN_HIDDEN):
            if any(marker in cell.source for cell in nb.cells):
                problems.append(f"{path.relative_to(root)}: marker {marker}")
    given = ""  # what every student was handed: a line found there is no leak, even inside other text
    for path in sorted((root / "release" / assignment).glob("*.ipynb")):
        given += "\n".join(c.source for c in nc.read_notebook(path).cells)

    def report(where: Path, text: str, submitted: Path, plain: bool) -> list[str]:
        own = given
        own += _own_text(submitted)
        wanted = hidden | (solution if _is_untouched_release(root, assignment, submitted) else set())
        found, complete = find_lines(text, {line for line in wanted if line not in own}, plain=plain)
        rel = where.relative_to(root)
        return ([f"{rel}: {line}" + (f" (encoded: {how})" if how else "") for line, how in sorted(found.items())]
                + ([] if complete else [f"{rel}: too much text to search for encoded copies; look at it yourself"]))

    for page in sorted((root / "feedback").glob(f"*/{assignment}/*.html")):
        submitted = root / "submitted" / page.parent.parent.name / assignment / f"{page.stem}.ipynb"
        raw = page.read_text(errors="replace")
        problems += report(page, html_text(raw) + "\n" + raw, submitted, plain=True)
    for notebook in sorted((root / "autograded").glob(f"*/{assignment}/*.ipynb")):
        submitted = root / "submitted" / notebook.parent.parent.name / assignment / notebook.name
        try:
            nb = nc.read_notebook(notebook)
        except Exception as err:  # noqa: BLE001 - an unreadable autograded notebook is worth a line
            problems.append(f"{notebook.relative_to(root)}: not readable ({type(err).__name__})")
            continue
        problems += report(notebook, output_text(nb), submitted, plain=False)
    return problems


def _is_untouched_release(root: Path, assignment: str, submitted: Path) -> bool:
    release = root / "release" / assignment / submitted.name
    if not (submitted.is_file() and release.is_file()):
        return False
    try:
        submitted_nb = read_submission(submitted)
    except MalformedSubmission:
        return False
    strip = lambda nb: [c.source for c in nb.cells]  # noqa: E731
    return strip(submitted_nb) == strip(nc.read_notebook(release))


def _own_text(submitted: Path) -> str:
    """The sources of the student's own notebook (nothing when it is missing or not a notebook)."""
    if not submitted.is_file():
        return ""
    try:
        return "\n" + "\n".join(c.source for c in read_submission(submitted).cells)
    except MalformedSubmission:
        return ""
