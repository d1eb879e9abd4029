"""The instructors' answer keys in docs/answer_keys/ and the conventions of docs/notation.md (about 50 s on one
CPU thread, most of it the Lab of the 4,142 Caltech training photos behind notebook 03's exercise 3; the
six tests that take more than 1.5 s are marked slow, the other 49 take about 8 s).

* every exercise of notebooks 01-10 has a section ``## Exercise N`` in its notebook's key, and no section is extra;
* every section is an answer (a ``**Answer:**`` literal or a ``python`` block) or says it is a measurement;
* every stated value is recomputed here with ``course_lib`` (or the notebook's own check) and compared;
* every code answer compiles, and the code answers are run where the notebook would run them;
* the keys stay out of what students receive (the release and the installed package);
* docs/notation.md's conventions hold in course_lib (``test_notation_*``), the teaching pages' links resolve;
* the notebook sentences fixed for issue 18 still state what the code computes (03's figure columns in table order).
"""
from __future__ import annotations

import ast
import inspect
import math
import re
import tomllib
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
KEYS = ROOT / "docs" / "answer_keys"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

_HEADING = re.compile(r"^(?:#+\s*|\*\*)Exercises?\b(?:[ \t]*(\d+))?", re.M)
_ITEM = re.compile(r"^(\d+)\.\s", re.M)
_SECTION = re.compile(r"^## Exercise (\d+)\b", re.M)
_ANSWER = re.compile(r"^\*\*Answer:\*\* `(.+)`\s*$", re.M)
_CODE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
_MEASUREMENT = "**Kind: measurement.**"


def exercises_in_markdown(cells) -> list[int]:
    """Exercise numbers named in the markdown cells (the first two cells, title and setup, are skipped):
    ``### Exercise N`` / ``**Exercise N.**``, and for a heading without a number (``## Exercises (not graded)``,
    ``### Exercise``) the numbered list items that follow it up to the next heading."""
    found = []
    for cell in cells[2:]:
        if cell["cell_type"] != "markdown":
            continue
        for m in _HEADING.finditer(cell["source"]):
            if m.group(1):
                found.append(int(m.group(1)))
                continue
            rest = cell["source"][m.end():]
            following = re.search(r"^#", rest, re.M)
            found += [int(n) for n in _ITEM.findall(rest[: following.start()] if following else rest)]
    return found


def notebook_exercises(path: Path) -> list[int]:
    return exercises_in_markdown(nbformat.read(path, as_version=4).cells)


def key_sections(stem: str) -> dict[int, str]:
    """``{exercise number: section text}`` of ``docs/answer_keys/<stem>.md``."""
    text = (KEYS / f"{stem}.md").read_text(encoding="utf-8")
    parts = _SECTION.split(text)
    sections = {}
    for number, body in zip(parts[1::2], parts[2::2]):
        assert int(number) not in sections, f"{stem}.md: two sections for exercise {number}"
        sections[int(number)] = body
    return sections


def stated(stem: str, n: int):
    """The Python literal of the section's ``**Answer:**`` line."""
    m = _ANSWER.search(key_sections(stem)[n])
    assert m, f"{stem}.md, exercise {n}: no **Answer:** line"
    return ast.literal_eval(m.group(1))


def code(stem: str, n: int) -> str:
    """The section's first ``python`` block."""
    m = _CODE.search(key_sections(stem)[n])
    assert m, f"{stem}.md, exercise {n}: no python block"
    return m.group(1)


# ----------------------------------------------------------------------------- coverage

def test_parser_finds_every_form_of_exercise():
    cells = [nbformat.v4.new_markdown_cell("### Exercise 9 in the title cell is skipped"),
             nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_markdown_cell("### Exercise 1 -- a heading\ntext\n**Exercise 2.** bold, in text"),
             nbformat.v4.new_markdown_cell("## Exercises (not graded)\n\n3. **A.** one\n4. **B.** two\n\n## Summary\n1. not one"),
             nbformat.v4.new_markdown_cell("### Exercise\n5. first\n6. second"),
             nbformat.v4.new_markdown_cell("See Exercise 7 in the text: not a heading")]
    assert exercises_in_markdown(cells) == [1, 2, 3, 4, 5, 6]


