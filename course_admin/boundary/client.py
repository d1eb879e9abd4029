"""The trusted side of the grading boundary: proxies for what the student's cells defined.

The grader runs the instructor's test cells in its own process. Each name the student's cells
defined is bound there to a proxy: calling it sends the arguments to the sandbox
(:mod:`course_admin.boundary.server`) and returns what came back, decoded with
``torch.load(weights_only=True)``: tensors, numbers, strings and containers only, never an object
whose methods the student wrote. So a check such as ``check_equal(got, 15, ...)`` compares values
the trusted process holds, with helpers no student code can reach.

What a test does with the student's code keeps working across the boundary:

* gradients: a result that depends on tensors which require gradients is attached to the
  trusted graph by :class:`_RemoteGraph`; its backward asks the sandbox for the vector-Jacobian
  product (``torch.autograd.grad`` there);
* side effects: the tensors a call received are compared with what was sent; values changed in
  place, a ``requires_grad`` that changed and ``.grad`` of leaves are copied back, so "the inputs
  are unchanged" is checked on the trusted tensors;
* modules: a student ``nn.Module`` class becomes a class here whose instances hold the
  parameters and buffers (:class:`RemoteModule`); ``forward`` sends them with the inputs and runs
  ``torch.func.functional_call`` on the student's module. ``load_state_dict``, ``.double()``,
  ``.to("meta")``, ``train()``/``eval()``, ``deepcopy`` and replacing children work on this side;
* modules, optimizers and generators of the tests handed to the student's functions are
  copied over (their hooks dropped) and their state copied back after the call;
* random numbers: the state of torch's, Python's and NumPy's global generators goes with every
  call and comes back, so seeded tests draw what they would draw in one process;
* functions of the tests the student's code calls (a test that rebinds a name, or passes a
  lambda) are called back here.
"""
from __future__ import annotations

import builtins
import copy
import io
import os
import pickle
import random
import select
import struct
import sys
import time
import types
import warnings
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from .walk import containers as _containers, graph_indices as _graph_indices


class SandboxDied(RuntimeError):
    """The sandbox stopped (the student's code exited, crashed, hit a limit or ran too long)."""


class _Late(BaseException):
    """Raised by the alarm that bounds the decoding of a reply (a BaseException: no test catches it)."""


class RemoteError(Exception):
    """An exception of a type the grader does not know, raised by the student's code."""


# the pickles name these; the sandbox defines them (see server.py)
_fake = types.ModuleType("_course_sandbox")
sys.modules.setdefault("_course_sandbox", _fake)


def _stub(name):
    def f(*args):  # never called here
        raise RuntimeError("only the sandbox rebuilds this")
    f.__module__, f.__qualname__, f.__name__ = "_course_sandbox", name, name
    setattr(_fake, name, f)
    return f


_rebuild_module, _callback = _stub("rebuild_module"), _stub("callback")

_ALLOWED_NP = {"b", "i", "u", "f", "c"}
MAX_REPLY_BYTES = 64 << 20  # a reply larger than this stops the sandbox (the grader's memory and time are not the student's)


