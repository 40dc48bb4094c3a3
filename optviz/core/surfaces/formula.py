"""Custom surfaces from a formula typed by the user, e.g. ``x^2 + 3*sin(y)``.

The text is tokenized and parsed by a small recursive-descent parser into an AST, which is compiled into a
flat register program (no Python ``eval``/``exec`` anywhere: the formula can only name x, y, pi, e and the
functions in `FUNCTIONS`). The program runs on any math backend (floats, numpy, torch) and is
differentiated in forward mode: each register carries its value and its derivatives d/dx and d/dy (dual
numbers), so the gradient is exact and costs about three value evaluations.

Grammar, loosest binding first::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := primary (('^' | '**') unary)?        right-associative: 2^3^2 = 2^9; -x^2 = -(x^2)
    primary := number | x | y | pi | e | name '(' expr (',' expr)* ')' | '(' expr ')'

Errors are `FormulaError`s whose `position` is the column of the offending token, so the app can draw a
caret under it while the user types (`parse_formula` is the entry point for that).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.errors import FormulaError, ValueOutOfRangeError
from optviz.core.mathlib import NUMPY, SCALAR, torch_math
from optviz.core.params import Param, Schema, Value
from optviz.core.surfaces.base import NOISE_PARAM, Domain, Point, Surface, SurfaceKind
from optviz.core.surfaces.defined import defined_start

#: Deepest nesting of parentheses, function calls, unary signs and exponents. Deeper input is rejected with a
#: `FormulaError` long before Python's recursion limit (each level costs at most five parser frames).
MAX_DEPTH = 64
#: Longest formula accepted, in characters.
MAX_LENGTH = 10_000

#: Function name -> (fewest, most) arguments; None = no upper limit.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "sin": (1, 1),
    "cos": (1, 1),
    "tan": (1, 1),
    "exp": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "abs": (1, 1),
    "tanh": (1, 1),
    "sigmoid": (1, 1),
    "min": (2, None),
    "max": (2, None),
}
VARIABLES: tuple[str, ...] = ("x", "y")
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

DEFAULT_FORMULA = "x^2 + 3*y^2"


# --------------------------------------------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),])"
)


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op", "bad" (an unexpected character), "end"
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split a formula into tokens. Unexpected characters become "bad" tokens, reported when the parser
    reaches them, so the first problem reading left to right is the one shown."""
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            tokens.append(Token("bad", text[pos], pos))
            pos += 1
            continue
        kind = m.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", n))
    return tokens


# ------------------------------------------------------------------------------------------------------ AST


