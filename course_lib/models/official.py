"""Loading checkpoints of the authors' public pix2pix / CycleGAN code into the course's networks.

The official repository (junyanz/pytorch-CycleGAN-and-pix2pix; Isola et al. 2017, Zhu et al. 2017) builds
the same networks as :mod:`course_lib.models.pix2pix` as nested ``nn.Sequential`` blocks, so its state_dict
keys are positional (``"model.model.1.model.3..."``). We do not copy that code: the *names* its layout gives
each parameter are generated from the architecture alone, in parameter order (:func:`official_keys`), and
zipped with our own names (:func:`load_official_state_dict`). :func:`describe_official_checkpoint` reads
which architecture a checkpoint is from its keys and shapes, for error messages. Notebook 06's last section
and ``tests/test_pix2pix.py`` (fixtures in ``tests/fixtures/compat``) use them.
"""
from __future__ import annotations

import re

import torch
from torch import nn

from .pix2pix import NLayerDiscriminator, PixelDiscriminator, ResnetGenerator, UnetGenerator, _uses_bias

_STATS = ("running_mean", "running_var", "num_batches_tracked")


def _norm_keys(prefix: str, norm: str) -> list[str]:
    if norm == "batch":
        return [f"{prefix}.{s}" for s in ("weight", "bias") + _STATS]
    return []  # InstanceNorm(affine=False) and no norm carry nothing


def _conv_keys(prefix: str, bias: bool) -> list[str]:
    return [f"{prefix}.weight"] + ([f"{prefix}.bias"] if bias else [])


def _official_unet_keys(num_downs: int, norm: str) -> list[str]:
    bias = _uses_bias(norm)

    def block(k: int) -> str:  # prefix of the k-th nested block, k = 1 is the outermost
        return "model.model" if k == 1 else "model.model.1" + ".model.3" * (k - 2) + ".model"

    keys = _conv_keys(f"{block(1)}.0", bias)
    for k in range(2, num_downs):
        keys += _conv_keys(f"{block(k)}.1", bias) + _norm_keys(f"{block(k)}.2", norm)
    inner = block(num_downs)
    keys += _conv_keys(f"{inner}.1", bias) + _conv_keys(f"{inner}.3", bias) + _norm_keys(f"{inner}.4", norm)
    for k in range(num_downs - 1, 1, -1):
        keys += _conv_keys(f"{block(k)}.5", bias) + _norm_keys(f"{block(k)}.6", norm)
    keys += _conv_keys(f"{block(1)}.3", True)
    return keys


def _official_resnet_keys(n_blocks: int, norm: str, use_dropout: bool) -> list[str]:
    bias = _uses_bias(norm)
    keys = _conv_keys("model.1", bias) + _norm_keys("model.2", norm)
    keys += _conv_keys("model.4", bias) + _norm_keys("model.5", norm)
    keys += _conv_keys("model.7", bias) + _norm_keys("model.8", norm)
    second = 6 if use_dropout else 5
    for b in range(n_blocks):
        p = f"model.{10 + b}.conv_block"
        keys += _conv_keys(f"{p}.1", bias) + _norm_keys(f"{p}.2", norm)
        keys += _conv_keys(f"{p}.{second}", bias) + _norm_keys(f"{p}.{second + 1}", norm)
    i = 10 + n_blocks
    keys += _conv_keys(f"model.{i}", bias) + _norm_keys(f"model.{i + 1}", norm)
    keys += _conv_keys(f"model.{i + 3}", bias) + _norm_keys(f"model.{i + 4}", norm)
    keys += _conv_keys(f"model.{i + 7}", True)
    return keys


def _official_nlayer_keys(n_layers: int, norm: str) -> list[str]:
    bias = _uses_bias(norm)
    keys = _conv_keys("model.0", True)
    i = 2
    for _ in range(n_layers):
        keys += _conv_keys(f"model.{i}", bias) + _norm_keys(f"model.{i + 1}", norm)
        i += 3 if norm != "none" else 2
    keys += _conv_keys(f"model.{i}", True)
    return keys


def _official_pixel_keys(norm: str) -> list[str]:
    bias = _uses_bias(norm)
    return _conv_keys("net.0", True) + _conv_keys("net.2", bias) + _norm_keys("net.3", norm) + _conv_keys("net.5", bias)