def test_every_notebook_has_a_key():
    assert len(NOTEBOOKS) == 10, [p.name for p in NOTEBOOKS]
    missing = [p.stem for p in NOTEBOOKS if not (KEYS / f"{p.stem}.md").is_file()]
    assert not missing, f"no answer key docs/answer_keys/<notebook>.md for {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_a_key_and_no_key_is_extra(path):
    exercises = notebook_exercises(path)
    assert exercises, f"{path.name}: no exercise found (has the heading style changed?)"
    assert len(exercises) == len(set(exercises)), f"{path.name}: an exercise number repeats: {exercises}"
    sections = key_sections(path.stem)
    assert sorted(sections) == sorted(exercises), (
        f"{path.name} has exercises {sorted(exercises)}, docs/answer_keys/{path.stem}.md has sections "
        f"{sorted(sections)}: add a '## Exercise N' section for each exercise, remove the others")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_section_answers_or_says_it_is_a_measurement(path):
    for n, body in key_sections(path.stem).items():
        kinds = [bool(_ANSWER.search(body)), bool(_CODE.search(body)), _MEASUREMENT in body]
        assert any(kinds), f"{path.stem}.md, exercise {n}: neither an **Answer:**, a python block nor {_MEASUREMENT}"
        assert not (_MEASUREMENT in body and _ANSWER.search(body)), f"{path.stem}.md, exercise {n}: a measurement with a fixed answer"
        if m := _ANSWER.search(body):
            ast.literal_eval(m.group(1))  # a literal, not an expression


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_answers_compile(path):
    for n, body in key_sections(path.stem).items():
        for block in _CODE.findall(body):
            compile(block, f"{path.stem}.md, exercise {n}", "exec")


def test_keys_stay_out_of_what_students_receive():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert all(not pattern.startswith("docs") for pattern in project["packages"]["find"]["include"])
    assert "docs" not in str(project.get("package-data", {}))
    from course_admin.student_setup import WHEEL_SOURCES  # what the release's wheel is built from

    assert not any(name == "docs" or name.startswith("docs/") for name in WHEEL_SOURCES)
    for folder in (ROOT / "assignments", ROOT / "course_admin", ROOT / "course_lib"):
        for path in folder.rglob("*"):
            if path.suffix in (".py", ".ipynb", ".md", ".cfg", ".toml") and path.is_file():
                assert "answer_keys" not in path.read_text(encoding="utf-8", errors="replace"), (
                    f"{path.relative_to(ROOT)} names the answer keys: keep them out of releases and the package")


# ----------------------------------------------------------------------------- the stated values

