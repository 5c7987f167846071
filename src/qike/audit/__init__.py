"""The audit trail: every action that changes data or exports it, with who, when, what, before and
after, and from which IP. Rows are written by `qike.audit.services.record` and never edited."""
