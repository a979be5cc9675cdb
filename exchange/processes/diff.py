"""Field-by-field difference between two process versions."""

from __future__ import annotations

# Lists whose items are matched by an identifying key rather than by position.
_KEYED = {"severities": "key", "intake_fields": "key", "rejection_reasons": "code"}


def diff_content(old: dict, new: dict) -> list[dict]:
    """Changes from ``old`` to ``new`` as ``[{"path", "from", "to"}]``, in a stable order.

    Keyed lists (severities, intake fields, rejection reasons) are compared item by item
    under their key, so re-ordering alone shows as no change and an edited severity
    shows only its changed attributes.
    """
    changes: list[dict] = []
    _walk(old, new, "", changes)
    return changes


def _walk(old, new, path: str, out: list[dict]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append({"path": sub, "from": None, "to": new[key]})
            elif key not in new:
                out.append({"path": sub, "from": old[key], "to": None})
            else:
                _walk(old[key], new[key], sub, out)
        return
    keyed = _KEYED.get(path)
    if keyed and isinstance(old, list) and isinstance(new, list):
        _walk({str(i[keyed]): i for i in old}, {str(i[keyed]): i for i in new}, path, out)
        return
    if old != new:
        out.append({"path": path, "from": old, "to": new})
