"""The error tree every service raises; each service's app renders it in its
own OpenStack error format (see core/web.py).

    PocketstackError (500)
     +-- BadRequest (400)
     |    +-- ValidationError (400)
     +-- Unauthorized (401)
     +-- Forbidden (403)
     +-- NotFound (404)
     +-- MethodNotAllowed (405)
     +-- NotAcceptable (406)
     +-- Conflict (409)
     +-- Gone (410)
     +-- PayloadTooLarge (413)     body too large
     +-- OverQuota (413 or 403)    quota exceeded; status set per service
     +-- UnsupportedMediaType (415)
     +-- RangeNotSatisfiable (416)
     +-- ServiceUnavailable (503)
"""

from __future__ import annotations


class PocketstackError(Exception):
    status = 500
    title = "Internal Server Error"
    # Nova/Cinder name their error bodies by kind ({"itemNotFound": ...}).
    nova_kind = "computeFault"
    # Neutron's {"NeutronError": {"type": ...}}; defaults to the class name.
    neutron_type: str | None = None

    def __init__(self, message: str | None = None, *, status: int | None = None, **extra):
        self.message = message or self.title
        if status is not None:
            self.status = status
        self.extra = extra
        super().__init__(self.message)


class BadRequest(PocketstackError):
    status, title, nova_kind = 400, "Bad Request", "badRequest"


class ValidationError(BadRequest):
    pass


class Unauthorized(PocketstackError):
    status, title, nova_kind = 401, "Unauthorized", "unauthorized"


class Forbidden(PocketstackError):
    status, title, nova_kind = 403, "Forbidden", "forbidden"


class NotFound(PocketstackError):
    status, title, nova_kind = 404, "Not Found", "itemNotFound"


class MethodNotAllowed(PocketstackError):
    status, title, nova_kind = 405, "Method Not Allowed", "badMethod"


class NotAcceptable(PocketstackError):
    status, title, nova_kind = 406, "Not Acceptable", "notAcceptable"


class Conflict(PocketstackError):
    status, title, nova_kind = 409, "Conflict", "conflictingRequest"


class Gone(PocketstackError):
    status, title, nova_kind = 410, "Gone", "gone"


class PayloadTooLarge(PocketstackError):
    status, title, nova_kind = 413, "Request Entity Too Large", "overLimit"


class OverQuota(PocketstackError):
    status, title, nova_kind = 413, "Over Quota", "overLimit"


class UnsupportedMediaType(PocketstackError):
    status, title, nova_kind = 415, "Unsupported Media Type", "mediaTypeNotSupported"


class RangeNotSatisfiable(PocketstackError):
    status, title, nova_kind = 416, "Requested Range Not Satisfiable", "rangeNotSatisfiable"


class ServiceUnavailable(PocketstackError):
    status, title, nova_kind = 503, "Service Unavailable", "serviceUnavailable"


_BY_STATUS = {
    cls.status: cls
    for cls in (
        BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, NotAcceptable,
        Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, RangeNotSatisfiable,
        ServiceUnavailable,
    )
}


def for_status(status: int, message: str | None = None) -> PocketstackError:
    """The error of that HTTP status (for mapping a remote service's answer)."""
    return _BY_STATUS.get(status, PocketstackError)(message, status=status)
