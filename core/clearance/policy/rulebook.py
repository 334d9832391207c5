"""How a rule is declared: one function, with its code, its words and the fields it reads beside it.

A rule is a pure function of a :class:`~clearance.policy.rules.Context` returning its findings. It is
declared once, with the :meth:`RuleSet.rule` decorator::

    pack = RuleSet("acme")

    @pack.rule(
        "ACME-LOGO",
        title="Generated logos",
        kind="escalate",
        cites=("P1",),
        triggers="use.creative_element is key_visual and the output resembles unowned material.",
        why="Our legal team reviews every generated logo.",
        resolve="Have the logo designed by an artist, or request approval.",
        reads=("use.creative_element", "output.resembles_unowned_material"),
    )
    def acme_logo(ctx): ...

Everything else is derived from these declarations: the rule reference (docs/rules.md, ``clearance policy
rules``), the codes a policy may configure, the questions a host panel shows (``questions_read``), and the
engine's plan for reusing findings between records that answer the same questions alike (``reads``).

``reads`` is a promise: the rule's findings depend on nothing but those record fields (and the policy). The
engine reuses findings on it, so a rule that reads more than it declares would give stale answers; a test
compares reused and fresh evaluations over generated records. A rule that cannot say what it reads passes
``reads=None`` and is run afresh on every record. A field whose answer only matters when others say so is
declared with :func:`when` (``when("talent.consent_documented", needs_consent)``): the engine still keys on
it, but ``questions_read`` only lists it where the condition holds.

Rule packs: a studio or vendor adds rules without forking by shipping a :class:`RuleSet` in an installed
package, announced through the ``clearance.rules`` entry point group (the way OpenTimelineIO finds adapters
through ``opentimelineio.plugins``)::

    [project.entry-points."clearance.rules"]
    acme = "acme_clearance_rules:pack"

A pack that fails to load stops evaluation with one line naming it: a studio that installed a rule expects
it to be applied, so a silent skip would let material through (fail closed).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Literal

from clearance.decision import Finding
from clearance.errors import ClearanceError
from clearance.installed_groups import declared, forget

if TYPE_CHECKING:
    from clearance.policy.rules import Context
    from clearance.record import UseRecord

ENTRY_POINT_GROUP = "clearance.rules"
RuleKind = Literal["baseline", "principle", "escalate", "no-go"]
Check = Callable[["Context"], list[Finding]]
CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Read:
    """One record field a rule reads; ``condition`` says when its answer matters (for ``questions_read``)."""

    field: str
    condition: Callable[[UseRecord], bool] | None = None

    def asked(self, record: UseRecord) -> bool:
        return self.condition is None or self.condition(record)


def when(field: str, condition: Callable[[UseRecord], bool]) -> Read:
    """A field the rule reads only when ``condition(record)`` holds."""
    return Read(field, condition)


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule: its check and what the docs and ``clearance policy show`` say about it."""

    code: str
    title: str
    cites: tuple[str, ...]
    kind: RuleKind
    triggers: str
    why: str
    resolve: str
    check: Check
    reads: tuple[Read, ...] | None  # None: not memoizable, run afresh on every record
    step_reads: tuple[str, ...] = ()  # for rules judged tool by tool: the fields of one chain step
    source: str = ""  # the guidance's own sentence behind the rule (policy.md)
    pack: str = "core"
    consents: bool = False  # reads the consent registry: reuse is keyed on the registry's state and the day

    @property
    def per_step(self) -> bool:
        return bool(self.step_reads)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(r.field for r in self.reads or ())

    def __call__(self, ctx: Context) -> list[Finding]:
        return self.check(ctx)


