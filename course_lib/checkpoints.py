"""Train-or-load: small weight files trained earlier by the course's own code.

A notebook may load weights instead of training them when (the project's rule):

* the command that produced them is stored in the file and listed in ``course_lib/weights/README.md``;
* one switch retrains from scratch (``retrain=True`` here, or ``COURSE_RETRAIN=1`` in the environment);
* the file is small (weights are stored in float16: a few MB at most);
* a test retrains a few steps and checks that the loss falls.

File format: ``torch.save`` of ``{"state_dict": ..., "command": str, "meta": dict}``; floating-point
tensors are stored as float16 and restored to the model's dtype on load.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch
from torch import nn

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def retrain_requested() -> bool:
    """True when the environment variable ``COURSE_RETRAIN`` is ``1``, ``true`` or ``yes``."""
    return os.environ.get("COURSE_RETRAIN", "").strip().lower() in ("1", "true", "yes")


def save_weights(model: nn.Module, path: str | Path, command: str, meta: dict | None = None, half: bool = True) -> Path:
    """Save ``model.state_dict()`` (float tensors as float16 when ``half``) with the command that made it.

    Returns the path written. Raises ``ValueError`` if ``command`` is empty: every stored weight file
    must say how to reproduce it.
    """
    if not command or not command.strip():
        raise ValueError("save_weights needs the command that produced the weights (for the README and the file)")
    state = {k: (v.detach().to("cpu", torch.float16) if half and v.is_floating_point() else v.detach().cpu())
             for k, v in model.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, "command": command, "meta": dict(meta or {})}, path)
    return path


def load_weights(model: nn.Module, path: str | Path) -> dict:
    """Load a file written by :func:`save_weights` into ``model`` (in place); returns its ``meta``.

    Raises:
        FileNotFoundError: the file is missing; the message names the file and the command that
            recreates it when known.
        RuntimeError: the file does not match the model (from ``load_state_dict``), with the file named.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weight file {path} is missing. Retrain with retrain=True (or COURSE_RETRAIN=1), "
                                f"or restore it with `git checkout -- {path.name}` in {path.parent}.")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    reference = model.state_dict()
    state = {k: v.to(reference[k].dtype) if k in reference and v.is_floating_point() else v
             for k, v in blob["state_dict"].items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise RuntimeError(f"{path} does not fit {type(model).__name__} (was it made by `{blob.get('command')}`?): "
                           f"{err}") from None
    return dict(blob.get("meta", {}), command=blob.get("command"))


def record_in_weights(path: str | Path, **entries) -> None:
    """Add ``entries`` to the ``meta`` of a weight file written by :func:`course_lib.checkpoints.save_weights`
    (e.g. ``held_out_curve=score_checkpoints(...)``), keeping its weights and command."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    blob["meta"] = dict(blob.get("meta", {}), **entries)
    torch.save(blob, path)


def load_frozen(model: nn.Module, stem: str, experiment: str, what: str, device=None) -> nn.Module:
    """Load the committed ``course_lib/weights/<stem>.pt`` into ``model`` for scoring: eval mode, gradients off,
    on ``device`` (default CPU), its record in ``model.meta`` (with ``trained=False``). Never trains (the judges
    of the course's scores do not follow ``COURSE_RETRAIN=1``: retraining a generator must not move the scale it
    is read on) and seeds nothing.

    Args:
        experiment: the experiment that makes the file (for the message); what: the network in words.

    Raises:
        FileNotFoundError: the weight file is missing (the message says how to restore or retrain it).
    """
    path = WEIGHTS_DIR / f"{stem}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{what}'s weights {path} are missing: restore them with "
                                f"`git checkout -- {path.name}` in {path.parent}, or retrain them with "
                                f"`python -m course_lib train {experiment}`")
    model.meta = dict(load_weights(model, path), trained=False)
    model.to(device or "cpu").eval().requires_grad_(False)
    return model


def train_or_load(model: nn.Module, path: str | Path, train_fn: Callable[[nn.Module], dict | None], command: str,
                  retrain: bool | None = None) -> dict:
    """Load ``path`` into ``model`` if it exists, else train with ``train_fn(model)`` and save.

    Args:
        model: the freshly built model (its weights are replaced).
        path: the weight file.
        train_fn: trains ``model`` in place; may return a dict of metadata to store (e.g. accuracy).
        command: the shell command that reproduces the file (stored in it).
        retrain: ``True`` always trains (and overwrites the file); ``None`` follows ``COURSE_RETRAIN``.

    Returns:
        The stored metadata, with ``"trained": True`` when this call trained the model.
    """
    retrain = retrain_requested() if retrain is None else retrain
    path = Path(path)
    if path.is_file() and not retrain:
        return dict(load_weights(model, path), trained=False)
    meta = train_fn(model) or {}
    save_weights(model, path, command, meta)
    return dict(meta, command=command, trained=True)
