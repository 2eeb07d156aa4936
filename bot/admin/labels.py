"""Words for the codes stored in the database (roles, urgency, statuses, outcomes), in the
staff member's language. The codes stay English in the database and in the audit log."""

from __future__ import annotations

from bot.admin.i18n import gettext


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


LABELS: dict[str, dict[str, str]] = {
    "role": {"editor": N_("editor"), "agent": N_("agent"), "viewer": N_("viewer")},
    "urgency": {"critical": N_("critical"), "high": N_("high"), "normal": N_("normal")},
    "status": {
        "open": N_("open"),
        "closed": N_("closed"),
        "draft": N_("draft"),
        "published": N_("published"),
        "superseded": N_("superseded"),
        "running": N_("running"),
        "swapped": N_("new model serving"),
        "kept_old": N_("old model kept"),
        "failed": N_("failed"),
        "approved": N_("approved"),
        "sending": N_("sending"),
        "done": N_("done"),
        "cancelled": N_("cancelled"),
    },
    "outcome": {
        "answered": N_("answered"),
        "referred": N_("referred to a service"),
        "emergency_services": N_("emergency services"),
        "no_reply": N_("no reply from the person"),
        "duplicate": N_("duplicate"),
    },
}


def label(kind: str, code: str | None) -> str:
    """The translated word for a code; an unknown code is shown as it is."""
    if code is None:
        return ""
    known = LABELS[kind].get(code)
    return gettext(known) if known else code
