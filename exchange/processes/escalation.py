"""Which escalation path a severity walks (source 000 §3.5: severity 1 pages a manager,
after two hours a VP; lower severities escalate later).

A process's ``escalation_path`` is one ordered list of tiers. A tier may name the
severities it belongs to (``"severities": ["1"]``, or a group such as ``["3", "4"]``);
a tier naming none belongs to the default path. A severity walks the tiers that name
it, and the default path when no tier names it. A process written before paths per
severity existed has only default tiers, so every severity walks its one path as
before.
"""

from __future__ import annotations


def path_for(content: dict, severity: str) -> list[dict]:
    """The tiers, in order, that a case of ``severity`` walks."""
    tiers = content.get("escalation_path") or []
    own = [t for t in tiers if severity in (t.get("severities") or [])]
    return own or [t for t in tiers if not t.get("severities")]


def paths(tiers: list[dict]) -> dict[str | None, list[int]]:
    """Each path's tier positions: per severity named by some tier, and ``None`` for the
    default path (tiers naming no severity)."""
    found: dict[str | None, list[int]] = {}
    for i, tier in enumerate(tiers):
        named = tier.get("severities") or []
        for key in named if named else [None]:
            found.setdefault(key, []).append(i)
    return found
