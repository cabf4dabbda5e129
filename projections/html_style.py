"""The style and security policy of the HTML reports: written once in the page's head.

Why one style sheet and no style attribute: rows carry only short class names, so a page of 100
sessions stays small, and the CSP can forbid everything but this inline style. The rules that
matter for reading at a glance: tables fill the window and never push past it (text wraps only
between words and at the `<wbr>` after a slash, never inside a word: `.w` keeps a token with a
hyphen or a space on one line, `.long` shows a name too long for a column cut short), an id shows
on one line and selects whole on a click, long text folds to three lines (`.clip`, opened: a
long name inside wraps anywhere, to be read whole), and `#oldest:checked` turns every list marked
`timed` from newest first to oldest first: flex lists by their direction, tables by flipping the
body and then each row back (so columns keep their widths).
"""

from __future__ import annotations

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""Nothing is loaded and no script runs; the inline style applies.

`img-src data:` lets the empty `data:,` favicon through: without it the browser would ask the
server (or file system) for /favicon.ico, and with `default-src 'none'` alone Chromium logs the
blocked favicon as a console error.
"""

STYLE = """
:root{--intent:#1d4ed8;--outcome:#15803d;--fact:#6b7280;--fail:#b91c1c;--line:#d1d5db;
--mono:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
body{font:14px/1.45 system-ui,sans-serif;margin:1rem;color:#111827}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:0 0 .2rem}
.meta,.heading{color:#4b5563;margin:.1rem 0}.heading b,.meta b{font-weight:600;color:#111827}
table{border-collapse:separate;border-spacing:0;width:100%;margin:1rem 0 2rem}
th,td{border-bottom:1px solid var(--line);padding:.2rem .4rem;text-align:left;
vertical-align:top}
td{font-size:13px}th{background:#f3f4f6;font-size:12px;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.time,time{white-space:nowrap;font-variant-numeric:tabular-nums}
.w{white-space:nowrap}
.id,.long{white-space:nowrap;display:inline-block;max-width:100%;overflow:hidden;
text-overflow:ellipsis;vertical-align:top;user-select:all}.id{font:13px var(--mono)}
#rows .id{max-width:9ch}.long{max-width:32ch}
.clip{max-width:32rem}.clip>summary{display:-webkit-box;-webkit-box-orient:vertical;
-webkit-line-clamp:3;overflow:hidden;cursor:pointer}
.clip[open]>summary{display:block}.clip[open] .long{white-space:normal;overflow-wrap:anywhere}
.error,tr.failed{color:var(--fail)}.error{font-weight:600}
.transfer-confirmed,.outcome-done{color:var(--outcome)}
.transfer-requested,.transfer-emitted,.outcome-queued{color:#b45309}
.transfer-stalled,.outcome-failed{color:var(--fail);font-weight:600}
.order{margin:.4rem 0}.order label{cursor:pointer}
ol.timed,div.timed{display:flex;flex-direction:column}
body:has(#oldest:checked) :is(ol,div).timed{flex-direction:column-reverse}
body:has(#oldest:checked) table.timed>tbody,
body:has(#oldest:checked) table.timed>tbody>tr{transform:scaleY(-1)}
section.timeline{margin:0 0 1.5rem}
ol.files{list-style:none;margin:0;padding:0}
.timeline details>summary{cursor:pointer;white-space:nowrap;overflow:hidden;
text-overflow:ellipsis}
table.events{width:auto;margin:.15rem 0 .5rem 1rem;border-left:2px solid var(--line)}
.events td{border:0;padding:0 .4rem}.events td:first-child{white-space:nowrap}
.events td:nth-child(2){font-weight:600}
.events td:last-child{color:#6b7280;font-size:.85rem;white-space:nowrap}
.intent{--c:var(--intent)}.outcome{--c:var(--outcome)}.fact{--c:var(--fact)}
.failed{--c:var(--fail)}
summary>b{display:inline-block;min-width:5rem;text-align:center;border-radius:.6rem;
padding:0 .4rem;font-size:.75rem;font-weight:600;color:#fff;background:var(--c)}
.events td:first-child::before{content:"";display:inline-block;width:.55rem;height:.55rem;
border-radius:50%;margin-right:.4rem;background:var(--c)}
summary>code{font:13px var(--mono)}summary>small{color:#6b7280;font-size:.85rem}
""".strip()
