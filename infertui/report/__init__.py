"""Reports: one self-contained file a person can attach to a decision.

`infertui report SESSION|CAMPAIGN --format html|md|json` (and ctrl+s in the
app). The numbers come from one place: the session document
(`infertui.session/1`) or the campaign document (`infertui.campaign/1`),
built by the core exactly as `show --json` and `campaign show --json` print
them. `tables` picks cells out of the document (each cell keeps the value
and where in the document it came from), `charts` the series the charts
draw; `html` and `markdown` only format them. Every string from a server, a
file or a user is escaped by the renderer that writes it.
"""