def test_01_receptive_fields():
    from course_lib.models.pix2pix import NLayerDiscriminator
    from course_lib.receptive_field import empirical_receptive_field, receptive_field

    rf = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 5), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, dilation=2)))
    assert stated("01_receptive_fields", 1) == (rf.size, rf.stride)
    with torch.no_grad():
        sides = {n: NLayerDiscriminator(3, ndf=4, n_layers=n)(torch.zeros(1, 3, 256, 256)).shape[-1] for n in (1, 3, 5)}
    assert stated("01_receptive_fields", 2) == sides
    scope = {"nn": nn}
    exec(code("01_receptive_fields", 3), scope)
    convs = [m for m in scope["answer_3"].modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4 and all(c.kernel_size == (3, 3) for c in convs)
    rf3 = receptive_field(scope["answer_3"])
    assert (rf3.size, rf3.stride) == (31, 1) and empirical_receptive_field(scope["answer_3"], 63) == 31


@pytest.mark.slow
def test_01_exercise_4_unet_receptive_field():
    from course_lib.experiments import dense_prediction as dp
    from course_lib.receptive_field import UnsupportedLayerError, empirical_receptive_field, receptive_field

    cfg = dp.Config.make("fast")
    measured = {}
    for name in ("U-Net", "encoder-decoder"):
        net = dp.build(cfg, name, seed=0).net.eval()
        with pytest.raises(UnsupportedLayerError):
            receptive_field(net)
        measured[name] = empirical_receptive_field(net, 128, n_trials=2)
    assert measured == {"U-Net": stated("01_receptive_fields", 4), "encoder-decoder": stated("01_receptive_fields", 4)}


def test_02_dense_prediction():
    from course_lib.cost import count_macs
    from course_lib.models.dense import windows_containing

    assert stated("02_dense_prediction", 1) == (windows_containing(24, 24, 48, 15), windows_containing(0, 0, 48, 15))
    first = nn.Conv2d(1, 16, 3)
    assert stated("02_dense_prediction", 2) == (count_macs(first, torch.zeros(48 * 48, 1, 15, 15)),
                                                count_macs(first, torch.zeros(1, 1, 62, 62)))


def test_03_exercise_1_annealed_mean():
    from course_lib import color

    z = torch.tensor([0.5, 0.3, 0.2]).reshape(1, 3, 1, 1)
    truth = color.annealed_mean(z, torch.tensor([[0.0, 60.0], [0.0, -60.0], [0.0, 0.0]]), T=0.38)[0, 1, 0, 0].item()
    assert stated("03_colorization", 1) == pytest.approx(truth, abs=0.005)
    scope = {"np": np}
    exec(code("03_colorization", 1), scope)
    assert abs(scope["b_annealed"] - truth) < 0.05  # the notebook's check


@pytest.mark.slow
def test_03_exercise_3_rebalancing_weights():
    from course_lib import color
    from course_lib.data.colorization import caltech_training_prior

    prior = caltech_training_prior()[0]
    for lam, (low, high) in stated("03_colorization", 3).items():
        w = color.rebalancing_weights(prior, color.ab_bins(), lam=lam)
        assert w.min().item() == pytest.approx(low, rel=0.01), lam
        assert w.max().item() == pytest.approx(high, rel=0.01), lam


def test_04_gans():
    from course_lib import losses
    from course_lib.models import dcgan

    assert stated("04_gans_dcgan", 1) == pytest.approx(losses.discriminator_loss(torch.zeros(4), torch.zeros(4)).item(), abs=1e-4)
    assert stated("04_gans_dcgan", 1) == pytest.approx(2 * math.log(2), abs=1e-4)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 10_000, dcgan.NZ, generator=g)
    measured = ((a + b) / 2).norm(dim=1).mean() / a.norm(dim=1).mean()
    assert stated("04_gans_dcgan", 2) == pytest.approx(measured.item(), abs=0.005)
    from course_lib.models import toy_gan  # exercise 3: two real ring points from the same mode

    pairs = toy_gan.ring_samples(40_000, generator=torch.Generator().manual_seed(1)).view(20_000, 2, 2)
    nearest = torch.cdist(pairs.reshape(-1, 2), toy_gan.ring_centers()).argmin(1).view(20_000, 2)
    assert stated("04_gans_dcgan", 3) == pytest.approx((nearest[:, 0] == nearest[:, 1]).float().mean().item(), abs=0.01)
    assert stated("04_gans_dcgan", 3) == pytest.approx(1 / toy_gan.RING_MODES)


@pytest.mark.slow
def test_04_exercise_5_saturating_toy():
    from course_lib.models import toy_gan

    for loss, (at_25, at_100) in stated("04_gans_dcgan", 5).items():
        run = toy_gan.train_toy_gan(steps=100, g_loss=loss, d_head_start=300, snapshot_steps=(0,), seed=0)
        assert (run["g_mean"][25], run["g_mean"][100]) == pytest.approx((at_25, at_100), abs=0.05), loss


def test_05_vae_kl():
    from course_lib import losses

    truth = losses.gaussian_kl(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(2)]])).item()
    assert stated("05_vae", 1) == pytest.approx(truth, abs=1e-4)


def test_06_answer_is_the_notebooks_check():
    source = "\n".join(c.source for c in nbformat.read(ROOT / "notebooks" / "06_pix2pix.ipynb", as_version=4).cells)
    checked = re.findall(r'assert answer == "(\w)"', source)
    assert checked == [stated("06_pix2pix", 1)]