class RuleSet:
    """An ordered collection of rules: the core rules, or one rule pack."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._rules: dict[str, Rule] = {}

    def rule(
        self,
        code: str,
        *,
        title: str,
        kind: RuleKind,
        triggers: str,
        why: str,
        resolve: str,
        reads: tuple[str | Read, ...] | None,
        cites: tuple[str, ...] = (),
        step_reads: tuple[str, ...] = (),
        source: str = "",
        consents: bool = False,
    ) -> Callable[[Check], Rule]:
        """Declare the decorated function as the rule ``code``."""
        if not CODE_PATTERN.match(code):
            raise ValueError(f"rule code {code!r}: use upper-case words joined by '-', e.g. ACME-LOGO")
        if code in self._rules:
            raise ValueError(f"rule code {code} is declared twice in {self.name}")
        declared = None if reads is None else tuple(r if isinstance(r, Read) else Read(r) for r in reads)
        if declared is not None:
            _check_fields(code, [r.field for r in declared], step_reads)

        def register(check: Check) -> Rule:
            made = Rule(
                code, title, cites, kind, triggers, why, resolve, check, declared, step_reads, source, self.name,
                consents,
            )
            self._rules[code] = made
            return made

        return register

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, code: object) -> bool:
        return code in self._rules

    def __getitem__(self, code: str) -> Rule:
        return self._rules[code]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._rules)


def _check_fields(code: str, fields: list[str], step_reads: tuple[str, ...]) -> None:
    """Every declared field exists on a record, so a typo fails at import, not as a silently stale finding."""
    from clearance.record import Tool, UseRecord, field_paths

    known = set(field_paths(UseRecord))
    for name in fields:
        if name not in known:
            raise ValueError(f"rule {code} reads {name!r}, which is not a record field (see docs/record-reference.md)")
    for name in step_reads:
        head, _, tail = name.partition(".")
        sub = Tool.model_fields[head].annotation if head in Tool.model_fields else None
        if head not in Tool.model_fields or (tail and tail not in getattr(sub, "model_fields", {})):
            raise ValueError(f"rule {code} reads tools[].{name}, which is not a field of a tool step")


# ------------------------------------------------------------------------------------------ rule packs

_lock = threading.Lock()
_installed: tuple[Rule, ...] | None = None


def _load_packs() -> list[RuleSet]:
    packs: list[RuleSet] = []
    if not declared(ENTRY_POINT_GROUP):  # the usual case, known without parsing every package's entry points
        return packs
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        where = f"rule pack {point.name!r} ({point.value}, entry point group {ENTRY_POINT_GROUP})"
        try:
            loaded = point.load()
        except Exception as exc:  # any failure in a third-party pack must stop the gate, not skip the pack
            raise ClearanceError(
                f"{where} failed to load: {type(exc).__name__}: {exc}; fix or uninstall the package that provides it"
            ) from None
        if not isinstance(loaded, RuleSet):
            raise ClearanceError(
                f"{where} is a {type(loaded).__name__}, not a clearance.policy.rulebook.RuleSet; point the entry point"
                " at the pack's RuleSet"
            )
        packs.append(loaded)
    return packs


def all_rules() -> tuple[Rule, ...]:
    """The core rules, then every installed pack's, in a stable order (read once per process)."""
    global _installed
    if _installed is None:
        with _lock:
            if _installed is None:
                _installed = _combine()
    return _installed


def reload_rule_packs() -> tuple[Rule, ...]:
    """Find the installed packs again (after installing one into a running process, e.g. in tests)."""
    global _installed
    with _lock:
        forget()
        _installed = _combine()
    return _installed


def _combine() -> tuple[Rule, ...]:
    from clearance.policy.rules import CORE

    rules = list(CORE)
    seen = {r.code: CORE.name for r in rules}
    for pack in _load_packs():
        for rule in pack:
            if rule.code in seen:
                raise ClearanceError(
                    f"rule pack {pack.name!r} declares {rule.code}, already declared by {seen[rule.code]}; rename the"
                    " pack's rule (pack codes usually start with the studio's name)"
                )
            seen[rule.code] = pack.name
            rules.append(rule)
    return tuple(rules)


def rule_by_code() -> dict[str, Rule]:
    return {rule.code: rule for rule in all_rules()}
