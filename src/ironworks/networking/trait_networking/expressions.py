"""Filter expressions of trait-based networking (TBN) rules, the language of Ironic's TBN grammar.

Ironic (``ironic/common/trait_based_networking/grammar/parser.py``) defines::

    expr     := single | compound | "(" expr ")" | function
    single   := variable comparator 'literal'         # port.vendor == 'acme'
    compound := expr ( ("&&" | "||") expr )+
    function := port.is_port | port.is_portgroup
    comparator := == != >= > <= < =~                 # =~ : prefix match
    literal  := '[A-Za-z0-9_.-]*'

Variables: ``port.address``, ``port.category``, ``port.physical_network``, ``port.vendor`` (the port or
portgroup being considered), ``network.name`` and ``network.tags`` (a set: ``==``/``!=`` test membership, ``=~``
any member's prefix).

Everything of that grammar is supported except what Ironic leaves undefined, which is refused when the rules are
loaded (``ExpressionError``) rather than guessed: ``&&`` and ``||`` mixed at one level without parentheses (Ironic's
grammar gives them no precedence), a function used as a variable (``port.is_port == 'x'``), and an ordering
comparator on ``network.tags`` (Ironic raises when it evaluates one). An attribute that is unset (a port without a
vendor) makes its comparison false, where Ironic raises during planning.

Evaluation takes a ``Subject`` (the port or portgroup) and a network; ``None`` for either is Ironic's "universal"
object: every comparison on it holds (used when grouping ports before a network is considered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LENGTH = 1024
MAX_DEPTH = 32

PORT_VARIABLES = frozenset({"address", "category", "physical_network", "vendor"})
NETWORK_VARIABLES = frozenset({"name", "tags"})
FUNCTIONS = frozenset({"port.is_port", "port.is_portgroup"})
COMPARATORS = ("==", "!=", ">=", "<=", "=~", ">", "<")

_TOKEN = re.compile(
    r"\s*(?:(?P<lit>'[A-Za-z0-9_\-.]*')|(?P<name>[a-z]+\.[a-z_]+)|(?P<op>&&|\|\||==|!=|>=|<=|=~|>|<)|(?P<par>[()]))"
)


class ExpressionError(ValueError):
    """A filter expression that does not parse or uses a construct Ironworks refuses."""


@dataclass(frozen=True)
class Subject:
    """What a filter sees of a port or portgroup."""

    is_portgroup: bool
    address: str | None = None
    category: str | None = None
    physical_network: str | None = None
    vendor: str | None = None


@dataclass(frozen=True)
class NetworkFacts:
    name: str | None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Compare:
    obj: str  # "port" | "network"
    attr: str
    op: str
    literal: str

    def eval(self, port: Subject | None, network: NetworkFacts | None) -> bool:
        target = port if self.obj == "port" else network
        if target is None:
            return True  # Ironic's universal port / network
        value = getattr(target, self.attr)
        if isinstance(value, frozenset):
            if self.op == "==":
                return self.literal in value
            if self.op == "!=":
                return self.literal not in value
            return any(item.startswith(self.literal) for item in value)  # =~ (others refused at load)
        if value is None:
            return False
        return _compare(str(value), self.op, self.literal)


def _compare(value: str, op: str, literal: str) -> bool:
    match op:
        case "==":
            return value == literal
        case "!=":
            return value != literal
        case ">=":
            return value >= literal
        case ">":
            return value > literal
        case "<=":
            return value <= literal
        case "<":
            return value < literal
        case _:
            return value.startswith(literal)


@dataclass(frozen=True)
class Function:
    name: str

    def eval(self, port: Subject | None, network: NetworkFacts | None) -> bool:
        if port is None:
            return True
        return port.is_portgroup if self.name == "port.is_portgroup" else not port.is_portgroup


@dataclass(frozen=True)
class Chain:
    op: str  # "&&" | "||"
    parts: tuple[Expression, ...]

    def eval(self, port: Subject | None, network: NetworkFacts | None) -> bool:
        if self.op == "&&":
            return all(p.eval(port, network) for p in self.parts)
        return any(p.eval(port, network) for p in self.parts)


Expression = Compare | Function | Chain


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(f"unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ExpressionError("unexpected end of expression")
        self.pos += 1
        return tok

    def expr(self, depth: int) -> Expression:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"parentheses nested deeper than {MAX_DEPTH}")
        parts = [self.term(depth)]
        op: str | None = None
        while (tok := self.peek()) is not None and tok[1] in ("&&", "||"):
            self.take()
            if op is not None and tok[1] != op:
                raise ExpressionError("'&&' and '||' mixed without parentheses: group them with ( )")
            op = tok[1]
            parts.append(self.term(depth))
        return parts[0] if op is None else Chain(op, tuple(parts))

    def term(self, depth: int) -> Expression:
        kind, value = self.take()
        if value == "(":
            inner = self.expr(depth + 1)
            if self.take()[1] != ")":
                raise ExpressionError("missing ')'")
            return inner
        if kind != "name":
            raise ExpressionError(f"expected a variable, a function or '(', got {value!r}")
        nxt = self.peek()
        if value in FUNCTIONS and (nxt is None or nxt[1] in ("&&", "||", ")")):
            return Function(value)
        obj, attr = value.split(".", 1)
        known = PORT_VARIABLES if obj == "port" else NETWORK_VARIABLES if obj == "network" else frozenset()
        if attr not in known:
            raise ExpressionError(f"unknown variable {value!r}")
        op_kind, op = self.take()
        if op not in COMPARATORS:
            raise ExpressionError(f"expected a comparator after {value}, got {op!r}")
        lit_kind, literal = self.take()
        if lit_kind != "lit":
            raise ExpressionError(f"expected a quoted literal after {value} {op}, got {literal!r}")
        if value == "network.tags" and op not in ("==", "!=", "=~"):
            raise ExpressionError(f"network.tags is a set: only ==, != and =~ apply, not {op}")
        return Compare(obj, attr, op, literal[1:-1])


def parse(text: object) -> Expression:
    """Parse a filter expression; ``ExpressionError`` says why one is refused."""
    if not isinstance(text, str):
        raise ExpressionError("a filter must be a string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"a filter is limited to {MAX_LENGTH} characters")
    parser = _Parser(_tokens(text))
    if not parser.tokens:
        raise ExpressionError("empty filter")
    result = parser.expr(0)
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()[1]!r} after a complete expression")  # type: ignore[index]
    return result
