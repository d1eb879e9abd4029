"""The student's side of the grading boundary: a small server that runs the student's cells and
answers calls from the trusted grader (:mod:`course_admin.boundary.client`).

It runs inside the sandbox (bubblewrap; see :mod:`course_admin.bwrap`) as ``python -I server.py``,
with the protocol on stdin/stdout: each message is an 8-byte big-endian length and a payload.

* requests (grader -> here) are pickles. Unpickling here is safe for the grader: this process is the
  student's, and nothing it does is trusted;
* replies (here -> grader) are written with ``torch.save`` and read by the grader with
  ``torch.load(weights_only=True)``, PyTorch's restricted unpickler: tensors, numbers, strings,
  bytes, tuples, lists and dicts only. Anything else a student's function returns (an object, a
  function, a subclass of int) goes back as a *handle*, a number the grader can call through but
  never run or convert.

The grader decides every score from the values it receives; whatever this process claims about
itself (its output, a forged reply on the protocol pipe) is at most a wrong answer. The hidden
tests never reach it: only the arguments of the calls the tests make.

Standard library and torch only, run by its path (this folder is bound read-only in the sandbox).
"""
from __future__ import annotations

import builtins
import io
import os
import pickle
import random
import re
import struct
import sys
import traceback
import types
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run by its path: walk.py lies beside it
from walk import containers as _containers, graph_indices as _graph_indices  # noqa: E402

MAX_TEXT = 200_000  # characters of output kept per request


