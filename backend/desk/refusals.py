"""How a desk request is refused: a problem naming the field, and whether a denied access was logged for it.

A refusal that was logged must be answered, not raised past the request's transaction: pages catch `Refused`
and return their error page with its status, so the denied event in the person's access log is committed.
"""

from __future__ import annotations

from backend.core.errors import FieldError, Problem


class Refused(Problem):
    """A desk action refused; `logged` when a denied event was written in the person's access log."""

    def __init__(self, status: int, message: str, *, kind: str, field: str, logged: bool) -> None:
        super().__init__(status, message, kind=kind, errors=[FieldError(field=field, message=message)])
        self.logged = logged
