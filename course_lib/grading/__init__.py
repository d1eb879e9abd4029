"""Checks for the graded test cells of the assignments (``assignments/``).

Every helper raises :class:`AssertionError` with a message that says what was
checked, what was expected, what came, and a hint, so that a student reading
the autograder's feedback knows where to look::

    conv_output_size(32, 3, stride=2) is wrong
      expected: 15 (int)
      got:      16 (int)
      hint:     floor((n + 2p - d(k-1) - 1) / s) + 1

The helpers return ``None``: nbgrader would read a number shown as a test
cell's last output as partial credit, so a test cell must not end with a value.

Importing this module (every assignment's locked setup cell does) makes Python warnings print on
stdout instead of stderr, for the rest of the kernel's life: nbgrader gives 0 to a test cell that
writes anything to stderr, so an honest answer that happens to trigger a warning (PyTorch's
"Converting a tensor with requires_grad=True to a scalar" from ``float(loss)``, a NumPy divide
warning) would lose the cell's points by accident, and a wrong answer could be caught only by one.
The warning is still shown, in the cell's normal output; only the checks decide the points.
"""
from __future__ import annotations

import numbers
import sys
import warnings

__all__ = ["check_equal", "check_close", "check_shape", "check_raises", "check_runs", "check_not_calling",
           "describe_call"]


def _show_warning_on_stdout(message, category, filename, lineno, file=None, line=None) -> None:
    """A ``warnings.showwarning`` that writes to stdout (see the module docstring for why)."""
    sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))


warnings.showwarning = _show_warning_on_stdout


def describe_call(name: str, *args, **kwargs) -> str:
    """The call as code, for messages: ``describe_call("f", 32, 3, stride=2)`` -> ``"f(32, 3, stride=2)"``."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _fail(what: str, expected, got, hint: str | None, problem: str = "is wrong") -> None:
    lines = [f"{what} {problem}", f"  expected: {expected}", f"  got:      {got}"]
    if hint:
        lines.append(f"  hint:     {hint}")
    raise AssertionError("\n".join(lines))


_NOT_WRITTEN = object()


def _not_written(what: str, expected: str) -> None:
    _fail(what, expected, "NotImplementedError",
          "replace the `raise NotImplementedError(...)` line with your code", problem="is not written yet")


def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _same(got, expected) -> bool:
    """Equality that also requires ints where ints are expected (``15.0`` is not ``15``)."""
    if isinstance(expected, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(_same(g, e) for g, e in zip(got, expected)))
    if _is_int(expected):
        return _is_int(got) and int(got) == expected
    return bool(got == expected)


def check_equal(got, expected, what: str, hint: str | None = None) -> None:
    """Check ``got == expected``; an expected ``int`` needs an integer (not ``15.0``), an
    expected tuple a tuple or list of the same items.

    Args:
        got: the student's value.
        expected: the right value.
        what: the call that was checked, e.g. ``"conv_output_size(32, 3, stride=2)"``.
        hint: where to look if it is wrong.
    """
    if _same(got, expected):
        return
    try:
        equal_values = bool(got == expected) or (isinstance(got, (tuple, list)) and tuple(got) == tuple(expected))
    except Exception:  # noqa: BLE001 - e.g. a tensor compared with a tuple
        equal_values = False
    if equal_values:  # 15.0 for 15, or (16.0, 2) for (16, 2)
        _fail(what, _describe(expected), _describe(got), "the value is right but its type is not: return "
              "ints where ints are expected (// is floor division and gives an int)", problem="has the wrong type")
    _fail(what, _describe(expected), _describe(got), hint)


def check_shape(got, expected_shape, what: str, hint: str | None = None) -> None:
    """Check that tensor or array ``got`` has shape ``expected_shape``."""
    shape = getattr(got, "shape", None)
    if shape is None:
        _fail(what, f"a tensor of shape {tuple(expected_shape)}", _describe(got), hint,
              problem="is not a tensor")
    if tuple(shape) != tuple(expected_shape):
        _fail(what, f"shape {tuple(expected_shape)}", f"shape {tuple(shape)}", hint,
              problem="has the wrong shape")


def check_close(got, expected, what: str, hint: str | None = None,
                atol: float = 1e-5, rtol: float = 1e-5) -> None:
    """Check that tensor ``got`` has ``expected``'s shape and values (``torch.allclose``).

    The message gives the largest difference and where it is.
    """
    import torch

    check_shape(got, expected.shape, what, hint)
    got_t = torch.as_tensor(got).detach().double().cpu()
    exp_t = torch.as_tensor(expected).detach().double().cpu()
    if torch.allclose(got_t, exp_t, atol=atol, rtol=rtol, equal_nan=False):
        return
    diff = (got_t - exp_t).abs()
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, float("inf")), diff)
    flat = int(diff.argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), diff.shape))
    n_bad = int((diff > atol + rtol * exp_t.abs()).sum())
    _fail(what, f"{exp_t[index].item():.6g} at index {index} (tolerance {atol:g} + {rtol:g} * |expected|)",
          f"{got_t[index].item():.6g}; {n_bad} of {diff.numel()} values differ, "
          f"largest difference {diff[index].item():.3g}", hint, problem="has the wrong values")


def check_raises(exception: type[BaseException], fn, *args, what: str, hint: str | None = None,
                 **kwargs) -> None:
    """Check that ``fn(*args, **kwargs)`` raises ``exception`` (or a subclass)."""
    try:
        result = fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - any other exception is the student's bug to see
        if isinstance(err, NotImplementedError) and exception is not NotImplementedError:
            result = _NOT_WRITTEN  # the stub (NotImplementedError is a RuntimeError: test it first)
        elif isinstance(err, exception):
            return
        else:
            raise AssertionError(
                f"{what} raised the wrong exception\n  expected: {exception.__name__}\n"
                f"  got:      {type(err).__name__}: {err}" + (f"\n  hint:     {hint}" if hint else "")
            ) from err
    if result is _NOT_WRITTEN:
        _not_written(what, exception.__name__)
    _fail(what, f"{exception.__name__}", f"no exception; it returned {_describe(result)}", hint,
          problem="did not raise")


def check_runs(fn, *args, what: str, hint: str | None = None, **kwargs):
    """Call ``fn(*args, **kwargs)`` and return its result; an exception becomes an
    :class:`AssertionError` that names the call, the exception and the hint.

    Use it to call the student's code inside a test; it returns the result for further checks
    (assign it, so that the test cell does not end with a value).
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        pass  # raised below, outside the except block: the stub's traceback would only add noise
    except Exception as err:  # noqa: BLE001 - the student sees their traceback, then this message
        raise AssertionError(
            f"{what} raised {type(err).__name__}: {err}" + (f"\n  hint:     {hint}" if hint else "")
        ) from err
    _not_written(what, "a result")


