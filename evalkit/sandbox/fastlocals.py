"""Which stdin programs may run their top level as a function, and which names must stay global there.

LiveCodeBench runs a stdin program's statements inside a function (`make_function` in its
testing_util.py), so top-level variables are fast locals instead of dictionary globals: a loop at
the top level runs about twice as fast there as in a real module, and borderline programs pass
there that would time out at module level. evalkit does the same for speed parity, but only where
the program cannot tell the difference, so none of LiveCodeBench's artefacts come with it:

- names declared `global` anywhere stay module globals (LiveCodeBench: NameError);
- a builtin or implicitly imported name (`input`, `S` = re.S, ...) that the top level may read
  before it rebinds it stays global, so the read still finds the builtin (LiveCodeBench:
  UnboundLocalError);
- dunder names, and names a class body both reads and assigns, stay global;
- the `if __name__ == "__main__":` block runs wherever it is (`__name__` is `__main__`);
- programs that inspect their own scope or frames (`globals()`, `locals()`, `vars()`, `exec`,
  `eval`, `dir()`, `sys._getframe`, `sys.modules`, `inspect`, `pickle`, ...) or use star imports
  run as a plain module.

The host decides here; the runner inside the sandbox applies the plan (evalkit/sandbox/inside.py,
`wrap_top_level`) and falls back to the plain module whenever the wrapped code does not compile.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from collections.abc import Iterator
from typing import Any

from evalkit.sandbox.prelude import bindings

WRAPPER = "__evalkit_main__"
_INTROSPECTION = frozenset(
    {"globals", "locals", "vars", "exec", "eval", "dir", "__import__", "__annotations__", "__dict__", WRAPPER}
)
_FRAME_ATTRIBUTES = frozenset(
    {"_getframe", "currentframe", "f_globals", "f_locals", "f_back", "modules", "__dict__", "__qualname__"}
)
_INTROSPECTION_MODULES = frozenset(
    {"__main__", "inspect", "pickle", "copyreg", "dill", "multiprocessing", "concurrent"}
)
_SIMPLE_BINDINGS = (
    ast.Assign,
    ast.AnnAssign,
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
)


def head_length(body: list[ast.stmt]) -> int:
    """How many leading statements stay at module level: the docstring and `from __future__` imports."""
    k = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        k = 1 if isinstance(body[0].value.value, str) else 0
    while k < len(body) and isinstance(body[k], ast.ImportFrom) and body[k].module == "__future__":  # type: ignore[attr-defined]
        k += 1
    return k


def plan(source: str) -> dict[str, Any] | None:
    """How the runner wraps `source` (`head`: leading statements left at module level, `globals`: names the
    wrapper declares global), or None when the program must run as a plain module."""
    try:
        tree = ast.parse(source)
        table = symtable.symtable(source, "<solution>", "exec")
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    head = head_length(tree.body)
    body = tree.body[head:]
    if not body or _introspects(tree):
        return None
    module_names = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    keep = {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}
    keep |= {name for name in module_names if name.startswith("__") and name.endswith("__")}
    keep |= _class_shadowed(table) & module_names
    fallbacks = set(dir(builtins)) | set(bindings())
    for name in sorted(module_names & fallbacks - keep):
        if _may_read_before_binding(tree, body, name):
            keep.add(name)
    return {"head": head, "globals": sorted(keep)}


def _introspects(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in _INTROSPECTION:
            return True
        if isinstance(node, ast.Attribute) and node.attr in _FRAME_ATTRIBUTES:
            return True
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in _INTROSPECTION_MODULES for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom):
            if any(a.name == "*" for a in node.names):
                return True
            if (node.module or "").split(".")[0] in _INTROSPECTION_MODULES:
                return True
    return False


def _class_shadowed(table: symtable.SymbolTable) -> set[str]:
    """Names some class body both reads and assigns: there a read falls through to the globals, not to locals."""
    out: set[str] = set()
    for child in table.get_children():
        if child.get_type() == "class":
            out |= {s.get_name() for s in child.get_symbols() if s.is_assigned() and s.is_referenced()}
        out |= _class_shadowed(child)
    return out


def _may_read_before_binding(tree: ast.Module, body: list[ast.stmt], name: str) -> bool:
    """Whether a read of `name` could run before the top level binds it (or after it deletes it).

    Conservative: the first top-level statement that binds `name` must be a plain binding statement
    (not inside if/for/try/with), and no read of `name` anywhere may come before that statement ends.
    """
    first = next((stmt for stmt in body if name in _bound_by(stmt)), None)
    if first is None or not isinstance(first, _SIMPLE_BINDINGS):
        return True
    if isinstance(first, ast.AnnAssign) and first.value is None:  # `x: int` declares, it does not bind
        return True
    end = (first.end_lineno or first.lineno, first.end_col_offset or 0)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            if isinstance(node.ctx, ast.Del):
                return True
            if isinstance(node.ctx, ast.Load) and (node.lineno, node.col_offset) < end:
                return True
    return False


def _bound_by(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the module scope (nested function and class bodies excluded)."""
    return set(_bindings(stmt))


def _bindings(node: ast.AST) -> Iterator[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
        return
    if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            yield (alias.asname or alias.name).split(".")[0]
        return
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        yield node.id
    elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        yield node.name
    elif isinstance(node, ast.MatchMapping) and node.rest:
        yield node.rest
    for child in ast.iter_child_nodes(node):
        yield from _bindings(child)
