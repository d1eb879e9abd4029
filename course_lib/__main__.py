"""Command line of the course: ``python -m course_lib <command>`` (or ``course <command>``).

Commands:
    run         execute the notebooks headless and write executed copies (.ipynb and .html)
    train       train an experiment from scratch and store its weights (with the command that made them)
    reproduce   score an experiment's stored weights (train-or-load; --retrain trains first), print its table
    info        show the profile, device and package versions (--full: what the full profile would cost here)
    bench       img/s, FLOP/s and peak memory of the training steps, fp32 and the fast path (bf16 + channels_last)
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

from .data.paths import repo_root



MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # the configurations jupyter-server-mathjax ships


def copy_mathjax(build_dir: Path) -> str:
    """Copy the MathJax that the ``jupyter-server-mathjax`` package ships to ``build_dir/mathjax/``
    (once) and return the URL of its script relative to ``build_dir``: the HTML pages written
    there render their maths offline, and the folder can be moved or served as a whole.

    Raises:
        ModuleNotFoundError: when ``jupyter-server-mathjax`` is not installed (it comes with ``.[dev]``).
    """
    import shutil

    try:
        import jupyter_server_mathjax
    except ImportError:
        raise ModuleNotFoundError("the HTML copies need a local MathJax: pip install jupyter-server-mathjax "
                                  "(or pip install -e \".[dev]\" in the checkout)",
                                  name="jupyter_server_mathjax") from None
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    dest = build_dir / "mathjax"
    if not (dest / "MathJax.js").is_file():
        shutil.copytree(source, dest, dirs_exist_ok=True)
    return f"mathjax/MathJax.js?config={MATHJAX_CONFIG}"


# The lab template without its require.js line (fetched from a CDN, needed only by widgets; kept
# for a notebook that stores widget state).
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}
{%- if "widgets" in nb.metadata -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_requirejs -%}
"""


def offline_html_exporter(build_dir: Path):
    """nbconvert's ``HTMLExporter`` (lab template) for pages written to ``build_dir`` that load
    nothing from the internet: MathJax from ``build_dir/mathjax/`` (:func:`copy_mathjax`), no
    require.js unless the notebook stores widget state, and no Mermaid (none of the notebooks
    draws a Mermaid diagram; one would show as its source text)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file="course_offline.html.j2",
                        extra_loaders=[DictLoader({"course_offline.html.j2": _OFFLINE_TEMPLATE})],
                        mathjax_url=copy_mathjax(build_dir), mermaid_js_url="", mermaid_layout_elk_js_url="")


def _kernel_config():
    """nbclient's configuration: the kernel's ZeroMQ sockets encrypted (CurveZMQ) where pyzmq,
    jupyter_client and the kernelspec support it, so ipykernel does not warn that it runs "over TCP
    without encryption"."""
    import zmq
    from jupyter_client import KernelManager
    from traitlets.config import Config

    config = Config()
    if KernelManager.class_traits().get("transport_encryption") is not None and zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"
    return config