class Client:
    """One sandbox process and the objects that live in it.

    Args:
        start: a function that returns a started ``subprocess.Popen`` whose stdin/stdout carry the
            protocol (the server running in the sandbox).
        timeout: seconds one request may take before the sandbox is killed (:class:`SandboxDied`).
    """

    def __init__(self, start, timeout: float):
        self.start, self.timeout = start, timeout
        self.proc = start()
        self.r, self.w = self.proc.stdout.fileno(), self.proc.stdin.fileno()
        self.callbacks: dict[int, object] = {}
        self.shared_names: set[str] = set()  # names of __main__ the sandbox has too (setup, visible definitions)
        self.output: list[str] = []
        self.deadline = None

    # -- the channel
    def _send(self, payload: bytes) -> None:
        """Write one message; the deadline holds here too (a student's side that stops reading fills
        the pipe, and a blocking write would wait for ever)."""
        data = memoryview(struct.pack(">Q", len(payload)) + payload)
        try:
            while data:
                left = (self.deadline or time.monotonic() + self.timeout) - time.monotonic()
                _, ready, _ = select.select([], [self.w], [], max(left, 0))
                if not ready or left <= 0:
                    self.kill()
                    raise SandboxDied("timeout")
                n = os.write(self.w, data[:65536])  # at most PIPE_BUF-sized pieces never block once writable
                data = data[n:]
        except (BrokenPipeError, OSError) as err:
            self.kill()
            raise SandboxDied(f"the sandbox stopped ({err})") from None

    def _read_exact(self, n: int) -> bytes:
        chunks = []
        while n:
            left = (self.deadline or time.monotonic() + self.timeout) - time.monotonic()
            ready, _, _ = select.select([self.r], [], [], max(left, 0))
            if not ready or left <= 0:  # past the deadline even while data keeps coming (a flood of callbacks)
                self.kill()
                raise SandboxDied("timeout")
            chunk = os.read(self.r, min(n, 1 << 20))
            if not chunk:
                self.kill()
                raise SandboxDied("died")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except (OSError, AttributeError):
                pass

    def close(self) -> None:
        try:
            self._send(self._pack({"op": "quit"}))
        except SandboxDied:
            pass
        try:
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.kill()
        self._close_pipes()

    def _pack(self, message: dict, payload=None) -> bytes:
        outer = dict(message)
        if payload is not None:
            pickler = _Pickler(self)
            if isinstance(payload.get("report"), dict):
                pickler.reported = payload["report"]  # filled while the arguments are pickled, pickled last
                pickler.hooked_optimizers = payload["hooked_optimizers"]
            pickler.dump(payload)
            outer["payload"] = pickler.buffer.getvalue()
            outer["tensor_list"] = pickler.tensor_payloads()
            self._last_pickler = pickler
        return pickle.dumps(outer, protocol=pickle.HIGHEST_PROTOCOL)

    def request(self, op: str, payload: dict) -> tuple[dict, list]:
        """Send one request; answer callbacks until its reply comes; return ``(reply, pickler)``."""
        message = self._pack({"op": op}, payload)
        pickler = self._last_pickler
        self._send(message)
        while True:
            head = self._read_exact(8)
            size = struct.unpack(">Q", head)[0]
            if size > MAX_REPLY_BYTES:
                self.kill()
                raise SandboxDied(f"the student's code sent {size} bytes at once (more than {MAX_REPLY_BYTES})")
            reply = self._decode_in_time(self._read_exact(size))
            if reply.get("stdout"):
                self.output.append(reply["stdout"])
            if reply.get("kind") == "callback":
                self._answer_callback(reply)
                continue
            return reply, pickler

    def _decode_in_time(self, data: bytes) -> dict:
        """:meth:`_decode` under the same deadline (a reply of millions of small objects is slow to read)."""
        import signal

        left = (self.deadline or time.monotonic() + self.timeout) - time.monotonic()

        def stop(signum, frame):
            raise _Late()

        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))
        try:
            return self._decode(data)
        except _Late:
            self.kill()
            raise SandboxDied("timeout") from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _decode(self, data: bytes) -> dict:
        try:
            reply = torch.load(io.BytesIO(data), weights_only=True)
        except Exception as err:  # noqa: BLE001 - anything but plain data is refused
            raise SandboxDied(f"the sandbox sent something that is not plain data ({type(err).__name__})") from None
        if not isinstance(reply, dict):
            raise SandboxDied("the sandbox sent a reply that is not a message")
        return reply

    def _answer_callback(self, message) -> None:
        fn = self.callbacks.get(message.get("cb"))
        tensors = message.get("tensors", [])
        try:
            args = self.value(message["args"], tensors)
            kwargs = self.value(message["kwargs"], tensors)
            value, error = fn(*args, **kwargs), None
        except Exception as err:  # noqa: BLE001
            value, error = None, f"{type(err).__name__}: {err}"
        self._send(self._pack({"op": "callback_result"}, {"value": value, "error": error}))

    # -- values from the sandbox
    def value(self, v, tensors, args=None, graph=None):
        """Decode a reply value: plain data, tensors (``tensors``), handles (proxies) and errors."""
        if isinstance(v, dict) and "__t" in v:
            tag = v["__t"]
            if tag == "tensor":
                t = tensors[v["i"]]
                if graph is not None and v["i"] in graph:
                    return graph[v["i"]]
                if v["rg"] and v["leaf"] and (t.is_floating_point() or t.is_complex()):
                    t = nn.Parameter(t, requires_grad=True) if v["param"] else t.requires_grad_(True)
                elif v["rg"] and (t.is_floating_point() or t.is_complex()):
                    # a result of a graph in the sandbox that no call of this reply connects to the
                    # grader's tensors (an attribute read later, e.g. the images an ImagePool stored
                    # without detaching them): it arrives as a result of a graph too, so that a test of
                    # requires_grad / grad_fn sees what it would see in one process
                    with torch.enable_grad():
                        t = t.requires_grad_(True).clone()
                elif v["param"]:
                    t = nn.Parameter(t, requires_grad=False)
                return t
            if tag == "arg":
                return args[v["i"]]
            if tag == "dict":
                return {k: self.value(x, tensors, args, graph) for k, x in v["items"]}
            if tag == "ndarray":
                dtype = np.dtype(v["dtype"])
                if dtype.kind not in _ALLOWED_NP or dtype.hasobject:
                    raise RemoteError("an array of an unsupported dtype")
                return np.frombuffer(v["data"], dtype=dtype).reshape(v["shape"]).copy()
            if tag == "npscalar":
                dtype = np.dtype(v["dtype"])
                if dtype.kind not in _ALLOWED_NP:
                    raise RemoteError("a scalar of an unsupported dtype")
                return np.frombuffer(v["data"], dtype=dtype)[0]
            if tag == "dtype":
                dtype = getattr(torch, str(v["name"]).replace("torch.", ""), None)
                if not isinstance(dtype, torch.dtype):
                    raise RemoteError(f"not a dtype: {v['name']!r}")
                return dtype
            if tag == "device":
                return torch.device(str(v["name"]))
            if tag == "size":
                return torch.Size([int(d) for d in v["dims"]])
            if tag == "handle":
                return self.proxy(v, tensors)
            if tag == "exc":
                return self.exception(v)
            raise RemoteError(f"an unknown value tag {tag!r}")
        if isinstance(v, tuple):
            return tuple(self.value(x, tensors, args, graph) for x in v)
        if isinstance(v, list):
            return [self.value(x, tensors, args, graph) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x, tensors, args, graph) for k, x in v.items()}
        return v

    def exception(self, info) -> BaseException:
        name = str(info.get("type"))
        message = str(info.get("message"))
        cls = getattr(builtins, name, None)
        if info.get("builtin") and isinstance(cls, type) and issubclass(cls, Exception):
            err = cls(message)
        else:
            err = RemoteError(f"{name}: {message}")
        err.remote_traceback = str(info.get("traceback", ""))
        return err

    def proxy(self, info, tensors):
        kind, hid, name = info["kind"], int(info["id"]), str(info["name"])
        if kind == "function":
            return RemoteFunction(self, hid, name)
        if kind in ("module_class", "class"):
            return self.class_proxy(hid, name, module=kind == "module_class")
        if kind == "module":
            cls = self.class_proxy(int(info["describe"]["class"]), name, module=True)
            return RemoteModule._from_description(cls, self, hid, info["describe"], tensors)
        return RemoteObject(self, hid, name)

    def class_proxy(self, hid, name, module):
        classes = self.__dict__.setdefault("classes", {})
        if hid not in classes:
            classes[hid] = _module_class(self, hid, name) if module else _object_class(self, hid, name)
        return classes[hid]

    def class_proxy_for_child(self, name):
        children = self.__dict__.setdefault("child_classes", {})
        if name not in children:
            children[name] = type(name.split(".")[-1], (RemoteModule,), {"__module__": "__main__"})
        return children[name]

    # -- the context that travels with each call
    def context(self, overrides=None) -> dict:
        ctx = {"torch_rng": torch.get_rng_state(), "py_rng": random.getstate(),
               "grad_enabled": torch.is_grad_enabled(), "overrides": overrides or {}}
        state = np.random.get_state()
        ctx["np_rng"] = state
        ctx["np_err"] = np.geterr()
        ctx["warn_filters"] = [(action, getattr(msg, "pattern", msg) or "", cat.__name__, getattr(mod, "pattern", mod) or "",
                                lineno)
                               for action, msg, cat, mod, lineno in warnings.filters[:50]
                               if getattr(builtins, cat.__name__, None) is cat]
        return ctx

    def restore_context(self, ctx) -> None:
        if not ctx:
            return
        torch.set_rng_state(ctx["torch_rng"])
        random.setstate(_tuples(ctx["py_rng"]))
        if "np_rng" in ctx:
            name, keys, pos, has_gauss, cached = ctx["np_rng"]
            np.random.set_state((name, np.frombuffer(keys, dtype=np.uint32).copy(), pos, has_gauss, cached))
        for category, message in ctx.get("warnings", [])[:100]:  # shown by the student's code: shown here
            cls = getattr(builtins, str(category), None)
            warnings.warn(str(message), cls if isinstance(cls, type) and issubclass(cls, Warning) else UserWarning,
                          stacklevel=2)

    def overrides(self) -> dict:
        """Names of the student's the tests rebound (e.g. ``q_sample = reference.q_sample``): bound
        the same way in the sandbox while the call runs."""
        ns = getattr(self, "namespace", None) or {}
        out = {}
        for name, proxy in getattr(self, "bound", {}).items():
            if name in ns and ns[name] is not proxy:
                out[name] = ns[name]
        return out

    # -- a call
    def call(self, target, args, kwargs, module_state=None, module=None):
        from course_lib import grading  # noqa: PLC0415

        forbidden = grading._remote_forbidden()
        payload = {"target": target, "args": list(args), "kwargs": dict(kwargs), "ctx": self.context(self.overrides()),
                   "module_state": module_state, "forbidden": forbidden, "want_graph": torch.is_grad_enabled()}
        payload["hooked_optimizers"] = []
        payload["report"] = {}  # filled while pickling (modules, optimizers, generators): keep it the last key
        reply, pickler = self.request("call", payload)
        self.restore_context(reply.get("ctx"))
        if reply.get("called"):
            grading._remote_called(list(reply["called"]))
        tensors = reply.get("tensors", [])
        sent = pickler.tensors
        self.replay_hooks(reply.get("hooks", []), pickler, tensors)
        for old, encoded in zip(_containers((payload["args"], payload["kwargs"])), reply.get("containers", [])):
            if encoded is None:
                continue
            try:
                new = self.value(encoded, tensors, args=pickler.tensors)
            except Exception:  # noqa: BLE001
                continue
            if type(new) is not type(old):
                continue
            if isinstance(old, np.ndarray):  # an array of the test changed in place
                if new.shape == old.shape and new.dtype == old.dtype and old.flags.writeable and not np.array_equal(
                        old, new, equal_nan=old.dtype.kind in "fc"):
                    old[...] = new
                continue
            try:
                changed = bool(old != new)
            except Exception:  # noqa: BLE001 - tensors inside: compare by identity
                changed = len(old) != len(new) or any(a is not b for a, b in zip(
                    old if isinstance(old, list) else old.values(), new if isinstance(new, list) else new.values()))
            if changed:  # the student's code changed a list or dict of the test in place: so does the test's copy
                if isinstance(old, list):
                    old[:] = new
                else:
                    old.clear()
                    old.update(new)
        for index, entry in reply.get("mutated", []):
            t = sent[index]
            if "value" in entry:
                new = tensors[entry["value"]]
                with torch.no_grad():  # through .data: like BatchNorm's own update, no version bump
                    if new.shape == t.shape and new.dtype == t.dtype:
                        t.data.copy_(new)
                    else:
                        t.data = new
            if "rg" in entry:  # requires_grad_() / detach_() on what the test handed over
                if t.is_leaf:
                    t.requires_grad_(bool(entry["rg"]))
                elif not entry["rg"]:
                    t.detach_()
            if "grad" in entry and t.is_leaf:
                t.grad = tensors[entry["grad"]]
        for key, state in reply.get("states", {}).items():
            obj = pickler.reported.get(key) if key != "__module__" else None
            if obj is None:
                continue
            if "training" in state:
                for path, flag in state["training"]:
                    try:
                        obj.get_submodule(path).training = bool(flag)
                    except AttributeError:
                        pass
            if "optimizer" in state:
                obj.load_state_dict(state["optimizer"])
            if "generator" in state:
                obj.set_state(state["generator"])
            for name, encoded in state.get("attrs", {}).items():
                try:
                    new = self.value(encoded, tensors)
                except Exception:  # noqa: BLE001
                    continue
                # only attributes the grader's object already has, as data of the same kind (a test's
                # recorder filling its list); never a new attribute or a method
                old = obj.__dict__.get(name, None) if hasattr(obj, "__dict__") else None
                if name not in getattr(obj, "__dict__", {}) or callable(old):
                    continue
                if isinstance(old, list) and isinstance(new, list):
                    old[:] = new
                elif isinstance(old, dict) and isinstance(new, dict):
                    old.clear()
                    old.update(new)
                elif type(old) is type(new) and isinstance(old, (bool, int, float, str, tuple, torch.Tensor)):
                    obj.__dict__[name] = new
        if module is not None and "__module__" in reply.get("states", {}):
            for path, flag in reply["states"]["__module__"]["training"]:
                try:
                    module.get_submodule(path).training = bool(flag)
                except AttributeError:
                    pass
        if not reply.get("ok"):
            raise self.exception(reply.get("error") or {})
        graph = None
        call_id = reply.get("call_id")
        if call_id is not None:
            graph = _attach(self, call_id, reply, pickler, tensors)
        return self.value(reply.get("value"), tensors, args=pickler.tensors, graph=graph), reply

    def replay_hooks(self, log, pickler, tensors) -> None:
        """Call the tests' hooks (on tensors, modules, optimizers handed to the student's code) with
        what the sandbox recorded, in order: a test that counts backward passes or optimizer steps
        sees the student's code do them."""
        for entry in log:
            kind, key = entry[0], entry[1]
            data = [self.value(x, tensors) for x in entry[2:]]
            if kind == "tensor":
                t = pickler.tensors[key]
                for hook in list(getattr(t, "_backward_hooks", {}).values()):
                    hook(data[0])
            elif kind in ("pre", "fwd"):
                module = pickler.reported.get(key)
                if module is None:
                    continue
                if kind == "pre":
                    for hid, hook in list(module._forward_pre_hooks.items()):
                        if hid in module._forward_pre_hooks_with_kwargs:
                            hook(module, tuple(data[0]), dict(data[1]))
                        else:
                            hook(module, tuple(data[0]))
                else:
                    for hid, hook in list(module._forward_hooks.items()):
                        if hid in getattr(module, "_forward_hooks_with_kwargs", {}):
                            hook(module, tuple(data[0]), {}, data[1])
                        else:
                            hook(module, tuple(data[0]), data[1])
            elif kind == "step":
                opt = pickler.reported.get(key)
                params = [p for g in opt.param_groups for p in g["params"]]
                saved = [p.detach().clone() for p in params]
                with torch.no_grad():
                    for p, v in zip(params, data[0]):
                        p.data.copy_(v)
                for hook in list(opt._optimizer_step_post_hooks.values()):
                    hook(opt, (), {})
                with torch.no_grad():
                    for p, v in zip(params, saved):
                        p.data.copy_(v)

    def vjp(self, call_id, grads):
        reply, _ = self.request("vjp", {"call_id": call_id, "grads": list(grads)})
        if not reply.get("ok"):
            raise self.exception(reply.get("error") or {})
        return reply

    def getattr(self, hid, name):
        reply, _ = self.request("getattr", {"target": hid, "name": name})
        if not reply.get("ok"):
            raise self.exception(reply.get("error") or {})
        return self.value(reply["value"], reply.get("tensors", []))

    def setattr(self, hid, name, value):
        reply, _ = self.request("setattr", {"target": hid, "name": name, "value": value})
        if not reply.get("ok"):
            raise self.exception(reply.get("error") or {})

    def construct(self, hid, args, kwargs):
        reply, _ = self.request("construct", {"target": hid, "args": list(args), "kwargs": dict(kwargs),
                                              "ctx": self.context(self.overrides())})
        self.restore_context(reply.get("ctx"))
        if not reply.get("ok"):
            raise self.exception(reply.get("error") or {})
        return self.value(reply["value"], reply.get("tensors", []))

    def run_cell(self, source: str, filename: str) -> dict:
        reply, _ = self.request("exec", {"source": source, "filename": filename, "ctx": self.context()})
        self.restore_context(reply.get("ctx"))
        return reply

    def names(self, names) -> dict:
        reply, _ = self.request("names", {"names": list(names)})
        tensors = reply.get("tensors", [])
        out = {}
        for name, v in reply.get("values", {}).items():
            try:
                out[name] = self.value(v, tensors)
            except Exception as err:  # noqa: BLE001
                out[name] = err
        return out

    def free(self) -> None:
        self.request("free", {})