def official_keys(model: nn.Module) -> list[str]:
    """The state_dict keys the official pix2pix/CycleGAN code gives the network that ``model`` is,
    in the order of ``model.state_dict()`` (so ``zip(official_keys(m), m.state_dict())`` pairs them).

    Raises:
        TypeError: for a model that is none of this module's four networks.
    """
    if isinstance(model, UnetGenerator):
        return _official_unet_keys(model.num_downs, model.norm)
    if isinstance(model, ResnetGenerator):
        return _official_resnet_keys(model.n_blocks, model.norm, model.use_dropout)
    if isinstance(model, NLayerDiscriminator):
        return _official_nlayer_keys(model.n_layers, model.norm)
    if isinstance(model, PixelDiscriminator):
        return _official_pixel_keys(model.norm)
    raise TypeError(f"no official layout for {type(model).__name__}")


def describe_official_checkpoint(state_dict: dict) -> str:
    """Guess which official architecture a state_dict (official key names) belongs to, e.g.
    ``"unet_256 (UnetGenerator, num_downs=8, in 3, out 3, ngf 64, norm batch)"``.

    Read from the keys and shapes only; used in the error of :func:`load_official_state_dict`.
    """
    sd = _strip_module_prefix(state_dict)
    keys = list(sd)
    shape = {k: tuple(v.shape) for k, v in sd.items() if hasattr(v, "shape")}
    has_stats = any(k.endswith("running_mean") for k in keys)
    if any(".conv_block." in k for k in keys):
        blocks = {k.split(".")[1] for k in keys if ".conv_block." in k}
        w = shape.get("model.1.weight", (0, 0))
        last = max((k for k in keys if k.endswith(".weight") and ".conv_block." not in k),
                   key=lambda k: int(k.split(".")[1]))
        norm = "instance or none" if not any(k.startswith("model.2.") for k in keys) else "batch (or old instance)"
        dropout = any(".conv_block.6." in k for k in keys)
        return (f"resnet_{len(blocks)}blocks (ResnetGenerator, n_blocks={len(blocks)}, in {w[1]}, "
                f"out {shape[last][0]}, ngf {w[0]}, norm {norm}{', dropout' if dropout else ''})")
    if any(k.startswith("model.model.") for k in keys):
        # the innermost up-convolution sits under num_downs - 1 nested ".model.3" indices
        depth = max(len(re.findall(r"\.model\.3(?=\.)", k)) for k in keys) + 1
        w = shape.get("model.model.0.weight", (0, 0))
        out = shape.get("model.model.3.weight", (0, 0))
        return (f"unet_{2 ** depth} (UnetGenerator, num_downs={depth}, in {w[1] if len(w) > 1 else '?'}, "
                f"out {out[1] if len(out) > 1 else '?'}, ngf {w[0]}, norm {'batch' if has_stats else 'instance'})")
    if any(k.startswith("net.") for k in keys):
        w = shape.get("net.0.weight", (0, 0))
        return f"pixel (PixelDiscriminator, in {w[1] if len(w) > 1 else '?'}, ndf {w[0]})"
    convs = [k for k in keys if k.endswith(".weight") and len(shape.get(k, ())) == 4]
    if convs and all(k.startswith("model.") for k in keys):
        w = shape[convs[0]]
        n_layers = len(convs) - 2
        rf = {1: 16, 2: 34, 3: 70, 4: 142, 5: 286}.get(n_layers, "?")
        return (f"{'basic' if n_layers == 3 else 'n_layers'} (NLayerDiscriminator, n_layers={n_layers} = {rf}x{rf} "
                f"PatchGAN, in {w[1]}, ndf {w[0]}, norm {'batch' if has_stats else 'instance or none'})")
    return "no known pix2pix/CycleGAN network (first keys: " + ", ".join(keys[:3]) + ")"


def _strip_module_prefix(state_dict: dict) -> dict:
    if state_dict and all(k.startswith("module.") for k in state_dict):
        return {k[len("module."):]: v for k, v in state_dict.items()}
    return dict(state_dict)


