"""infertui's own network path under httpx/httpcore: sockets whose writes
and reads are stamped where the bytes leave and arrive."""

from infertui.core.net.backend import StampingBackend
from infertui.core.net.stream import CURRENT_SEND, SendRecord, StampedStream
from infertui.core.net.transport import StampedTransport

__all__ = ["CURRENT_SEND", "SendRecord", "StampedStream", "StampedTransport", "StampingBackend"]