def test_07_stride2_layers_for_a_whole_64px_image():
    from course_lib.models.pix2pix import NLayerDiscriminator
    from course_lib.receptive_field import receptive_field

    sizes = {n: receptive_field(NLayerDiscriminator(2, n_layers=n)).size for n in range(1, 6)}
    assert stated("07_patchgan_sizes", 1) == min(n for n, size in sizes.items() if size > 64)
    assert all(size == 9 * 2 ** n - 2 for n, size in sizes.items())  # the general formula the key gives


def test_09_closed_form_and_the_chain():
    from course_lib import diffusion as dif

    schedule = dif.NoiseSchedule()
    abar = schedule.alphas_cumprod[299].item()
    assert stated("09_diffusion", 1) == pytest.approx((abar ** 0.5 * 0.8, 1 - abar), abs=1e-4)
    x = torch.full((2000,), 0.8)
    scope = {"torch": torch, "schedule": schedule, "x": x, "g": torch.Generator().manual_seed(1)}
    exec(code("09_diffusion", 1), scope)
    x = scope["x"]
    assert abs(x.mean() - abar ** 0.5 * 0.8) < 0.05 and abs(x.var() - (1 - abar)) < 0.06  # the notebook's check


@pytest.mark.slow
def test_10_exercise_1_psnr_by_hand():
    from course_lib.data import restoration as R
    from course_lib.metrics import psnr

    hr_rgb = R.modcrop(R.load_photo("coffee"), 2)
    y_hr = R.photo_luma("coffee")[: hr_rgb.shape[0], : hr_rgb.shape[1]]
    _, y_up = R.bicubic_degrade(torch.from_numpy(y_hr)[None, None], 2)
    scope = {"np": np, "y_up": y_up[0, 0].numpy(), "y_hr": y_hr}
    exec(code("10_restoration", 1), scope)
    assert abs(scope["my_psnr"] - psnr(scope["y_up"], y_hr, data_range=1.0, luma=True, border=2)) < 1e-6


@pytest.mark.slow
def test_10_exercise_2_residual_starts_as_bicubic():
    from course_lib import seed_everything
    from course_lib.experiments import super_resolution as sr

    first = {}
    for residual in (True, False):
        seed_everything(0)
        run = sr.build(sr.Config.make("fast", residual=residual, steps=(100, 100, 100, 100)), "x2", seed=0)
        x, y = next(run.batches())
        with torch.no_grad():
            first[residual] = torch.mean((run.net(x) - y) ** 2).item()
        bicubic = torch.mean((x - y) ** 2).item()
    key = stated("10_restoration", 2)
    assert key["residual_first_loss_equals_bicubic"] == (first[True] == pytest.approx(bicubic, rel=0.01))
    assert first[False] / bicubic == pytest.approx(key["plain_first_loss_over_bicubic"], rel=0.1)


@pytest.mark.slow
def test_10_exercise_3_unseen_noise_levels():
    from course_lib.experiments import common
    from course_lib.experiments import denoising as dn

    runs = common.load(dn, dn.Config.make("fast"), 0, progress=False)
    rows, _ = dn.evaluate(dn.Config.make("fast", sigmas=(5, 75), eval_images=4, eval_crop=256), runs, 0)  # cfg_nb
    measured = {r["sigma"]: {"noisy": r["noisy_psnr"], "nl_means": r["nl_means_psnr"], "dncnn": r["dncnn_psnr"]}
                for r in rows}
    key = stated("10_restoration", 3)
    assert sorted(measured) == sorted(key)
    for sigma, values in key.items():
        assert values == pytest.approx(measured[sigma], abs=0.1), sigma
    assert key[5]["noisy"] < key[5]["dncnn"] < key[5]["nl_means"] and key[75]["dncnn"] < key[75]["nl_means"] - 3  # the key's conclusions


# ----------------------------------------------------------------------------- docs/notation.md

