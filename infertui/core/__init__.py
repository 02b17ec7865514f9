"""The measurement core: plain asyncio, never imports textual or rich.

The CLI, the TUI and the tests all drive this package; it is where time is
measured (at the byte boundary) and where every metric is defined.
"""