@dataclass(frozen=True, eq=False)
class Node:
    """One AST node. `op` is "num", "x", "y", "neg", "add", "sub", "mul", "div", "pow" or a function name;
    `value` is set for "num"; `pos` is the column of the token that made the node (for messages)."""

    op: str
    args: tuple[Node, ...] = ()
    value: float = 0.0
    pos: int = 0


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # Token access. A "bad" token raises as soon as the parser looks at it.
    def peek(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind == "bad":
            raise self.error(f"unexpected character {tok.text!r}", tok)
        return tok

    def take(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def at_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.text in ops

    def error(self, message: str, tok: Token | int) -> FormulaError:
        pos = tok if isinstance(tok, int) else tok.pos
        return FormulaError(message, pos, self.text)

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"formula is nested too deeply (more than {MAX_DEPTH} levels)", tok)

    def unexpected(self, tok: Token) -> FormulaError:
        """The error for a token found where an operator or the end was expected."""
        if tok.kind in ("number", "name") or (tok.kind == "op" and tok.text == "("):
            return self.error(f"missing operator before {tok.text!r} (write * for multiplication)", tok)
        return self.error(f"unexpected {tok.text!r}", tok)

    # Grammar.
    def parse(self) -> Node:
        first = self.peek()
        if first.kind == "end":
            raise self.error("empty formula", 0)
        node = self.expr()
        tok = self.peek()
        if tok.kind != "end":
            raise self.unexpected(tok)
        return node

    def expr(self) -> Node:
        self.enter(self.peek())
        node = self.term()
        while self.at_op("+", "-"):
            tok = self.take()
            node = Node("add" if tok.text == "+" else "sub", (node, self.term()), pos=tok.pos)
        self.depth -= 1
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.at_op("*", "/"):
            tok = self.take()
            node = Node("mul" if tok.text == "*" else "div", (node, self.unary()), pos=tok.pos)
        return node

    def unary(self) -> Node:
        if self.at_op("-", "+"):
            tok = self.take()
            self.enter(tok)
            operand = self.unary()
            self.depth -= 1
            return Node("neg", (operand,), pos=tok.pos) if tok.text == "-" else operand
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.at_op("^", "**"):
            tok = self.take()
            self.enter(tok)
            exponent = self.unary()  # right-associative, and 2^-1 is allowed
            self.depth -= 1
            return Node("pow", (base, exponent), pos=tok.pos)
        return base

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "number":
            self.take()
            value = float(tok.text)
            if math.isinf(value):
                raise self.error(f"number {tok.text} is too large", tok)
            return Node("num", value=value, pos=tok.pos)
        if tok.kind == "name":
            self.take()
            name = tok.text
            if name in VARIABLES:
                return Node(name, pos=tok.pos)
            if name in CONSTANTS:
                return Node("num", value=CONSTANTS[name], pos=tok.pos)
            if name in FUNCTIONS:
                return self.call(tok)
            raise self.error(_unknown_name_message(name), tok)
        if tok.kind == "op" and tok.text == "(":
            self.take()
            node = self.expr()
            self.close(tok)
            return node
        if tok.kind == "end":
            raise self.error("expected a number, x, y, a function or '(' (the formula ends too soon)", tok)
        raise self.error(f"expected a number, x, y, a function or '(' before {tok.text!r}", tok)

    def call(self, name_tok: Token) -> Node:
        name = name_tok.text
        if not self.at_op("("):
            raise self.error(f"expected '(' after {name}, as in {name}(x)", self.peek())
        open_tok = self.take()
        args: list[Node] = []
        if not self.at_op(")"):
            args.append(self.expr())
            while self.at_op(","):
                self.take()
                args.append(self.expr())
        self.close(open_tok)
        low, high = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            need = f"{low} or more arguments" if high != low else f"{low} argument" + ("s" if low != 1 else "")
            raise self.error(f"{name} takes {need} (got {len(args)})", name_tok)
        return Node(name, tuple(args), pos=name_tok.pos)

    def close(self, open_tok: Token) -> None:
        tok = self.peek()
        if tok.kind == "op" and tok.text == ")":
            self.take()
            return
        if tok.kind == "end":
            raise self.error(f"missing ')' to close the '(' at column {open_tok.pos + 1}", tok)
        raise self.unexpected(tok)


def _unknown_name_message(name: str) -> str:
    known = [*VARIABLES, *CONSTANTS, *FUNCTIONS]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {close[0]!r}?"
    elif name.lower() in known:
        hint = f"names are lower case: {name.lower()!r}"
    else:
        hint = "the variables are x and y"
    return f"unknown name {name!r} ({hint})"


# ----------------------------------------------------------------------------------------------- backends
#
# Each backend gets a table of the operations the program uses. On floats, math.log(-1), math.sqrt(-1),
# math.exp(1000), 1/0 and (-8)**(1/3) raise (or go complex) where numpy and torch return nan/inf; the
# scalar table wraps those few so a formula behaves the same everywhere and a race never crashes mid-step.

_INF = math.inf
_NAN = math.nan


def _is_odd_integer(v: float) -> bool:
    return float(v).is_integer() and abs(v) < 2.0**53 and int(v) % 2 == 1


def _s_div(u: float, v: float) -> float:
    try:
        return u / v
    except ZeroDivisionError:
        if u != u or u == 0:
            return _NAN
        return math.copysign(_INF, u) * math.copysign(1.0, v)


def _s_pow(u: float, v: float) -> float:
    try:
        return math.pow(u, v)
    except OverflowError:
        return -_INF if (u < 0 and _is_odd_integer(v)) else _INF
    except ValueError:  # 0 to a negative power, or a negative base to a fractional power
        if u == 0:
            return -_INF if (math.copysign(1.0, u) < 0 and _is_odd_integer(v)) else _INF
        return _NAN


def _s_guard(fn: Callable[[float], float]) -> Callable[[float], float]:
    def guarded(u: float) -> float:
        try:
            return fn(u)
        except ValueError:  # sin(inf) and friends
            return _NAN

    return guarded


def _s_exp(u: float) -> float:
    try:
        return math.exp(u)
    except OverflowError:
        return _INF


def _s_log(u: float) -> float:
    try:
        return math.log(u)
    except ValueError:
        return -_INF if u == 0 else _NAN


def _s_sqrt(u: float) -> float:
    try:
        return math.sqrt(u)
    except ValueError:
        return _NAN


def _s_min(u: float, v: float) -> float:
    return u if (u <= v or u != u) else v  # nan propagates, as np.minimum does


def _s_max(u: float, v: float) -> float:
    return u if (u >= v or u != u) else v


def _s_full(x: Any, y: Any, c: float) -> float:
    return float(c)


def _np_full(x: Any, y: Any, c: float) -> np.ndarray:
    return np.full(np.broadcast_shapes(np.shape(x), np.shape(y)), c, dtype=np.float64)


def _both_numbers(u: Any, v: Any) -> bool:
    return isinstance(u, (float, int)) and isinstance(v, (float, int))


def _array_div(u: Any, v: Any) -> Any:
    # Array backends still meet two plain numbers (a derivative seed over a constant: d/dx of x/0 is 1/0),
    # where Python's `/` raises: those go through the guarded scalar version (inf or NaN, like the arrays).
    return _s_div(u, v) if _both_numbers(u, v) else u / v


def _array_pow(u: Any, v: Any) -> Any:
    return _s_pow(u, v) if _both_numbers(u, v) else u**v


def _ops(xp: SimpleNamespace, **overrides: Any) -> SimpleNamespace:
    """The evaluator's table for a math namespace: its functions, plus what the evaluator adds
    (operators as functions, `log_any`, `full`), with backend-specific replacements in `overrides`."""

    def full(x: Any, y: Any, c: float) -> Any:
        return x * 0.0 + y * 0.0 + c

    return SimpleNamespace(
        **{**vars(xp), "div": _array_div, "pow": _array_pow, "log_any": xp.log, "full": full, **overrides}
    )


# Python's math raises where numpy returns inf or NaN: the scalar table uses guarded versions.
_SCALAR_OPS = _ops(
    SCALAR,
    div=_s_div,
    pow=_s_pow,
    sin=_s_guard(math.sin),
    cos=_s_guard(math.cos),
    tan=_s_guard(math.tan),
    exp=_s_exp,
    log=_s_log,
    log_any=_s_log,
    sqrt=_s_sqrt,
    minimum=_s_min,
    maximum=_s_max,
    full=_s_full,
)
_NUMPY_OPS = _ops(NUMPY, full=_np_full)

_OPS_CACHE: dict[str, SimpleNamespace] = {"scalar": _SCALAR_OPS, "numpy": _NUMPY_OPS}


def _torch_ops() -> SimpleNamespace:
    import torch

    def as_tensor(v: Any, like: Any) -> Any:
        return v if isinstance(v, torch.Tensor) else torch.as_tensor(v, dtype=like.dtype, device=like.device)

    def minimum(u: Any, v: Any) -> Any:
        if not isinstance(u, torch.Tensor):
            u = as_tensor(u, v)
        return torch.minimum(u, as_tensor(v, u))

    def maximum(u: Any, v: Any) -> Any:
        if not isinstance(u, torch.Tensor):
            u = as_tensor(u, v)
        return torch.maximum(u, as_tensor(v, u))

    def log_any(u: Any) -> Any:  # the log of a constant base, for d(c^w) = c^w·log(c)·dw
        return torch.log(u) if isinstance(u, torch.Tensor) else _s_log(u)

    def full(x: Any, y: Any, c: float) -> Any:
        if getattr(x, "requires_grad", False) or getattr(y, "requires_grad", False):
            # Stay on the autograd graph (with gradient 0), so backward() on a constant formula works.
            return x * 0.0 + y * 0.0 + float(c)
        like = x if isinstance(x, torch.Tensor) else y
        shape = torch.broadcast_shapes(tuple(getattr(x, "shape", ())), tuple(getattr(y, "shape", ())))
        return torch.full(shape, float(c), dtype=like.dtype, device=like.device)

    return _ops(
        torch_math(),
        minimum=minimum,
        maximum=maximum,
        log_any=log_any,
        full=full,
        tensor_type=torch.Tensor,
    )


def _ops_for(xp: SimpleNamespace) -> SimpleNamespace:
    if xp is SCALAR:
        return _SCALAR_OPS
    if xp is NUMPY:
        return _NUMPY_OPS
    name = getattr(xp, "name", "")
    ops = _OPS_CACHE.get(name)
    if ops is None:
        ops = _torch_ops() if name == "torch" else _ops(xp)
        _OPS_CACHE[name] = ops
    return ops


# ---------------------------------------------------------------------------------------- program and AD
#
# Value rules: op(o, u, v) -> out. Derivative rules: d(o, u, v, out, du, dv) -> dout, where du/dv are the
# derivatives of the operands with respect to one variable, or None when known to be zero (so d/dy of
# exp(x^2) is exactly 0 even where exp overflows, instead of inf·0 = nan). Unary ops ignore v and dv.


def _d_pow(o: SimpleNamespace, u: Any, v: Any, out: Any, du: Any, dv: Any) -> Any:
    if dv is None:  # exponent constant with respect to this variable: v·u^(v−1)·du
        return v * o.pow(u, v - 1.0) * du
    if du is None:  # base constant: u^v·log(u)·dv
        return out * o.log_any(u) * dv
    return out * (dv * o.log(u) + o.div(v * du, u))


def _d_add(o: SimpleNamespace, u: Any, v: Any, out: Any, du: Any, dv: Any) -> Any:
    if du is None:
        return dv
    if dv is None:
        return du
    return du + dv


def _d_sub(o: SimpleNamespace, u: Any, v: Any, out: Any, du: Any, dv: Any) -> Any:
    if du is None:
        return -dv
    if dv is None:
        return du
    return du - dv


def _d_mul(o: SimpleNamespace, u: Any, v: Any, out: Any, du: Any, dv: Any) -> Any:
    if du is None:
        return u * dv
    if dv is None:
        return du * v
    return du * v + u * dv


def _d_div(o: SimpleNamespace, u: Any, v: Any, out: Any, du: Any, dv: Any) -> Any:
    if dv is None:
        return o.div(du, v)
    if du is None:
        return o.div(-(out * dv), v)
    return o.div(du - out * dv, v)


def _d_min(o: SimpleNamespace, u: Any, v: Any, out: Any, du: Any, dv: Any) -> Any:
    return o.where(u <= v, 0.0 if du is None else du, 0.0 if dv is None else dv)


def _d_max(o: SimpleNamespace, u: Any, v: Any, out: Any, du: Any, dv: Any) -> Any:
    return o.where(u >= v, 0.0 if du is None else du, 0.0 if dv is None else dv)


_Rule = tuple[Callable[..., Any], Callable[..., Any]]

_RULES: dict[str, _Rule] = {
    "add": (lambda o, u, v: u + v, _d_add),
    "sub": (lambda o, u, v: u - v, _d_sub),
    "mul": (lambda o, u, v: u * v, _d_mul),
    "div": (lambda o, u, v: o.div(u, v), _d_div),
    "pow": (lambda o, u, v: o.pow(u, v), _d_pow),
    "sq": (lambda o, u, v: u * u, lambda o, u, v, out, du, dv: (u + u) * du),
    "neg": (lambda o, u, v: -u, lambda o, u, v, out, du, dv: -du),
    "sin": (lambda o, u, v: o.sin(u), lambda o, u, v, out, du, dv: o.cos(u) * du),
    "cos": (lambda o, u, v: o.cos(u), lambda o, u, v, out, du, dv: -(o.sin(u) * du)),
    "tan": (lambda o, u, v: o.tan(u), lambda o, u, v, out, du, dv: (1.0 + out * out) * du),
    "exp": (lambda o, u, v: o.exp(u), lambda o, u, v, out, du, dv: out * du),
    "log": (lambda o, u, v: o.log(u), lambda o, u, v, out, du, dv: o.div(du, u)),
    "sqrt": (lambda o, u, v: o.sqrt(u), lambda o, u, v, out, du, dv: o.div(du, out + out)),
    "abs": (lambda o, u, v: o.abs(u), lambda o, u, v, out, du, dv: o.sign(u) * du),  # 0 at the kink
    "tanh": (lambda o, u, v: o.tanh(u), lambda o, u, v, out, du, dv: (1.0 - out * out) * du),
    "sigmoid": (lambda o, u, v: o.sigmoid(u), lambda o, u, v, out, du, dv: out * (1.0 - out) * du),
    "min": (lambda o, u, v: o.minimum(u, v), _d_min),
    "max": (lambda o, u, v: o.maximum(u, v), _d_max),
}


def _compile(root: Node) -> tuple[list[float], list[tuple[Callable[..., Any], Callable[..., Any], int, int]], int]:
    """Flatten the AST into (constants, code, output register).

    Registers are laid out as [x, y, *constants, *one per instruction]. The walk is iterative (explicit
    stack), so long left-leaning chains such as x+x+...+x compile without recursion. Identical
    subexpressions share a register, and operations on constants are folded using the scalar backend.
    """
    consts: list[float] = []
    const_reg: dict[str, int] = {}  # float.hex -> provisional register
    code: list[tuple[str, int, int]] = []  # provisional: ops refer to provisional registers
    memo: dict[tuple[str, int, int], int] = {}
    # Provisional registers: 0 = x, 1 = y, ("c", i) constants and ("op", j) instructions are numbered in
    # one sequence and renumbered at the end.
    kinds: list[tuple[str, int]] = [("x", 0), ("y", 0)]
    value_of: dict[int, float] = {}

    def constant(c: float) -> int:
        key = float(c).hex()
        reg = const_reg.get(key)
        if reg is None:
            reg = len(kinds)
            kinds.append(("c", len(consts)))
            consts.append(float(c))
            const_reg[key] = reg
            value_of[reg] = float(c)
        return reg

    def emit(op: str, a: int, b: int) -> int:
        if op == "pow" and value_of.get(b) == 2.0:
            op, b = "sq", a
        if a in value_of and b in value_of:
            return constant(_RULES[op][0](_SCALAR_OPS, value_of[a], value_of[b]))
        key = (op, a, b)
        reg = memo.get(key)
        if reg is None:
            reg = len(kinds)
            kinds.append(("op", len(code)))
            code.append(key)
            memo[key] = reg
        return reg

    result: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if node.args and not ready:
            stack.append((node, True))
            stack.extend((arg, False) for arg in reversed(node.args))
            continue
        if node.op == "num":
            reg = constant(node.value)
        elif node.op == "x":
            reg = 0
        elif node.op == "y":
            reg = 1
        else:
            regs = [result.pop(id(arg)) for arg in node.args]
            if len(regs) == 1:
                reg = emit(node.op, regs[0], regs[0])
            else:  # binary ops, and min/max folded pairwise from the left
                reg = regs[0]
                for other in regs[1:]:
                    reg = emit(node.op, reg, other)
        result[id(node)] = reg

    out = result[id(root)]
    # Final layout: x, y, constants, instructions.
    final: dict[int, int] = {0: 0, 1: 1}
    n_consts = len(consts)
    for reg, (kind, index) in enumerate(kinds):
        if kind == "c":
            final[reg] = 2 + index
        elif kind == "op":
            final[reg] = 2 + n_consts + index
    program = [(*_RULES[op], final[a], final[b]) for op, a, b in code]
    return consts, program, final[out]


class Formula:
    """A parsed, compiled formula f(x, y) with exact forward-mode derivatives, on any backend."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ast = _parse(text)
        self._consts, self._code, self._out = _compile(self.ast)
        self._n_inputs = 2 + len(self._consts)

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    def __reduce__(self) -> tuple[type[Formula], tuple[str]]:
        # The compiled program holds lambdas, which pickle cannot store: rebuild from the text instead.
        return (Formula, (self.text,))

    def _values(self, x: Any, y: Any, ops: SimpleNamespace) -> list[Any]:
        regs = [x, y, *self._consts]
        append = regs.append
        for fn, _d, a, b in self._code:
            append(fn(ops, regs[a], regs[b]))
        return regs

    def _finish(self, r: Any, x: Any, y: Any, ops: SimpleNamespace) -> Any:
        """Give constants (and zero derivatives) the backend's type and the inputs' shape."""
        if r is None:
            return ops.full(x, y, 0.0)
        if isinstance(r, (float, int)):
            return ops.full(x, y, r)
        tensor_type = getattr(ops, "tensor_type", None)
        if tensor_type is not None:
            like = x if isinstance(x, tensor_type) else y
            if r.dtype != like.dtype:
                r = r.to(like.dtype)
        return r

    def value(self, x: Any, y: Any, xp: SimpleNamespace = SCALAR) -> Any:
        """f(x, y), elementwise."""
        ops = _ops_for(xp)
        if ops is _NUMPY_OPS:
            with np.errstate(all="ignore"):
                return self._finish(self._values(x, y, ops)[self._out], x, y, ops)
        r = self._values(x, y, ops)[self._out]
        return r if ops is _SCALAR_OPS and self._out >= self._n_inputs else self._finish(r, x, y, ops)

    def value_and_grad(self, x: Any, y: Any, xp: SimpleNamespace = SCALAR) -> tuple[Any, Any, Any]:
        """(f, df/dx, df/dy), elementwise."""
        ops = _ops_for(xp)
        if ops is _NUMPY_OPS:
            with np.errstate(all="ignore"):
                return self._value_and_grad(x, y, ops)
        return self._value_and_grad(x, y, ops)

    def grad(self, x: Any, y: Any, xp: SimpleNamespace = SCALAR) -> tuple[Any, Any]:
        _, gx, gy = self.value_and_grad(x, y, xp)
        return gx, gy

    def _value_and_grad(self, x: Any, y: Any, ops: SimpleNamespace) -> tuple[Any, Any, Any]:
        # One pass carrying (value, d/dx, d/dy) per register: the race engine's scalar hot loop runs this.
        vals = [x, y, *self._consts]
        none: list[Any] = [None] * len(self._consts)
        dx: list[Any] = [1.0, None, *none]
        dy: list[Any] = [None, 1.0, *none]
        for fn, dfn, a, b in self._code:
            u = vals[a]
            v = vals[b]
            out = fn(ops, u, v)
            vals.append(out)
            da = dx[a]
            db = dx[b]
            dx.append(None if da is None and db is None else dfn(ops, u, v, out, da, db))
            da = dy[a]
            db = dy[b]
            dy.append(None if da is None and db is None else dfn(ops, u, v, out, da, db))
        k = self._out
        if ops is _SCALAR_OPS:
            gx = dx[k]
            gy = dy[k]
            return float(vals[k]), 0.0 if gx is None else float(gx), 0.0 if gy is None else float(gy)
        return (
            self._finish(vals[k], x, y, ops),
            self._finish(dx[k], x, y, ops),
            self._finish(dy[k], x, y, ops),
        )


def _parse(text: str) -> Node:
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, got {type(text).__name__}", 0, str(text))
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is too long (over {MAX_LENGTH} characters)", MAX_LENGTH, text)
    return _Parser(text).parse()


def parse_formula(text: str) -> Formula:
    """Parse and compile a formula; raises `FormulaError` (with the column of the bad token) if it is not one.

    Cheap enough to call on every keystroke, so the app can show the error inline while the user types.
    """
    return Formula(text)


# -------------------------------------------------------------------------------------------------- surface


class FormulaSurface(Surface):
    """A surface given by a typed formula. No minima are known, so races are scored by loss only.

    `expression` is the compiled `Formula`; `formula` is its text, as for the built-in surfaces.
    """

    name = "custom"
    title = "Custom formula"
    minima: tuple[Point, ...] = ()
    min_value = None
    log_scale = False

    def __init__(
        self,
        formula: str = DEFAULT_FORMULA,
        xmin: float = -3.0,
        xmax: float = 3.0,
        ymin: float = -3.0,
        ymax: float = 3.0,
    ) -> None:
        for lo, hi, axis in ((xmin, xmax, "x"), (ymin, ymax, "y")):
            if not lo < hi:
                raise ValueOutOfRangeError(f"custom: {axis}min={lo:g} must be less than {axis}max={hi:g}")
        self.expression = parse_formula(formula)
        self.formula = f"f = {formula}"
        self.domain: Domain = ((float(xmin), float(xmax)), (float(ymin), float(ymax)))
        # 75% of the way from the centre towards the top-left corner (65% in y, to stay off the diagonal, a
        # common symmetry line of typed formulas).
        cx, cy = 0.5 * (xmin + xmax), 0.5 * (ymin + ymax)
        self.start: Point = (cx - 0.75 * (cx - xmin), cy + 0.65 * (ymax - cy))
        # A formula undefined there (log(x) left of the y axis) starts at the nearest point well inside the
        # region where it is defined, so a race from the suggested start goes somewhere.
        self.start = defined_start(self, self.start)

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        return self.expression.value(x, y, xp)

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        _, gx, gy = self.expression.value_and_grad(x, y, xp)
        return gx, gy


def _build_custom(values: dict[str, Value]) -> Surface:
    return FormulaSurface(
        str(values["formula"]),
        float(values["xmin"]),
        float(values["xmax"]),
        float(values["ymin"]),
        float(values["ymax"]),
    )


CUSTOM_KIND = SurfaceKind(
    name="custom",
    title="Custom formula",
    description="Any f(x, y) you type, e.g. x^2 + 3*y^2 or sin(x)*cos(y) + 0.1*(x^2 + y^2).",
    schema=Schema(
        "custom",
        (
            Param(
                "formula",
                DEFAULT_FORMULA,
                kind="text",
                help="f(x, y) using + - * / ^, numbers, pi, e and "
                + ", ".join(FUNCTIONS)
                + " (min and max take two or more arguments)",
            ),
            Param("xmin", -3.0, low=-1000.0, high=1000.0, help="left edge of the domain"),
            Param("xmax", 3.0, low=-1000.0, high=1000.0, help="right edge of the domain"),
            Param("ymin", -3.0, low=-1000.0, high=1000.0, help="bottom edge of the domain"),
            Param("ymax", 3.0, low=-1000.0, high=1000.0, help="top edge of the domain"),
            NOISE_PARAM,
        ),
    ),
    build=_build_custom,
    formula="f(x, y) = the formula you type",
)