def test_notation_page_exists_and_names_these_tests():
    text = (ROOT / "docs" / "notation.md").read_text(encoding="utf-8")
    assert "test_notation_" in text and "## GANs" in text and "## VAEs" in text and "## Diffusion" in text


def test_notation_gan_losses_are_the_game_negated():
    from course_lib import losses

    g = torch.Generator().manual_seed(0)
    s_real, s_fake = torch.randn(2, 64, generator=g) * 3
    value = torch.log(torch.sigmoid(s_real)).mean() + torch.log(1 - torch.sigmoid(s_fake)).mean()  # V(D, G)
    assert losses.discriminator_loss(s_real, s_fake).item() == pytest.approx(-value.item(), abs=1e-5)
    assert losses.saturating_generator_loss(s_fake).item() == pytest.approx(torch.log(1 - torch.sigmoid(s_fake)).mean().item(), abs=1e-5)
    bce_real = torch.nn.functional.binary_cross_entropy_with_logits(s_fake, torch.ones_like(s_fake))  # label 1
    assert losses.generator_loss(s_fake).item() == pytest.approx(bce_real.item(), abs=1e-6)
    assert losses.GANLoss("vanilla")(s_fake, True).item() == pytest.approx(bce_real.item(), abs=1e-6)
    assert losses.GANLoss("lsgan")(s_real, True).item() == pytest.approx(((s_real - 1) ** 2).mean().item(), abs=1e-5)
    assert losses.GANLoss("lsgan")(s_fake, False).item() == pytest.approx((s_fake ** 2).mean().item(), abs=1e-5)
    assert losses.discriminator_loss(torch.zeros(3), torch.zeros(3)).item() == pytest.approx(math.log(4), abs=1e-6)


def test_notation_vae_loss_is_the_negative_elbo():
    from torch.distributions import Bernoulli, Normal, kl_divergence

    from course_lib import losses

    g = torch.Generator().manual_seed(0)
    logits, target = torch.randn(3, 1, 4, 4, generator=g), torch.rand(3, 1, 4, 4, generator=g)
    mu, logvar = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
    log_lik = Bernoulli(logits=logits, validate_args=False).log_prob(target).flatten(1).sum(1)       # log p(x | z)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)  # sigma = exp(logvar / 2)
    elbo = (log_lik - kl).mean()
    out = losses.vae_loss(logits, target, mu, logvar)
    assert out["loss"].item() == pytest.approx(-elbo.item(), rel=1e-5)
    assert out["kl"].item() == pytest.approx(kl.mean().item(), rel=1e-5) and out["kl"].item() > 0


def test_notation_diffusion_schedule_and_indices():
    from course_lib import diffusion as dif

    s = dif.NoiseSchedule()
    assert len(s) == 1000 and s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert torch.allclose(s.alphas, 1 - s.betas)
    assert torch.allclose(s.alphas_cumprod, torch.cumprod(1 - s.betas, 0))
    x0, eps = torch.rand(2, 1, 4, 4) * 2 - 1, torch.randn(2, 1, 4, 4)
    t = torch.tensor([0, 999])  # 0-based: t = 0 is one step of noise (alpha_bar = 1 - beta_1)
    expected = s.alphas_cumprod[t].float().sqrt().view(-1, 1, 1, 1) * x0 + (1 - s.alphas_cumprod[t]).float().sqrt().view(-1, 1, 1, 1) * eps
    assert torch.allclose(dif.q_sample(x0, t, eps, s), expected, atol=1e-6)
    assert s.alphas_cumprod[0].item() == pytest.approx(1 - 1e-4)
    assert inspect.signature(dif.ddim_sample).parameters["eta"].default == 0.0  # deterministic DDIM unless asked


