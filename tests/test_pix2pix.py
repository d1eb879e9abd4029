"""course_lib.models.pix2pix: shapes, factories, initialisation, the image pool; course_lib.models.official:
loading checkpoints of the official pix2pix/CycleGAN code (fixtures in tests/fixtures/compat, see its README)."""
import json
from pathlib import Path

import pytest
import torch

from course_lib.losses import GANLoss
from course_lib.models import pix2pix as P
from course_lib.models.official import describe_official_checkpoint, load_official_state_dict, official_keys
from course_lib.models.pix2pix import (ImagePool, NLayerDiscriminator, PixelDiscriminator, ResnetGenerator,
                                       UnetGenerator, define_D, define_G, init_weights)

FIXTURES = Path(__file__).parent / "fixtures" / "compat"
LAYOUT = json.loads((FIXTURES / "official_state_dict_keys.json").read_text())


def _fixture_model(name):
    return {
        "unet_256_ngf4_batch_dropout": lambda: UnetGenerator(3, 3, 8, ngf=4, norm="batch", use_dropout=True),
        "resnet_9blocks_ngf4_instance": lambda: ResnetGenerator(3, 3, ngf=4, norm="instance", n_blocks=9),
        "nlayers3_ndf4_batch_in6": lambda: NLayerDiscriminator(6, ndf=4, n_layers=3, norm="batch"),
        "pixel_ndf4_batch_in6": lambda: PixelDiscriminator(6, ndf=4, norm="batch"),
    }[name]()


FIXTURE_NAMES = ["unet_256_ngf4_batch_dropout", "resnet_9blocks_ngf4_instance", "nlayers3_ndf4_batch_in6",
                 "pixel_ndf4_batch_in6"]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_official_fixture_outputs_are_reproduced(name):
    blob = torch.load(FIXTURES / f"{name}.pt", weights_only=True)
    model = load_official_state_dict(_fixture_model(name), blob["state_dict"]).eval()
    with torch.no_grad():
        out = model(blob["input"])
    assert out.shape == blob["output_eval"].shape
    assert (out - blob["output_eval"]).abs().max().item() <= 1e-5


def test_loading_from_a_path_with_dataparallel_prefix(tmp_path):
    blob = torch.load(FIXTURES / "nlayers3_ndf4_batch_in6.pt", weights_only=True)
    path = tmp_path / "latest_net_D.pth"
    torch.save({f"module.{k}": v for k, v in blob["state_dict"].items()}, path)
    model = load_official_state_dict(NLayerDiscriminator(6, ndf=4), path).eval()
    with torch.no_grad():
        assert torch.allclose(model(blob["input"]), blob["output_eval"], atol=1e-5)


def test_old_instancenorm_running_stats_are_dropped():
    blob = torch.load(FIXTURES / "resnet_9blocks_ngf4_instance.pt", weights_only=True)
    state = dict(blob["state_dict"])
    # an old CycleGAN checkpoint: InstanceNorm layers at model.2 and inside each block carry statistics
    for prefix, ch in [("model.2", 4), ("model.10.conv_block.2", 16), ("model.10.conv_block.6", 16)]:
        state[f"{prefix}.running_mean"] = torch.zeros(ch)
        state[f"{prefix}.running_var"] = torch.ones(ch)
        state[f"{prefix}.num_batches_tracked"] = torch.tensor(0)
    model = load_official_state_dict(ResnetGenerator(3, 3, ngf=4, norm="instance"), state).eval()
    with torch.no_grad():
        assert (model(blob["input"]) - blob["output_eval"]).abs().max() <= 1e-5


@pytest.mark.parametrize("model_fn, pattern", [
    (lambda: UnetGenerator(3, 3, 7, ngf=4, norm="batch", use_dropout=True), r"looks like unet_256"),
    (lambda: ResnetGenerator(3, 3, ngf=4, n_blocks=6), r"looks like unet_256"),
])
def test_mismatched_checkpoint_names_the_architecture(model_fn, pattern):
    blob = torch.load(FIXTURES / "unet_256_ngf4_batch_dropout.pt", weights_only=True)
    with pytest.raises(ValueError, match=pattern):
        load_official_state_dict(model_fn(), blob["state_dict"])


def test_resnet_checkpoint_into_wrong_block_count_says_resnet_9blocks():
    blob = torch.load(FIXTURES / "resnet_9blocks_ngf4_instance.pt", weights_only=True)
    with pytest.raises(ValueError, match=r"resnet_9blocks.*ngf 4"):
        load_official_state_dict(ResnetGenerator(3, 3, ngf=4, n_blocks=6), blob["state_dict"])
    with pytest.raises(ValueError, match="shapes differ"):
        load_official_state_dict(ResnetGenerator(3, 3, ngf=8, n_blocks=9), blob["state_dict"])


