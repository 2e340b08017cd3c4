"""Who may do what: accounts' roles and region scopes, the one access policy.

An account has a role and a region scope (a division code: ``""`` for the whole country, or
a province, city, county or town code). Roles are ordered; each includes the ones before it:

- ``viewer``: reads, personal data included (``graph_service.visibility`` decides what);
- ``planner``: viewer, and judgements, what-if runs, saved views;
- ``editor``: planner, and writes of nodes, links, batches and imports inside its scope;
- ``admin``: editor everywhere, and accounts, keys, merges across regions, restores.

Reads are not region-limited (a province reads the whole view). A write is: an editor may
write a node whose region lies inside its scope, and a link when at least one of its ends does
(a city bureau paired with a village of another county). A node without a region code is a
national one: only a national scope writes it. The store checks this inside the write
transaction (``graph_service.store.integrity.check_scope``), so a batch is all-or-nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from graph_service import domain
from graph_service.errors import AuthenticationError, ForbiddenError, InvalidInputError

__all__ = [
    "ANONYMOUS",
    "NATIONAL",
    "ROLES",
    "SYSTEM",
    "Caller",
    "Role",
    "check_role",
    "check_scope_code",
    "region_within",
    "scope_label",
]

Role = Literal["viewer", "planner", "editor", "admin"]
#: Roles, least to most.
ROLES: Final[tuple[Role, ...]] = get_args(Role)
_RANK: Final[dict[str, int]] = {role: rank for rank, role in enumerate(ROLES)}
#: The scope of the whole country.
NATIONAL: Final[str] = ""


def region_within(code: str | None, scope: str) -> bool:
    """Whether a region ``code`` (``None``: national) lies inside ``scope``.

    Division codes nest by prefix (``37`` ⊃ ``3714`` ⊃ ``371426`` ⊃ ``371426101``), so a code
    is inside a scope when it starts with it; everything is inside the national scope.
    """
    return (code or "").startswith(scope)


def check_scope_code(scope: str, field: str = "scope") -> str:
    """``scope`` if it is a region scope (``""`` or a division code of a region level)."""
    if scope == NATIONAL:
        return scope
    if not domain.is_region_code(scope):
        lengths = list(domain.REGION_CODE_LENGTHS)
        raise InvalidInputError(
            f"a scope is a region code of {lengths} digits (or empty for national), not {scope!r}",
            field=field,
        )
    return scope


def scope_label(scope: str) -> str:
    """How a scope reads in messages: ``national`` or its code."""
    return scope or "national"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: an account (with its role and region scope) or nobody.

    ``authenticated`` callers presented a valid key (or are operators of the CLI, which
    opens the store itself). ``key_id`` is the public id of the key used, for rate limits
    and history; ``None`` for callers without one.
    """

    authenticated: bool = False
    name: str = "anonymous"
    role: Role = "viewer"
    scope: str = NATIONAL
    key_id: str | None = None

    def has_role(self, role: Role) -> bool:
        return self.authenticated and _RANK[self.role] >= _RANK[role]

    @property
    def sees_personal(self) -> bool:
        return self.authenticated

    @property
    def may_judge(self) -> bool:
        return self.has_role("planner")

    @property
    def may_write(self) -> bool:
        return self.has_role("editor")

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    @property
    def write_scope(self) -> str:
        """The region this caller writes in: everywhere for an admin."""
        return NATIONAL if self.is_admin else self.scope


def check_role(caller: Caller, role: Role, action: str) -> None:
    """Raise ``ForbiddenError`` (or ``AuthenticationError`` for no key) unless ``caller``
    holds ``role`` or more."""
    if not caller.authenticated:
        raise AuthenticationError(f"{action} requires an API key", field="X-API-Key")
    if not caller.has_role(role):
        raise ForbiddenError(
            f"{action} requires the role {role} or more; account {caller.name!r} is {caller.role}",
            field="X-API-Key",
            code="role_required",
            details={"required_role": role, "role": caller.role, "account": caller.name},
        )


ANONYMOUS: Final[Caller] = Caller()
#: Writes the service makes on its own (seed loads, migrations) and CLI operators at the
#: machine, who open the store directly.
SYSTEM: Final[Caller] = Caller(authenticated=True, name="system", role="admin")