def _tuples(value):
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_tuples(v) for v in value)
    return value


# --- pickling the grader's arguments for the sandbox --------------------------------------------

class _Pickler(pickle.Pickler):
    """Pickles a call's arguments: tensors by reference into a separate list (so that changes can
    be copied back and gradients matched), proxies as handles, the grader's modules without their
    hooks, and functions of the tests as callbacks."""

    def __init__(self, client: Client):
        self.buffer = io.BytesIO()
        super().__init__(self.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self.client = client
        self.tensors: list[torch.Tensor] = []
        self.index: dict[int, int] = {}
        self.reported: dict[str, object] = {}
        self.hooked_optimizers: list[str] = []

    def persistent_id(self, obj):
        if isinstance(obj, torch.Tensor):
            key = id(obj)
            if key not in self.index:
                self.index[key] = len(self.tensors)
                self.tensors.append(obj)
            return ("T", self.index[key])
        if isinstance(obj, (RemoteFunction, RemoteObject)):
            return ("H", obj._hid)
        if isinstance(obj, type) and getattr(obj, "_course_hid", None) is not None:
            return ("H", obj._course_hid)
        return None

    def tensor_payloads(self):
        self.sent_rg = [i for i, t in enumerate(self.tensors) if t.requires_grad]  # as the sandbox records them
        out = []
        for t in self.tensors:
            payload = t.detach()
            hooked = bool(getattr(t, "_backward_hooks", None)) and t.is_leaf
            grad = t.grad.detach() if t.is_leaf and t.grad is not None else None  # accumulates there as here
            out.append((payload, bool(t.requires_grad), isinstance(t, nn.Parameter), hooked, grad))
        return out

    def reducer_override(self, obj):
        if isinstance(obj, RemoteModule):
            raise pickle.PicklingError("a student module inside another argument")  # handled by RemoteModule
        if self._trusted_only(obj):
            cid = len(self.client.callbacks) + 1
            self.client.callbacks[cid] = obj
            return (_callback, (cid, getattr(obj, "__name__", type(obj).__name__)))
        if isinstance(obj, nn.Module):
            key = f"m{len(self.reported)}"
            self.reported[key] = obj
            state = {k: (OrderedDict() if "hook" in k and isinstance(v, dict) else v) for k, v in obj.__dict__.items()}
            hooked = bool(obj._forward_pre_hooks or obj._forward_hooks)
            return (_rebuild_module, (type(obj), state, key, hooked))
        if isinstance(obj, torch.optim.Optimizer) and obj._optimizer_step_post_hooks:
            self.hooked_optimizers.append(f"o{len(self.reported)}")
        if isinstance(obj, (torch.optim.Optimizer, torch.Generator)) or (
                type(obj).__module__ == "__main__" and not isinstance(obj, type) and hasattr(obj, "__dict__")
                and not isinstance(obj, types.FunctionType)):
            key = f"o{len(self.reported)}"
            self.reported[key] = obj
            return NotImplemented
        return NotImplemented

    def _trusted_only(self, obj) -> bool:
        """A function, or an instance of a class, that only the grader has: a lambda, a local
        function, or one the hidden tests defined (the sandbox has the setup cells' names and the
        definitions of the visible tests)."""
        shared = self.client.shared_names
        if isinstance(obj, (types.FunctionType, types.MethodType)):
            name = getattr(obj, "__qualname__", "")
            if "<lambda>" in name or "<locals>" in name:
                return True
            return getattr(obj, "__module__", None) == "__main__" and name.split(".")[0] not in shared
        cls = type(obj)
        if isinstance(obj, type):
            return obj.__module__ == "__main__" and obj.__qualname__.split(".")[0] not in shared
        if cls.__module__ == "__main__":
            return cls.__qualname__.split(".")[0] not in shared
        return False


# --- proxies --------------------------------------------------------------------------------------

class RemoteFunction:
    """A function the student's cells defined; calling it runs it in the sandbox."""

    def __init__(self, client, hid, name):
        self._client, self._hid, self.__name__, self.__qualname__ = client, hid, name, name

    def __call__(self, *args, **kwargs):
        value, _ = self._client.call(self._hid, args, kwargs)
        return value

    def __repr__(self):
        return f"<student function {self.__name__}>"

    def __reduce__(self):
        raise pickle.PicklingError("pickled by handle")


class RemoteObject:
    """An object that lives in the sandbox: attributes and methods are fetched from there."""

    def __init__(self, client, hid, name):
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._client.getattr(self._hid, name)

    def __setattr__(self, name, value):
        self._client.setattr(self._hid, name, value)

    def __call__(self, *args, **kwargs):
        value, _ = self._client.call(self._hid, args, kwargs)
        return value

    def __repr__(self):
        return f"<student object {self._name}>"


def _object_class(client, hid, name):
    def __new__(cls, *args, **kwargs):
        return client.construct(hid, args, kwargs)

    return type(name, (RemoteObject,), {"__new__": __new__, "_course_hid": hid, "__module__": "__main__"})


class _Mirror(nn.Module):
    """A child of a student module, as the grader holds it: its parameters and buffers."""

    def forward(self, *args, **kwargs):
        raise RuntimeError("a part of a student module: call the whole module")


def _mirror(client, cls_module: str, cls_name: str, attrs: dict, hid: int):
    """The grader's copy of a child of a student module: an instance of the same class when that
    class is PyTorch's or course_lib's (its settings copied as plain data, so that a test can read
    ``conv.stride`` or call the layer), else a proxy whose forward runs in the sandbox."""
    import importlib

    cls = None
    if cls_module.startswith(("torch.nn.", "course_lib.")) and "<" not in cls_name:
        try:
            cls = importlib.import_module(cls_module)
            for part in cls_name.split("."):
                cls = getattr(cls, part)
        except (ImportError, AttributeError):
            cls = None
    if isinstance(cls, type) and issubclass(cls, nn.Module):
        child = cls.__new__(cls)
        nn.Module.__init__(child)
        for key, value in attrs.items():
            child.__dict__[key] = value
        return child
    child = object.__new__(client.class_proxy_for_child(cls_name))
    nn.Module.__init__(child)
    child._course_client, child._course_hid = client, hid
    return child


class RemoteModule(nn.Module):
    """A student ``nn.Module``: the parameters and buffers live here; ``forward`` runs there."""

    @staticmethod
    def _from_description(cls, client, hid, desc, tensors):
        module = object.__new__(cls)
        nn.Module.__init__(module)
        module._course_client, module._course_hid = client, hid
        mirrors = {"": module}
        for path, cls_module, cls_name, training, attrs, child_hid in desc["modules"]:
            if not path:
                module.training = training
                module._course_origin = (hid, "")
                continue
            child = _mirror(client, cls_module, cls_name, attrs, child_hid)
            child.training = training
            child._course_origin = (hid, path)
            parent, _, leaf = path.rpartition(".")
            mirrors[parent]._modules[leaf] = child
            mirrors[path] = child
        for name_, index, requires_grad in desc["params"]:
            owner, _, leaf = name_.rpartition(".")
            mirrors[owner]._parameters[leaf] = nn.Parameter(tensors[index], requires_grad=bool(requires_grad))
        for name_, index in desc["buffers"]:
            owner, _, leaf = name_.rpartition(".")
            mirrors[owner]._buffers[leaf] = tensors[index]
        keys = set(desc.get("state_keys", []))
        for name_, _ in desc["buffers"]:
            if name_ not in keys:
                owner, _, leaf = name_.rpartition(".")
                mirrors[owner]._non_persistent_buffers_set.add(leaf)
        return module

    def __deepcopy__(self, memo):
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            new.__dict__[key] = value if key == "_course_client" else copy.deepcopy(value, memo)
        return new

    def forward(self, *args, **kwargs):
        tree, tensors = [], {}
        for path, m in self.named_modules(remove_duplicate=False):
            origin = getattr(m, "_course_origin", None)
            if any(path.startswith(f + ".") for f, k, _ in tree if k in ("foreign",)):
                continue
            if origin is not None:
                tree.append((path, "mirror", origin))
            else:
                tree.append((path, "foreign", m))
        for name, p in self.named_parameters(remove_duplicate=False):
            tensors[name] = p
        for name, b in self.named_buffers(remove_duplicate=False):
            tensors[name] = b
        training = [(p, m.training) for p, m in self.named_modules(remove_duplicate=False)
                    if getattr(m, "_course_origin", None) is not None]
        state = {"tree": tree, "tensors": tensors, "training": training}
        value, reply = self._course_client.call(self._course_hid, args, kwargs, module_state=state, module=self)
        return value


def _module_class(client, hid, name):
    base = RemoteModule

    def __new__(cls, *args, **kwargs):
        return client.construct(hid, args, kwargs)

    def __init__(self, *args, **kwargs):
        pass

    return type(name, (base,), {"__new__": __new__, "__init__": __init__, "_course_hid": hid, "__module__": "__main__"})


# --- gradients across the boundary ----------------------------------------------------------------

class _RemoteGraph(torch.autograd.Function):
    @staticmethod
    def forward(ctx, client, call_id, positions, n_out, outputs, *inputs):
        ctx.client, ctx.call_id, ctx.positions = client, call_id, positions
        return tuple(o.detach().clone() for o in outputs)

    @staticmethod
    def backward(ctx, *grads):
        reply = ctx.client.vjp(ctx.call_id, [g if g is not None else None for g in grads])
        tensors = reply.get("tensors", [])
        by_pos = {pos: tensors[i] for pos, i in reply.get("grads", [])}
        return (None, None, None, None, None) + tuple(by_pos.get(p) for p in ctx.positions)


def _attach(client, call_id, reply, pickler, tensors):
    """The results that need a backward (the sandbox's graph outputs, found the way the sandbox
    found them), attached to the trusted tensors that required gradients when they were sent."""
    graph_outputs = _graph_indices(reply.get("value"))
    positions = pickler.sent_rg
    if not graph_outputs or not positions:
        return None
    ins = [pickler.tensors[p] for p in positions]
    outs = _RemoteGraph.apply(client, call_id, positions, len(graph_outputs), [tensors[i] for i in graph_outputs], *ins)
    return dict(zip(graph_outputs, outs))