def _describe_ours(model: nn.Module) -> str:
    if isinstance(model, UnetGenerator):
        return (f"unet_{2 ** model.num_downs} (UnetGenerator, num_downs={model.num_downs}, in {model.in_channels}, "
                f"out {model.out_channels}, ngf {model.ngf}, norm {model.norm})")
    if isinstance(model, ResnetGenerator):
        return (f"resnet_{model.n_blocks}blocks (ResnetGenerator, in {model.in_channels}, out {model.out_channels}, "
                f"ngf {model.ngf}, norm {model.norm})")
    if isinstance(model, NLayerDiscriminator):
        return f"NLayerDiscriminator(n_layers={model.n_layers}, in {model.in_channels}, ndf {model.ndf}, norm {model.norm})"
    return f"PixelDiscriminator(in {model.in_channels}, ndf {model.ndf}, norm {model.norm})"


def load_official_state_dict(model: nn.Module, state_dict_or_path) -> nn.Module:
    """Load a checkpoint of the official pix2pix/CycleGAN code into one of our networks (in place).

    Works for ``latest_net_G.pth`` / ``latest_net_D.pth`` files of junyanz/pytorch-CycleGAN-and-pix2pix
    (e.g. ``facades_label2photo``, ``horse2zebra``) whatever our parameter names are: each official key
    is generated from our architecture (:func:`official_keys`) and paired with our key in parameter
    order, and every shape is checked. Handled on the way:

    * the ``module.`` prefix of checkpoints saved from ``DataParallel``;
    * ``running_mean`` / ``running_var`` / ``num_batches_tracked`` of InstanceNorm layers, which older
      CycleGAN checkpoints carry and today's InstanceNorm(track_running_stats=False) has not: dropped;
    * a checkpoint file that wraps the weights as ``{"state_dict": ...}``.

    Outputs then equal the official network's (the tests check max abs difference <= 1e-5 in eval
    mode on fixtures). Note that the official test script runs pix2pix in *train* mode (dropout on,
    batch statistics) unless ``--eval`` is given; call ``model.eval()`` or ``model.train()`` to choose.

    Args:
        model: a :class:`UnetGenerator`, :class:`ResnetGenerator`, :class:`NLayerDiscriminator` or
            :class:`PixelDiscriminator` built with the checkpoint's settings (e.g.
            ``define_G("unet_256", 3, 3, 64, "batch", True)`` for facades_label2photo,
            ``define_G("resnet_9blocks", 3, 3, 64, "instance")`` for horse2zebra).
        state_dict_or_path: a state_dict (mapping) or the path of a ``.pth`` file (loaded on the CPU
            with ``weights_only=True``).

    Returns:
        ``model``.

    Raises:
        ValueError: when the checkpoint does not fit ``model``; the message says which architecture
            the checkpoint looks like and which keys or shapes differ.
        TypeError: for a model of another class.
    """
    if isinstance(state_dict_or_path, (str, bytes)) or hasattr(state_dict_or_path, "__fspath__"):
        state = torch.load(state_dict_or_path, map_location="cpu", weights_only=True)
    else:
        state = state_dict_or_path
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    state = _strip_module_prefix(state)
    expected = official_keys(model)
    ours = list(model.state_dict().keys())
    assert len(expected) == len(ours), "internal error: official layout and our parameters differ in count"
    wanted = set(expected)
    # InstanceNorm statistics of old checkpoints: a stat key whose module has no key in our layout.
    known_modules = {k.rsplit(".", 1)[0] for k in expected}
    extra = [k for k in state if k not in wanted]
    stray_stats = [k for k in extra if k.rsplit(".", 1)[-1] in _STATS and k.rsplit(".", 1)[0] not in known_modules]
    state = {k: v for k, v in state.items() if k not in set(stray_stats)}
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in wanted]
    bad_shapes = [(k, tuple(state[k].shape), tuple(model.state_dict()[o].shape)) for k, o in zip(expected, ours)
                  if k in state and tuple(state[k].shape) != tuple(model.state_dict()[o].shape)]
    if missing or unexpected or bad_shapes:
        details = []
        if missing:
            details.append(f"{len(missing)} keys missing (e.g. {missing[:3]})")
        if unexpected:
            details.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})")
        if bad_shapes:
            details.append(f"{len(bad_shapes)} shapes differ (e.g. {bad_shapes[:2]}: checkpoint vs ours)")
        raise ValueError(f"this checkpoint does not fit {_describe_ours(model)}: it looks like "
                         f"{describe_official_checkpoint(state)}. " + "; ".join(details))
    reference = model.state_dict()
    converted = {o: state[k].to(reference[o].dtype) for k, o in zip(expected, ours)}
    model.load_state_dict(converted)
    return model