def _run_notebooks(args) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    from .progress import PROGRESS_ENV

    nb_dir = Path(args.notebooks_dir)
    paths = sorted(nb_dir.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [p for p in paths if any(key in p.name for key in args.only)]
    if not paths:
        print(f"no notebooks matched in {nb_dir}", file=sys.stderr)
        return 2
    out_dir = Path(args.build_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ["COURSE_PROFILE"] = args.profile  # the kernels inherit the environment
    os.environ[PROGRESS_ENV] = "text"  # no widget frontend here: text bars that keep their last line
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        exporter = offline_html_exporter(out_dir)
    except ModuleNotFoundError as err:
        print(f"run: {err}", file=sys.stderr)
        return 2
    coalesce = CoalesceStreamsPreprocessor()  # one stream output per run of writes; "\r" resolved
    config = _kernel_config()
    rows = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3", config=config,
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        print(f"running {path.name} ...", flush=True)
        start = time.perf_counter()
        status = "ok"
        try:
            client.execute()
        except CellTimeoutError:
            status = f"timeout (a cell ran > {args.timeout} s)"
        except CellExecutionError as err:
            status = f"error: {err.ename}: {err.evalue}"[:120]
        except Exception as err:  # kernel died, etc.
            status = f"error: {type(err).__name__}: {err}"[:120]
        seconds = time.perf_counter() - start
        nb, _ = coalesce.preprocess(nb, {})
        nbformat.write(nb, out_dir / path.name)
        html, _ = exporter.from_notebook_node(nb)
        (out_dir / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
        rows.append((path.name, seconds, status))
    width = max(len(r[0]) for r in rows)
    print(f"\nprofile: {args.profile}; executed copies in {out_dir}/\n")
    print(f"| {'notebook':{width}} | seconds | status")
    print(f"|{'-' * (width + 2)}|---------|-------")
    for name, seconds, status in rows:
        print(f"| {name:{width}} | {seconds:7.1f} | {status}")
    print(f"| {'total':{width}} | {sum(r[1] for r in rows):7.1f} |")
    return 0 if all(r[2] == "ok" for r in rows) else 1


def _print_table(table: list[dict]) -> None:
    from .experiments.common import format_value

    cols = list(table[0])
    print(" | ".join(cols))
    for row in table:
        print(" | ".join(format_value(row.get(c), 4) for c in cols))


def _train(args) -> int:
    from . import distributed
    from .experiments import common

    module = common.experiment(args.name)
    cfg = module.Config.make(args.profile)
    if not common.members_of(module, cfg):
        print(f"{args.name} trains nothing: it scores other experiments' weights "
              f"(python -m course_lib reproduce {args.name})", file=sys.stderr)
        return 2
    for seed in args.seed:
        runs = common.train(module, cfg, seed, members=args.member or None, progress=not args.quiet,
                            precision=getattr(args, "precision", None),
                            checkpoint_every=getattr(args, "checkpoint_every", None),
                            resume=getattr(args, "resume", False))
        for member, run in runs.items():
            if not distributed.is_main():  # under torchrun, rank 0 alone reports
                continue
            files = ", ".join(str(common.weights_path(stem, cfg.profile, seed)) for stem in run.stored.values())
            print(f"{args.name} {member}, seed {seed}: {run.meta['steps']} steps in {run.meta['train_seconds']} s"
                  + (f" -> {files}" if files else ""))
    return 0


def _reproduce(args) -> int:
    from .experiments import common

    runs = []
    for seed in args.seed:
        results = common.reproduce(args.name, args.profile, seed, retrain=args.retrain or None, progress=not args.quiet)
        print(f"# {args.name}, profile {results['profile']}, seed {seed} ({results['seconds']} s)")
        _print_table(results["table"])
        runs.append(results)
    out = {k: v for k, v in runs[0].items() if isinstance(v, (str, int, float, list, dict))}
    if len(runs) > 1:
        out = {"experiment": args.name, "profile": runs[0]["profile"], "seeds": args.seed,
               "runs": [{k: v for k, v in r.items() if k in ("seed", "seconds", "config", "table")} for r in runs],
               "summary": common.summarize_seeds([r["table"] for r in runs])}
        print(f"# {args.name}: mean and sample sd over seeds {args.seed}")
        _print_table(out["summary"])
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2, default=_json_default))
        print(f"metrics written to {args.out}")
    return 0


def _moved_instructor(args) -> int:
    print("the instructor's commands moved to their own package: python -m course_admin "
          + " ".join(args.rest or ["--help"]), file=sys.stderr)
    return 2


def _json_default(value):
    """Tensors and arrays are left out of the JSON (a shape note instead); other objects as text."""
    shape = getattr(value, "shape", None)
    return f"<{type(value).__name__} of shape {tuple(shape)}>" if shape is not None else str(value)


def _info(args) -> int:
    import torch

    from .device import get_device
    from .profile import get_profile

    print(f"course_lib {importlib.import_module('course_lib').__version__} at {Path(__file__).parent}")
    print(f"profile: {get_profile()}; device: {get_device()}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    from .precision import resolve

    try:
        print(f"training precision: {resolve().describe()} (COURSE_PRECISION, COURSE_CHANNELS_LAST, COURSE_COMPILE, COURSE_FUSED_OPTIMIZER)")
    except ValueError as err:
        print(f"training precision: {err}")
    from .distributed import describe

    print(f"processes: {describe()}")
    if args.full:
        from .profile import describe_full

        print(describe_full())
    else:
        print("the full profile (COURSE_PROFILE=full or --profile full) downloads data and trains for hours: "
              "`python -m course_lib info --full` lists what and how long on this device")
    return 0


def _bench(args) -> int:
    from .bench import main as bench_main

    return bench_main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute the notebooks headless; write .ipynb and .html copies")
    p.add_argument("only", nargs="*", help="run only notebooks whose file name contains one of these (e.g. 01 02)")
    p.add_argument("--profile", choices=("fast", "full"), default="fast",
                   help="fast (default, on any device) or full (the papers' settings: downloads and hours of "
                        "training, listed before it starts)")
    p.add_argument("--notebooks-dir", default=str(repo_root() / "notebooks"))
    p.add_argument("--build-dir", default=str(repo_root() / "build" / "notebooks"))
    p.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell (default 900)")
    p.set_defaults(func=_run_notebooks)

    from .experiments.common import experiment_names

    names = experiment_names()
    seeds = dict(type=int, nargs="+", default=[0],
                 help="one or more seeds (e.g. --seed 0 1 2); the committed weights are the fast profile's seed 0")
    profile = dict(choices=("fast", "full"), default=None,
                   help="default: COURSE_PROFILE, else fast (on any device; full says first what it will "
                        "download and how long it will train)")

    p = sub.add_parser("train", help="train an experiment from scratch and store its weights")
    p.add_argument("name", choices=names)
    p.add_argument("--profile", **profile)
    p.add_argument("--seed", **seeds)
    p.add_argument("--member", nargs="+", help="train only these members (e.g. --member L1 cGAN)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default=None,
                   help="default: COURSE_PRECISION, else auto (bf16 or fp16 autocast on CUDA GPUs, fp32 on the CPU "
                        "so that the stored weights stay reproducible; bf16 opts in on a CPU that supports it)")
    p.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                   help="write a resumable checkpoint every N steps (default: 1000 in the full profile, "
                        "none in the fast one; 0: none)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint of an interrupted training (from scratch when there is none)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_train)

    p = sub.add_parser("reproduce", help="score an experiment's stored weights (or retrain first); print its table")
    p.add_argument("name", choices=names)
    p.add_argument("--profile", **profile)
    p.add_argument("--seed", **seeds)
    p.add_argument("--retrain", action="store_true", help="train from scratch first (and store the weights)")
    p.add_argument("--out", help="write the table(s) and config to this JSON file")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_reproduce)

    p = sub.add_parser("instructor", help="moved: use python -m course_admin")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_moved_instructor)

    p = sub.add_parser("info", help="show profile, device and versions")
    p.add_argument("--full", action="store_true",
                   help="also list what the full profile downloads and how long it trains on this device")
    p.set_defaults(func=_info)

    from .bench import add_arguments as bench_arguments

    p = sub.add_parser("bench", help="img/s, FLOP/s and peak memory of the training steps (fp32 and the fast path)")
    bench_arguments(p)
    p.set_defaults(func=_bench)

    args = parser.parse_args(argv)
    if getattr(args, "profile", None) == "full":
        from .profile import announce_full

        if args.command == "run":
            only = {p.name[:2] for p in Path(args.notebooks_dir).glob("[0-9][0-9]_*.ipynb")
                    if not args.only or any(key in p.name for key in args.only)}
        else:
            only = {args.name}
        announce_full(only=only, once=True)  # before anything is downloaded or trained
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