def _resolve(target):
    """A callable from ``"package.module.name"`` / ``"package.module.Class.method"`` or the callable itself."""
    if not isinstance(target, str):
        return target
    import importlib

    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            obj = getattr(obj, name)
        return obj
    raise ValueError(f"cannot import {target!r}")


# check_not_calling while the autograder runs the tests outside the student's process
# (course_admin.boundary): the student's code runs in a sandbox, so the watch must run there too. The
# grader's proxies read the dotted names being watched with _remote_forbidden() and report what the
# sandbox saw called with _remote_called().
_REMOTE_WATCHES: list = []  # [(labels, called)] of the check_not_calling calls running now


def _remote_forbidden() -> list[str]:
    return sorted({label for labels, _ in _REMOTE_WATCHES for label in labels})


def _remote_called(labels: list[str]) -> None:
    for watched, called in _REMOTE_WATCHES:
        called.extend(label for label in labels if label in watched and label not in called)


def _dotted(obj) -> str:
    obj = getattr(obj, "__func__", obj)
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"


def _code_of(fn):
    """What the profiler sees when ``fn`` is called: its code object, or the builtin itself."""
    fn = getattr(fn, "__func__", fn)  # bound and class methods
    if isinstance(fn, type):  # a class: calling it runs __init__ (and forward when it is a module)
        fn = fn.__init__
    fn = getattr(fn, "__wrapped__", fn)
    return getattr(fn, "__code__", fn)


def check_not_calling(fn, forbidden, *args, what: str, hint: str | None = None, **kwargs):
    """Call ``fn(*args, **kwargs)`` and fail if it calls any of the ``forbidden`` functions.

    For the assignments: a graded function must not just hand the work to course_lib's reference
    implementation (or to a shortcut the assignment forbids, e.g. ``torch.nn.functional.conv2d``).
    Every call made while ``fn`` runs is watched with :func:`sys.setprofile`, so a reference
    imported under another name, or reached through a module attribute, is caught as well.

    Args:
        fn: the student's callable (a function, or a module or bound method to call).
        forbidden: callables or dotted names (``"course_lib.receptive_field.receptive_field"``,
            ``"course_lib.models.dense.Up.forward"``) that ``fn`` must not call; a class name
            forbids its ``__init__``.
        what: the call, for the message (e.g. ``"receptive_field_of_stack([(3, 1, 1)])"``).
        hint: where to look if it fails.

    Returns:
        What ``fn`` returned (its errors become :class:`AssertionError` as in :func:`check_runs`).

    Raises:
        AssertionError: naming the forbidden function that was called, or ``fn``'s error.
    """
    import sys

    if isinstance(forbidden, (str,)) or callable(forbidden):
        forbidden = [forbidden]
    names = {}
    for target in forbidden:
        obj = _resolve(target)
        label = target if isinstance(target, str) else getattr(obj, "__qualname__", repr(obj))
        names[id(_code_of(obj))] = (_code_of(obj), label)
    called = []

    def profiler(frame, event, arg):
        if event == "call":
            key = id(frame.f_code)
        elif event == "c_call":
            key = id(arg)
        else:
            return
        if key in names and names[key][1] not in called:
            called.append(names[key][1])

    remote = ([t if isinstance(t, str) else _dotted(t) for t in forbidden], [])
    _REMOTE_WATCHES.append(remote)
    previous = sys.getprofile()
    sys.setprofile(profiler)
    error = None
    try:
        result = check_runs(fn, *args, what=what, hint=hint, **kwargs)
    except AssertionError as err:  # a forbidden call explains the failure better than its error does
        error = err
    finally:
        sys.setprofile(previous)
        _REMOTE_WATCHES.remove(remote)
    remote_labels = dict(zip(remote[0], [t if isinstance(t, str) else getattr(_resolve(t), "__qualname__", repr(t))
                                         for t in forbidden]))
    called += [remote_labels[label] for label in remote[1] if remote_labels[label] not in called]
    if error is not None and not called:
        raise error
    if called:
        raise AssertionError(
            f"{what} calls {', '.join(called)}: this part is yours to write, so it scores 0 while the "
            f"reference implementation does the work\n  hint:     "
            + (hint or "write the computation yourself; course_lib's version is there to check against")) from None
    return result