@pytest.mark.parametrize("title, build", [
    ("unet_256 (in 3, out 3, ngf 64, norm batch, dropout)", lambda: define_G("unet_256", 3, 3, 64, "batch", True)),
    ("unet_128 (in 3, out 3, ngf 64, norm batch, dropout)", lambda: define_G("unet_128", 3, 3, 64, "batch", True)),
    ("resnet_9blocks (in 3, out 3, ngf 64, norm instance)", lambda: define_G("resnet_9blocks", 3, 3, 64, "instance")),
    ("resnet_6blocks (in 3, out 3, ngf 64, norm instance)", lambda: define_G("resnet_6blocks", 3, 3, 64, "instance")),
    ("basic D = n_layers 3 (in 6, ndf 64, norm batch)", lambda: define_D("basic", 6)),
    ("pixel D (in 6, ndf 64, norm batch)", lambda: define_D("pixel", 6)),
])
def test_full_width_official_layout_keys_and_shapes(title, build):
    model = build()
    assert official_keys(model) == [k for k, _, _ in LAYOUT[title]]
    assert [list(v.shape) for v in model.state_dict().values()] == [s for _, s, _ in LAYOUT[title]]
    described = describe_official_checkpoint({k: torch.zeros(s) for k, s, _ in LAYOUT[title]})
    assert described.startswith(title.split(" ")[0])


@pytest.mark.parametrize("name, size", [("unet_32", 32), ("unet_128", 128), ("resnet_6blocks", 32)])
def test_generators_keep_the_image_size(name, size):
    G = define_G(name, 1, 3, ngf=4, norm="batch" if name.startswith("unet") else "instance")
    out = G(torch.randn(2, 1, size, size))
    assert out.shape == (2, 3, size, size) and out.abs().max() <= 1


def test_unet_levels_are_named_and_skips_matter():
    G = UnetGenerator(1, 1, 5, ngf=4)
    assert list(G.encoder) == [f"down{k}" for k in range(1, 6)]
    assert list(G.decoder) == [f"up{k}" for k in range(5, 0, -1)]
    with pytest.raises(ValueError, match="divisible by 32"):
        G(torch.zeros(1, 1, 48, 40))
    with pytest.raises(ValueError):
        UnetGenerator(1, 1, 4)


def test_dropout_sits_in_the_inner_decoder_levels():
    G = UnetGenerator(3, 3, 8, ngf=4, use_dropout=True)
    with_dropout = [n for n, lvl in G.decoder.items() if any(isinstance(m, torch.nn.Dropout) for m in lvl)]
    assert with_dropout == ["up7", "up6", "up5"]


def test_factories_and_errors():
    assert define_D("basic", 6, n_layers=5).n_layers == 3
    assert define_D("n_layers", 6, n_layers=5).n_layers == 5
    assert isinstance(define_D("pixel", 6), PixelDiscriminator)
    assert define_D("basic", 6, ndf=4)(torch.zeros(1, 6, 64, 64)).shape == (1, 1, 6, 6)
    for bad in ("unet_100", "unet_16", "resnet"):
        with pytest.raises(ValueError):
            define_G(bad, 3, 3)
    with pytest.raises(ValueError):
        define_D("patch", 6)
    assert P.GANLoss is GANLoss


def test_init_weights_normal_002():
    torch.manual_seed(0)
    G = init_weights(UnetGenerator(3, 3, 6, ngf=32))
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, torch.nn.Conv2d)])
    assert abs(w.mean().item()) < 2e-3 and abs(w.std().item() - 0.02) < 2e-3
    bn = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(abs(m.weight.mean().item() - 1) < 0.02 and m.bias.abs().max() == 0 for m in bn)
    with pytest.raises(ValueError):
        init_weights(G, "uniform")


def test_image_pool_fills_then_mixes_old_and_new():
    pool = ImagePool(4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool) == 4
    new = 10.0 + torch.arange(200.0)
    returned = torch.cat([pool.query(v.view(1, 1, 1, 1)) for v in new]).flatten()
    from_pool = returned != new
    assert 0.35 < from_pool.float().mean() < 0.65, "about half the answers should come from the pool"
    assert (returned[from_pool] < new[from_pool]).all(), "what comes from the pool is older"
    assert len(pool) == 4 and set(torch.cat(pool.images).flatten().tolist()) <= set(returned.tolist()) | set(new.tolist())
    assert torch.equal(ImagePool(0).query(first), first)
    x = torch.randn(2, 1, 2, 2, requires_grad=True)
    assert not ImagePool(5).query(x * 2).requires_grad