def test_notation_weights_and_ranges():
    from course_lib import color
    from course_lib.experiments import diffusion as D
    from course_lib.experiments import inpainting as ip
    from course_lib.experiments import pix2pix_ablation as A
    from course_lib.models.colorization import AB_SCALE

    cfg = A.Config.make("fast")
    assert (cfg.lambda_l1, cfg.lambda_cycle, cfg.lambda_identity, cfg.pool_size) == (100.0, 10.0, 0.5, 50)
    assert ip.Config.make("fast").lambda_adv == 0.001
    assert D.Config.make("fast").sr_eta == 1.0
    assert (color.REBALANCE_LAMBDA, color.REBALANCE_SIGMA, color.ANNEAL_T, color.GRID_SIZE) == (0.5, 5.0, 0.38, 10)
    assert AB_SCALE == 110.0 and len(color.AB_BINS) == 261
    lab = color.rgb_to_lab(np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]]))
    assert lab[0, 0, 0] == pytest.approx(100, abs=0.01) and lab[0, 1, 0] == pytest.approx(0, abs=0.01)


def test_relative_links_of_the_teaching_pages_resolve():
    pages = [ROOT / "docs" / "notation.md", ROOT / "docs" / "reading.md", *sorted(KEYS.glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://")):
                assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to {target}, which does not exist"


# ----------------------------------------------------------------------------- notebook text against what it computes

def markdown_of(stem: str, cell_id: str) -> str:
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.get("id") == cell_id)


def test_colorization_figure_columns_follow_the_table():
    from course_lib import color
    from course_lib.experiments import colorization as ce
    from course_lib.experiments.plots.colorization import figure_columns

    # the shape evaluate() gives its predictions, in table order
    predictions = {"grey": {"-": []}}
    for member in ce.MEMBERS:
        predictions[member] = {"-": []} if ce.MODEL_KIND[member] == "regression" else {d: [] for d in color.DECODINGS}
    predictions["ground truth"] = {"-": []}
    table_order = [(m, d) for m, by in predictions.items() for d in by]
    shown = [key for _, key in figure_columns(predictions)]
    assert shown == [key for key in table_order if key in shown]
    assert [key for key in table_order if key[0] == "rebalanced"] == [key for key in shown if key[0] == "rebalanced"]


def test_notebook_sentences_match_the_numbers_they_state():
    from course_lib import color
    from course_lib import translation as T
    from course_lib.experiments import diffusion as D
    from course_lib.experiments import pix2pix_ablation as A
    from course_lib.receptive_field import conv_output_size, receptive_field

    # 01: the floor sentence
    assert "255 gives 127" in markdown_of("01_receptive_fields", "d5a0eb61")
    assert conv_output_size(255, 4, 2, 1, 1) == 127 and conv_output_size(255, 3, 2, 1, 1) == conv_output_size(256, 3, 2, 1, 1) == 128
    # 03: exercise 1's answer box
    b = color.annealed_mean(torch.tensor([0.5, 0.3, 0.2]).reshape(1, 3, 1, 1),
                            torch.tensor([[0.0, 60.0], [0.0, -60.0], [0.0, 0.0]]), T=0.38)[0, 1, 0, 0].item()
    assert f"= {b:.2f} (the check prints the same)" in markdown_of("03_colorization", "a1680af5")
    # 06: the PatchGAN's ratio
    cfg = A.Config.make("fast")
    rf = receptive_field(T.build_discriminator(cfg, 2)).size
    assert f"{rf}/{cfg.size} = {rf / cfg.size:.2f}" in markdown_of("06_pix2pix", "dfaf580e")
    # 09: which eta samples what, and the stored networks' steps
    dcfg = D.Config.make("fast")
    assert dcfg.sr_eta == 1.0 and "η = 1 (`cfg.sr_eta`) for the super-resolution" in markdown_of("09_diffusion", "ca72fb6f")
    steps = [dcfg.steps_ddpm, dcfg.steps_sr_diffusion, dcfg.steps_sr_regression]
    assert f"for {min(steps)} to {max(steps):,} steps" in markdown_of("09_diffusion", "6209e60f")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_relative_links_of_the_notebooks_resolve(path):
    cells = nbformat.read(path, as_version=4).cells
    for cell in cells[2:]:
        if cell.cell_type == "markdown":
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", cell.source):
                if not target.startswith(("http://", "https://")):
                    assert (path.parent / target).exists(), f"{path.name} links to {target}, which does not exist"
