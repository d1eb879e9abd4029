"""Two walks over a call's values that both sides of the boundary must make the same way.

Standard library only: :mod:`course_admin.boundary.server` (run by its path inside the sandbox)
imports this file from its own folder, :mod:`course_admin.boundary.client` imports it as a module.
"""
from __future__ import annotations


def containers(value, found=None, seen=None, depth: int = 0) -> list:
    """The lists, dicts and NumPy arrays inside a call's arguments, in a fixed order: the grader's
    originals and the sandbox's copies line up, so that what the student's code changed in place
    can be copied back."""
    found, seen = ([] if found is None else found), (set() if seen is None else seen)
    if depth > 8 or id(value) in seen:
        return found
    if type(value) in (list, dict) or (type(value).__name__ == "ndarray" and type(value).__module__ == "numpy"):
        seen.add(id(value))
        found.append(value)
    if type(value) in (list, tuple):
        for v in value:
            containers(v, found, seen, depth + 1)
    elif type(value) is dict:
        for v in value.values():
            containers(v, found, seen, depth + 1)
    return found


def graph_indices(v, found=None) -> list[int]:
    """Indices (into a reply's tensor list) of the tensors of an encoded value that are results of
    a graph, i.e. need a backward: ``{"__t": "tensor", "rg": True, "leaf": False}``."""
    found = [] if found is None else found
    if isinstance(v, dict) and v.get("__t") == "tensor":
        if v["rg"] and not v["leaf"]:
            found.append(v["i"])
    elif isinstance(v, dict) and v.get("__t") == "dict":
        for _, x in v["items"]:
            graph_indices(x, found)
    elif isinstance(v, (list, tuple)):
        for x in v:
            graph_indices(x, found)
    return found
