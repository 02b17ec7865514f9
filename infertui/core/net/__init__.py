"""infertui's own network path under httpx/httpcore: sockets whose writes
and reads are stamped where the bytes leave and arrive."""

from infertui.core.net.backend import StampingBackend
from infertui.core.net.stream import CURRENT_SEND, SendRecord, StampedStream
from infertui.core.net.transport import StampedTransport


def start_receiver() -> None:
    """Start the receiver (process or thread) now, so the first probe does
    not wait for it to spawn."""
    import os  # noqa: PLC0415

    from infertui.core.clock import monotonic_ns  # noqa: PLC0415
    from infertui.core.net.receiver import receiver_for  # noqa: PLC0415

    kind = os.environ.get("INFERTUI_RECEIVER", "process")
    if kind in ("process", "thread"):
        receiver_for(monotonic_ns, kind)


__all__ = ["CURRENT_SEND", "SendRecord", "StampedStream", "StampedTransport", "StampingBackend",
           "start_receiver"]