class Channel:
    def __init__(self, rfd: int, wfd: int):
        self.r, self.w = rfd, wfd

    def read(self) -> bytes:
        head = self._exact(8)
        return self._exact(struct.unpack(">Q", head)[0])

    def _exact(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = os.read(self.r, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the grader closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def write(self, payload: bytes) -> None:
        data = struct.pack(">Q", len(payload)) + payload
        while data:
            n = os.write(self.w, data)
            data = data[n:]


# --- a fake module that the grader's pickles name for rebuilding things here ----------------------

sandbox_module = types.ModuleType("_course_sandbox")
sys.modules["_course_sandbox"] = sandbox_module


class Server:
    def __init__(self, channel: Channel):
        self.channel = channel
        self.main = types.ModuleType("__main__")
        self.main.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = self.main
        self.ns = self.main.__dict__
        self.ns["get_ipython"] = _Shell  # magics (%matplotlib inline, %pip) do nothing here
        self.objects: dict[int, object] = {}
        self.ids: dict[int, int] = {}  # id(obj) -> handle
        self.calls: dict[int, tuple] = {}  # call id -> (outputs needing grad, inputs needing grad)
        self.next_id = 1
        self.out = io.StringIO()
        self.forbidden: dict = {}
        sandbox_module.rebuild_module = self._rebuild_module
        sandbox_module.handle = self._handle_ref
        sandbox_module.callback = self._callback_ref
        sandbox_module.generator = self._generator

    # -- handles
    def handle(self, obj) -> int:
        key = id(obj)
        if key in self.ids and self.objects.get(self.ids[key]) is obj:
            return self.ids[key]
        hid = self.next_id
        self.next_id += 1
        self.objects[hid] = obj
        self.ids[key] = hid
        return hid

    def _handle_ref(self, hid):
        return self.objects[hid]

    def _rebuild_module(self, cls, state, key=None, hooked=False):
        module = object.__new__(cls)
        module.__setstate__(state)
        if hooked:  # the grader's copy has forward hooks: record each call, the grader replays them
            def pre(m, args, kwargs):
                self.hook_log.append(("pre", key, _detached(args), _detached(kwargs)))

            def post(m, args, output):
                self.hook_log.append(("fwd", key, _detached(args), _detached(output)))

            module.register_forward_pre_hook(pre, with_kwargs=True)
            module.register_forward_hook(post)
        return module

    def _generator(self, device, state):
        gen = torch.Generator(device=device)
        gen.set_state(state)
        return gen

    def _callback_ref(self, cid, label):
        server = self

        def callback(*args, **kwargs):
            return server.callback(cid, args, kwargs)

        callback.__name__ = callback.__qualname__ = label
        return callback

    # -- encoding replies: plain data, tensors, handles
    def encode(self, value, tensors: list, args_ids: dict, depth: int = 0, plain_only: bool = False):
        if depth > 50:
            raise ValueError("the value is nested too deeply")
        t = type(value)
        if value is None or t in (bool, int, float, str, bytes, complex):
            return value
        if id(value) in args_ids:
            return {"__t": "arg", "i": args_ids[id(value)]}
        if isinstance(value, torch.Tensor) and t in (torch.Tensor, torch.nn.Parameter):
            tensors.append(value)
            return {"__t": "tensor", "i": len(tensors) - 1, "rg": bool(value.requires_grad),
                    "leaf": bool(value.is_leaf), "param": t is torch.nn.Parameter}
        if t in (tuple, list):
            items = [self.encode(v, tensors, args_ids, depth + 1, plain_only) for v in value]
            return tuple(items) if t is tuple else items
        if t is dict and all(type(k) in (str, int) for k in value):
            return {"__t": "dict", "items": [(k, self.encode(v, tensors, args_ids, depth + 1, plain_only))
                                             for k, v in value.items()]}
        if t.__module__ == "numpy" and t.__name__ == "ndarray" and value.dtype.kind in "biufc":
            return {"__t": "ndarray", "dtype": value.dtype.str, "shape": list(value.shape),
                    "data": value.tobytes()}
        if t.__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "biufc" and value.ndim == 0:
            return {"__t": "npscalar", "dtype": value.dtype.str, "data": value.tobytes()}
        if t is torch.dtype:
            return {"__t": "dtype", "name": str(value)}
        if t is torch.device:
            return {"__t": "device", "name": str(value)}
        if t is torch.Size:
            return {"__t": "size", "dims": [int(d) for d in value]}
        if plain_only:
            raise TypeError("not plain data")
        kind = "object"
        if isinstance(value, type):
            kind = "module_class" if issubclass(value, torch.nn.Module) else "class"
        elif isinstance(value, torch.nn.Module):
            kind = "module"
        elif callable(value):
            kind = "function"
        info = {"__t": "handle", "id": self.handle(value), "kind": kind,
                "name": str(getattr(value, "__name__", t.__name__))[:200]}
        if kind == "module":
            info["describe"] = self.describe_module(value, tensors)
        return info

    def describe_module(self, module, tensors):
        params = []
        for name, p in module.named_parameters(remove_duplicate=False):
            params.append((name, len(tensors), bool(p.requires_grad)))
            tensors.append(p)
        buffers = []
        for name, buf in module.named_buffers(remove_duplicate=False):
            buffers.append((name, len(tensors)))
            tensors.append(buf)
        mods = []
        for path, m in module.named_modules(remove_duplicate=False):
            cls = type(m)
            attrs = {}
            for key, value in vars(m).items():
                if key in ("_parameters", "_buffers", "_modules", "training") or "hook" in key or key.startswith("__"):
                    continue
                if _is_plain(value):
                    attrs[key] = value
            mods.append((path, cls.__module__, cls.__qualname__, bool(m.training), attrs, self.handle(m)))
        persistent = [n for n, _ in module.state_dict(keep_vars=True).items()]
        return {"params": params, "buffers": buffers, "modules": mods, "state_keys": persistent,
                "class": self.handle(type(module))}

    def encode_error(self, err: BaseException) -> dict:
        tb = traceback.format_exception(type(err), err, err.__traceback__)
        tb = [line for line in tb if "/_course_sandbox" not in line and "server.py" not in line]
        return {"__t": "exc", "type": type(err).__name__,
                "builtin": type(err).__module__ == "builtins", "message": str(err)[:4000],
                "traceback": "".join(tb)[-6000:]}

    def reply(self, message: dict, tensors: list | None = None) -> None:
        message["tensors"] = [t.detach() for t in (tensors or [])]
        message["stdout"] = self.take_output()
        buf = io.BytesIO()
        torch.save(message, buf)
        self.channel.write(buf.getvalue())

    def take_output(self) -> str:
        text = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT] + f"\n[the grader kept only the first {MAX_TEXT} characters of this output]\n"
        return text

    # -- requests
    def serve(self) -> None:
        while True:
            request = self.receive()
            if request.get("op") == "quit":
                return
            self.dispatch(request)

    def receive(self) -> dict:
        data = self.channel.read()
        return self.unpickle(data)

    def unpickle(self, data: bytes):
        outer = pickle.loads(data)
        tensors = outer.pop("tensor_list", [])
        made = []
        self.hook_log = []
        self.sent_rg = [i for i, (_, rg, _, _, _) in enumerate(tensors) if rg]
        for index, (payload, requires_grad, is_param, hooked, grad) in enumerate(tensors):
            t = payload.detach().clone() if payload.device.type != "meta" else payload.detach()
            if is_param:
                t = torch.nn.Parameter(t, requires_grad=requires_grad)
            elif requires_grad and (t.is_floating_point() or t.is_complex()):
                t.requires_grad_(True)
            if grad is not None and t.requires_grad:
                t.grad = grad.clone()
            if hooked and t.requires_grad:
                t.register_hook(lambda g, i=index: self.hook_log.append(("tensor", i, g.detach().clone())) and None)
            made.append(t)
        if "payload" in outer:
            server = self

            class Unpickler(pickle.Unpickler):
                def persistent_load(self, pid):
                    if pid[0] == "T":
                        return made[pid[1]]
                    if pid[0] == "H":
                        return server.objects[pid[1]]
                    raise pickle.UnpicklingError(f"unknown reference {pid!r}")

            outer["payload"] = Unpickler(io.BytesIO(outer["payload"])).load()
        outer["made"] = made
        return outer

    def dispatch(self, request: dict) -> None:
        op = request["op"]
        try:
            getattr(self, "op_" + op)(request)
        except BaseException as err:  # noqa: BLE001 - everything goes back as an error reply
            if isinstance(err, (EOFError, KeyboardInterrupt)) and op != "exec":
                raise
            self.reply({"ok": False, "error": self.encode_error(err)})

    def apply_context(self, ctx: dict) -> None:
        self.saved_names = {name: self.ns.get(name, _MISSING) for name in ctx.get("overrides", {})}
        if "torch_rng" in ctx:
            torch.set_rng_state(ctx["torch_rng"])
        if "py_rng" in ctx:
            random.setstate(ctx["py_rng"])
        if ctx.get("np_rng") is not None and "numpy" in sys.modules:
            sys.modules["numpy"].random.set_state(ctx["np_rng"])
        torch.set_grad_enabled(ctx.get("grad_enabled", True))
        for name, value in ctx.get("overrides", {}).items():
            self.ns[name] = value
        # the tests' floating-point and warning settings (np.errstate(divide="raise"), simplefilter("error")):
        # the student's code runs under them as it would in one process; warnings it shows go back to the grader
        self.saved_warnings = (warnings.filters[:], warnings.showwarning)
        self.recorded_warnings = []
        if ctx.get("np_err") is not None:
            import numpy  # noqa: PLC0415

            numpy.seterr(**ctx["np_err"])
        if ctx.get("warn_filters") is not None:
            warnings.filters[:] = [(action, re.compile(msg, re.I) if msg else None, getattr(builtins, cat, Warning),
                                    re.compile(mod) if mod else None, lineno)
                                   for action, msg, cat, mod, lineno in ctx["warn_filters"]]
            warnings._filters_mutated()
            warnings.showwarning = lambda message, category, *a, **k: self.recorded_warnings.append(
                (category.__name__, str(message)))

    def restore_names(self) -> None:
        if getattr(self, "saved_warnings", None):
            warnings.filters[:], warnings.showwarning = self.saved_warnings
            warnings._filters_mutated()
            self.saved_warnings = None
        for name, value in getattr(self, "saved_names", {}).items():
            if value is _MISSING:
                self.ns.pop(name, None)
            else:
                self.ns[name] = value
        self.saved_names = {}

    def context_out(self) -> dict:
        out = {"torch_rng": torch.get_rng_state(), "py_rng": _plain(random.getstate()),
               "warnings": list(getattr(self, "recorded_warnings", []))[:100]}
        self.recorded_warnings = []
        if "numpy" in sys.modules:
            state = sys.modules["numpy"].random.get_state()
            out["np_rng"] = (state[0], state[1].tobytes(), int(state[2]), int(state[3]), float(state[4]))
        return out

    def op_exec(self, request) -> None:
        from IPython.core.inputtransformer2 import TransformerManager  # noqa: PLC0415

        ctx = request["payload"]["ctx"]
        self.apply_context(ctx)
        source = request["payload"]["source"]
        before = {k: id(v) for k, v in self.ns.items()}
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.out
        error = None
        try:
            code = TransformerManager().transform_cell(source)
            exec(compile(code, request["payload"].get("filename", "<cell>"), "exec"), self.ns)
        except BaseException as err:  # noqa: BLE001
            if isinstance(err, SystemExit):
                error = self.encode_error(RuntimeError(f"the cell called exit({err.code!r})"))
            else:
                error = self.encode_error(err)
        finally:
            sys.stdout, sys.stderr = stdout, stderr
            self.restore_names()
        changed = sorted(k for k, v in self.ns.items() if before.get(k) != id(v) and not k.startswith("__"))
        self.reply({"ok": error is None, "error": error, "changed": changed, "ctx": self.context_out()})

    def op_names(self, request) -> None:
        tensors: list = []
        values = {}
        for name in request["payload"]["names"]:
            if name in self.ns:
                try:
                    values[name] = self.encode(self.ns[name], tensors, {})
                except BaseException as err:  # noqa: BLE001
                    values[name] = self.encode_error(err)
        self.reply({"ok": True, "values": values}, tensors)

    def op_call(self, request) -> None:
        payload = request["payload"]
        self.apply_context(payload["ctx"])
        made = request["made"]
        snapshots = [(t, t.detach().clone() if t.device.type != "meta" else None, t.requires_grad) for t in made]
        for key in payload.get("hooked_optimizers", []):
            opt = payload["report"][key]
            opt.register_step_post_hook(lambda o, a, k, key=key: self.hook_log.append(
                ("step", key, [p.detach().clone() for g in o.param_groups for p in g["params"]])))
        target = payload["target"]
        fn = self.objects[target] if isinstance(target, int) else target
        args, kwargs = payload["args"], payload["kwargs"]
        module_state = payload.get("module_state")
        forbidden = payload.get("forbidden") or []
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.out
        called: list[str] = []
        error = value = None
        try:
            if module_state is not None:
                fn = self.prepare_module(fn, module_state)
            watch = _Watch(forbidden, called) if forbidden else None
            if watch:
                watch.start()
            try:
                if module_state is not None:
                    value = torch.func.functional_call(fn, module_state["tensors"], tuple(args), kwargs, strict=False)
                else:
                    value = fn(*args, **kwargs)
            finally:
                if watch:
                    watch.stop()
        except BaseException as err:  # noqa: BLE001
            if isinstance(err, SystemExit):
                err = RuntimeError(f"the code called exit({err.code!r})")
            error = self.encode_error(err)
        finally:
            sys.stdout, sys.stderr = stdout, stderr
            self.restore_names()
        tensors: list = []
        mutated = []
        for index, (t, before, rg) in enumerate(snapshots):
            entry = {}
            if before is not None and (t.shape != before.shape or t.dtype != before.dtype or not torch.equal(t.detach(), before)):
                entry["value"] = len(tensors)
                tensors.append(t)
            if t.requires_grad != rg:
                entry["rg"] = bool(t.requires_grad)
            if t.is_leaf and t.grad is not None:
                entry["grad"] = len(tensors)
                tensors.append(t.grad)
            if entry:
                mutated.append((index, entry))
        result = None
        call_id = None
        if error is None:
            try:
                arg_ids = {id(t): i for i, t in enumerate(made)}
                result = self.encode(value, tensors, arg_ids)
            except BaseException as err:  # noqa: BLE001
                error = self.encode_error(err)
        if error is None and payload.get("want_graph"):
            indices = _graph_indices(result)
            positions = list(self.sent_rg)
            if indices and positions:
                call_id = self.next_id
                self.next_id += 1
                self.calls[call_id] = (indices, [tensors[i] for i in indices], [made[p] for p in positions], positions)
        self.report_tensors = tensors
        containers = []
        for obj in _containers((args, kwargs)):  # lists, dicts and arrays the call may have changed in place
            try:
                containers.append(self.encode(obj, tensors, {id(t): i for i, t in enumerate(made)}))
            except (TypeError, ValueError):
                containers.append(None)
        states = self.module_report(payload, request)
        if module_state is not None and isinstance(fn, torch.nn.Module):
            states["__module__"] = {"training": [(p, bool(m.training)) for p, m in fn.named_modules(remove_duplicate=False)]}
        hooks = []
        for entry in self.hook_log:
            try:
                hooks.append(tuple(self.encode(x, tensors, {}, plain_only=True) if i >= 2 else x
                                   for i, x in enumerate(entry)))
            except (TypeError, ValueError):
                continue
        self.reply({"ok": error is None, "error": error, "value": result, "mutated": mutated, "called": called,
                    "hooks": hooks, "containers": containers,
                    "call_id": call_id, "ctx": self.context_out(), "states": states}, tensors)

    def module_report(self, payload, request) -> dict:
        report = {}
        for key, obj in payload.get("report", {}).items():
            if isinstance(obj, torch.nn.Module):
                report[key] = {"training": [(p, bool(m.training)) for p, m in obj.named_modules(remove_duplicate=False)]}
            elif isinstance(obj, torch.optim.Optimizer):
                sd = obj.state_dict()
                report[key] = {"optimizer": _plain_state(sd)}
            elif isinstance(obj, torch.Generator):
                report[key] = {"generator": obj.get_state()}
            if not isinstance(obj, (torch.optim.Optimizer, torch.Generator)) and hasattr(obj, "__dict__"):
                attrs = {}
                for name, value in vars(obj).items():
                    if name.startswith("_") or name == "training":
                        continue
                    try:
                        attrs[name] = self.encode(value, self.report_tensors, {}, plain_only=True)
                    except (TypeError, ValueError):
                        continue
                report.setdefault(key, {})["attrs"] = attrs
        return report

    def prepare_module(self, module, state):
        """Put the children the grader's copy holds (its own, another student module, or one of
        the grader's modules) in place, and set the train/eval flags."""
        for path, kind, ref in state["tree"]:
            if not path:
                continue
            parent_path, _, name = path.rpartition(".")
            parent = module.get_submodule(parent_path) if parent_path else module
            if kind == "mirror":
                hid, original = ref
                obj = self.objects[hid] if not original else self.objects[hid].get_submodule(original)
            elif kind == "foreign":
                obj = ref
            else:
                obj = self.objects[ref]
            if parent._modules.get(name) is not obj:
                parent._modules[name] = obj
        for path, training in state["training"]:
            module.get_submodule(path).training = training
        return module

    def op_vjp(self, request) -> None:
        payload = request["payload"]
        _, outs, ins, positions = self.calls[payload["call_id"]]
        grads = payload["grads"]
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
        got = torch.autograd.grad([o for o, _ in pairs], ins, [g for _, g in pairs], allow_unused=True,
                                  retain_graph=True) if pairs else [None] * len(ins)
        tensors, result = [], []
        for pos, g in zip(positions, got):
            if g is not None:
                result.append((pos, len(tensors)))
                tensors.append(g)
        self.reply({"ok": True, "grads": result}, tensors)

    def op_free(self, request) -> None:
        self.calls.clear()
        self.reply({"ok": True})

    def op_getattr(self, request) -> None:
        payload = request["payload"]
        value = getattr(self.objects[payload["target"]], payload["name"])
        tensors: list = []
        self.reply({"ok": True, "value": self.encode(value, tensors, {})}, tensors)

    def op_setattr(self, request) -> None:
        payload = request["payload"]
        setattr(self.objects[payload["target"]], payload["name"], payload["value"])
        self.reply({"ok": True})

    def op_construct(self, request) -> None:
        payload = request["payload"]
        self.apply_context(payload["ctx"])
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.out
        try:
            obj = self.objects[payload["target"]](*payload["args"], **payload["kwargs"])
        finally:
            sys.stdout, sys.stderr = stdout, stderr
            self.restore_names()
        tensors: list = []
        value = self.encode(obj, tensors, {})
        self.reply({"ok": True, "value": value, "ctx": self.context_out()}, tensors)

    # -- callbacks into the grader (a function of the tests handed to the student's code)
    def callback(self, cid, args, kwargs):
        tensors: list = []
        message = {"kind": "callback", "cb": cid, "args": self.encode(list(args), tensors, {}),
                   "kwargs": self.encode(dict(kwargs), tensors, {})}
        self.reply(message, tensors)
        while True:
            request = self.receive()
            if request["op"] == "callback_result":
                payload = request["payload"]
                if payload.get("error"):
                    raise RuntimeError(f"a function of the tests that your code called failed: {payload['error']}")
                return payload["value"]
            self.dispatch(request)


class _Shell:
    """What ``get_ipython()`` returns while grading: IPython's magics and shell escapes, which the
    cells may use when students run them in Jupyter, do nothing (the grader runs no IPython shell)."""

    def __init__(self):
        self.user_ns = sys.modules["__main__"].__dict__

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = run_line_magic
    system = getoutput = run_line_magic


class _Watch:
    """Which of the ``forbidden`` functions (dotted names) run while it is on (sys.setprofile)."""

    def __init__(self, forbidden, called):
        import importlib  # noqa: PLC0415

        self.called = called
        self.codes = {}
        for label in forbidden:
            parts = label.split(".")
            obj = None
            for split in range(len(parts) - 1, 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:split]))
                except ImportError:
                    continue
                try:
                    for name in parts[split:]:
                        obj = getattr(obj, name)
                except AttributeError:
                    obj = None
                break
            if obj is None:
                continue
            fn = getattr(obj, "__func__", obj)
            if isinstance(fn, type):
                fn = fn.__init__
            fn = getattr(fn, "__wrapped__", fn)
            code = getattr(fn, "__code__", fn)
            self.codes[id(code)] = label

    def start(self):
        def profiler(frame, event, arg):
            key = id(frame.f_code) if event == "call" else id(arg) if event == "c_call" else None
            if key in self.codes and self.codes[key] not in self.called:
                self.called.append(self.codes[key])
        sys.setprofile(profiler)

    def stop(self):
        sys.setprofile(None)


_MISSING = object()


def _detached(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone() if value.device.type != "meta" else value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(_detached(v) for v in value)
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def _is_plain(value, depth=0) -> bool:
    if depth > 4:
        return False
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) in (tuple, list):
        return len(value) <= 64 and all(_is_plain(v, depth + 1) for v in value)
    return False


def _plain(value):
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def _plain_state(sd):
    return {"state": {int(k): {n: v for n, v in s.items()} for k, s in sd["state"].items()},
            "param_groups": [{k: v for k, v in g.items()} for g in sd["param_groups"]]}


def main() -> None:
    rfd, wfd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    torch.set_num_threads(1)
    server = Server(Channel(rfd, wfd))
    try:
        server.serve()
    except EOFError:
        pass


if __name__ == "__main__":
    main()
