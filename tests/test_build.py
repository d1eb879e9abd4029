"""``python -m course_lib run`` (the executed copies of the notebooks): maths renders from a local
MathJax, progress bars leave a readable last line, and the run prints no kernel warning.

One small notebook (maths, a training loop with a bar) is built in a temporary folder: about 15 s,
most of it the kernel importing torch.
"""
import json
import os
import re
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib.progress import PROGRESS_ENV, progress_bar, progress_mode

STEPS = 40
TRAIN_CELL = f"""\
import time
from course_lib.train import train_loop

def step(batch):
    time.sleep(0.05)  # 2 s in all: the bar is redrawn (mininterval 1 s) before its last line
    return {{"loss": float(batch)}}

history = train_loop(step, [1.0, 2.0], steps={STEPS}, desc="tiny")
print("steps:", len(history["loss"]))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build one notebook with ``python -m course_lib run``; return (build dir, output of the run)."""
    root = tmp_path_factory.mktemp("build")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    nb = new_notebook(cells=[
        new_markdown_cell(r"The $L_1$ loss: $$\mathcal{L}(x, y) = \frac{1}{n} \sum_i |x_i - y_i| .$$"),
        new_code_cell(TRAIN_CELL),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebooks / "01_tiny.ipynb")
    env = {k: v for k, v in os.environ.items() if k != PROGRESS_ENV}
    env["OMP_NUM_THREADS"] = "1"
    run = subprocess.run([sys.executable, "-m", "course_lib", "run", "01", "--notebooks-dir", str(notebooks),
                          "--build-dir", str(root / "out"), "--timeout", "300"],
                         capture_output=True, text=True, env=env, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    return root / "out", output


def test_html_loads_mathjax_from_the_build_folder_and_nothing_from_the_internet(built):
    out, _ = built
    html = (out / "01_tiny.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]*)"', html)
    assert scripts == ["mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"], scripts
    assert (out / "mathjax" / "MathJax.js").is_file()
    assert (out / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    for host in ("cdnjs", "unpkg", "jsdelivr", "mathjax.org"):
        assert host not in html, f"the page names {host}: it would need the internet"
    assert r"\mathcal{L}(x, y)" in html  # the maths is there, for MathJax to typeset


def test_saved_notebook_keeps_the_bars_last_line_and_no_empty_bar(built):
    out, _ = built
    nb = nbformat.read(out / "01_tiny.ipynb", as_version=4)
    outputs = nb.cells[1].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "steps: 40" in text
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), \
        "a widget bar: saved as its first state"
    assert "widgets" not in nb.metadata
    saved = json.dumps(nb.cells[1].outputs)
    assert " 0%|" not in saved and "\\r" not in saved, text
    assert re.search(rf"^tiny: 100%\|#+\| {STEPS}/{STEPS} \[", text, re.M), text


def test_the_run_prints_no_kernel_warning(built):
    _, output = built
    assert "without encryption" not in output, output
    assert "Warning" not in output and "WARNING" not in output, output
    assert re.search(r"\| 01_tiny\.ipynb \|\s+[\d.]+ \| ok", output), output


def test_progress_mode(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert progress_mode() == "auto"
    monkeypatch.setenv(PROGRESS_ENV, "text")
    assert progress_mode() == "text"
    bar = progress_bar(range(3), desc="x", disable=True)
    assert list(bar) == [0, 1, 2]
    monkeypatch.setenv(PROGRESS_ENV, "widgets")
    with pytest.raises(ValueError, match="COURSE_PROGRESS='widgets' is not a progress mode: use one of auto, text"):
        progress_mode()


def test_without_a_local_mathjax_the_error_says_what_to_install(monkeypatch, tmp_path):
    from course_lib.__main__ import copy_mathjax

    monkeypatch.setitem(sys.modules, "jupyter_server_mathjax", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match="need a local MathJax: pip install jupyter-server-mathjax"):
        copy_mathjax(tmp_path)
    assert not (tmp_path / "mathjax").exists()


@pytest.mark.parametrize("sampler", ["ancestral_sample", "ddim_sample"])
def test_sampling_bars_end_at_their_total(sampler, monkeypatch, capsys):
    """A headless run's text bar shows the last step done (a loop that breaks early would leave 9/10)."""
    import torch

    from course_lib import diffusion as dif

    monkeypatch.setenv(PROGRESS_ENV, "text")
    schedule = dif.NoiseSchedule(num_timesteps=10)
    model = torch.nn.Module()
    model.forward = lambda x, t: torch.zeros_like(x)
    kwargs = {"steps": 5} if sampler == "ddim_sample" else {}
    getattr(dif, sampler)(model, (1, 1, 2, 2), schedule, device="cpu", progress=True, **kwargs)
    total = kwargs.get("steps", 10)
    last = capsys.readouterr().out.replace("\r", "\n").strip().splitlines()[-1]
    assert re.search(rf"100%\|#+\| {total}/{total} \[", last), last
