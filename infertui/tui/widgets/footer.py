"""The footer every screen shows: Textual's, minus a leak.

Textual's Footer (8.x) rebuilds its keys whenever the bindings change, which
is on every focus change. Each key it builds is bound to the footer's
`compact` setting, and that binding is only dropped when `compact` changes,
which in this app it never does: every old key stays alive. Over an app
session that is a dozen widgets per focus change or run. After each rebuild,
the bindings of keys no longer on screen are dropped here.
"""

from __future__ import annotations

from textual.widgets import Footer


class AppFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self._drop_stale_bindings()

    def _drop_stale_bindings(self) -> None:
        # Where Textual keeps a reactive's watchers: {name: [(node, callback)]}.
        watchers = getattr(self, "__watchers", None)
        if not isinstance(watchers, dict):
            return
        for bound in watchers.values():
            if isinstance(bound, list):
                bound[:] = [(node, callback) for node, callback in bound
                            if getattr(node, "is_attached", True) and not getattr(node, "_closing", False)]
