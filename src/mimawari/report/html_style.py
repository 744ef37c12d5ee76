"""The HTML report's stylesheet, inlined into the page (no external fonts or files: the report is one
self-contained file that opens the same offline, in a mail attachment or an archive years later).

Grade colours follow the terminal report (green A/B, yellow C, red D/E, grey N/A, purple unknown). On
paper browsers drop backgrounds, so every badge also carries its letter in a coloured text and border.
"""

from __future__ import annotations

CSS = """
:root {
  --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --paper: #ffffff; --panel: #f6f8fa;
  --a: #1a7f37; --a-bg: #dafbe1; --b: #2e7d32; --b-bg: #eef8ee; --c: #8a5a00; --c-bg: #fff4c2;
  --d: #c4111f; --d-bg: #ffe3e0; --e: #ffffff; --e-bg: #b3101c; --na: #59636e; --na-bg: #eef1f4;
  --unknown: #7434c9; --unknown-bg: #f5edff; --red: #c4111f;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0 auto; max-width: 68rem; padding: 1.5rem 1.5rem 3rem; color: var(--ink); background: var(--paper);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans CJK JP", "Yu Gothic", Meiryo, sans-serif;
}
h1, h2, h3, h4 { line-height: 1.25; margin: 0; }
h1 { font-size: 1.6rem; }
h2 { font-size: 1.5rem; overflow-wrap: anywhere; }
h3 { font-size: 1.1rem; margin: 1.75rem 0 .75rem; }
h4 { font-size: 1.05rem; }
code, pre { font-family: var(--mono); font-size: .875em; }
pre code { font-size: inherit; }
a { color: #0550ae; }
.muted, .meta { color: var(--muted); }
header.page { border-bottom: 2px solid var(--ink); padding-bottom: .75rem; margin-bottom: 1.5rem; }
header.page .meta { margin: .25rem 0 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.overview { margin-bottom: 1rem; overflow-x: auto; }
.overview td:last-child { min-width: 9rem; }
.overview td:first-child a { font-weight: 600; }

.badge {
  display: inline-block; min-width: 1.9em; padding: .05em .35em; border: 2px solid currentColor;
  border-radius: .4em; font-weight: 700; text-align: center; line-height: 1.3; white-space: nowrap;
}
.g-A { color: var(--a); background: var(--a-bg); }
.g-B { color: var(--b); background: var(--b-bg); }
.g-C { color: var(--c); background: var(--c-bg); }
.g-D { color: var(--d); background: var(--d-bg); }
.g-E { color: var(--e); background: var(--e-bg); border-color: var(--e-bg); }
.g-NA { color: var(--na); background: var(--na-bg); }
.g-unknown { color: var(--unknown); background: var(--unknown-bg); }

section.domain { margin-top: 2.5rem; }
section.domain > h2 { padding-bottom: .4rem; border-bottom: 1px solid var(--line); }
.rating { display: flex; flex-wrap: wrap; gap: 1.25rem; align-items: stretch; margin: 1rem 0 .5rem; }
.overall { display: flex; gap: 1rem; align-items: center; min-width: 15rem; }
.overall .badge { font-size: 3rem; min-width: 1.6em; border-width: 3px; border-radius: .25em; }
.overall .points { font-size: 2rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.overall .points small { font-size: 1rem; color: var(--muted); font-weight: 400; }
.overall .cap { color: var(--red); font-size: .9rem; margin: .15rem 0 0; max-width: 20rem; }
ul.categories {
  flex: 1 1 28rem; list-style: none; margin: 0; padding: 0; display: grid; gap: .5rem;
  grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr));
}
ul.categories li {
  display: flex; gap: .65rem; align-items: flex-start;
  border: 1px solid var(--line); border-radius: .5rem; padding: .55rem .7rem;
}
ul.categories .badge { font-size: 1.35rem; }
ul.categories .name { font-weight: 600; line-height: 1.3; }
ul.categories .value { font-variant-numeric: tabular-nums; color: var(--muted); }
ul.categories .note { font-size: .8rem; color: var(--muted); line-height: 1.35; }
ul.categories .note.capped { color: var(--red); }

ol.findings { list-style: none; margin: 0; padding: 0; }
li.finding {
  border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: .5rem;
  padding: .75rem 1rem; margin: 0 0 .9rem;
}
li.finding.alarm { border-left-color: var(--red); }
li.finding.warn { border-left-color: #d4a72c; }
li.finding.unknown { border-left-color: var(--unknown); }
.finding .head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3rem .6rem; }
.finding .rank { color: var(--muted); font-weight: 700; font-variant-numeric: tabular-nums; }
.finding .head h4 { flex: 1 1 16rem; }
.finding .head .meta { font-size: .85rem; }
.sev { font-weight: 600; }
.sev-critical { color: var(--red); text-transform: uppercase; letter-spacing: .03em; }
.sev-high { color: #9a3412; }
.finding .summary { margin: .4rem 0 .6rem; }
.finding dl { display: grid; grid-template-columns: 6.5rem minmax(0, 1fr); gap: .35rem .75rem; margin: 0; }
.finding dt { color: var(--muted); font-size: .85rem; font-weight: 600; padding-top: .1rem; }
.finding dd { margin: 0; min-width: 0; }
.finding dd p { margin: 0 0 .4rem; }
ul.evidence, ul.refs { margin: 0; padding: 0; list-style: none; }
ul.evidence li { margin: 0 0 .2rem; }
ul.evidence .source { color: var(--muted); }
ul.evidence code.value {
  white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); padding: 0 .25em; border-radius: .2em;
}
ul.refs li { display: inline; }
ul.refs li + li::before { content: " · "; color: var(--muted); }
pre.snippet {
  margin: .2rem 0 .4rem; padding: .65rem .8rem; background: var(--panel); border: 1px solid var(--line);
  border-radius: .4rem; overflow-x: auto; white-space: pre; tab-size: 4; line-height: 1.45;
}
.after { display: flex; align-items: baseline; gap: .5rem; }
.gain { color: var(--a); white-space: nowrap; }
.nothing { color: var(--a); font-weight: 600; }

details.passing { margin-top: 1.5rem; border: 1px solid var(--line); border-radius: .5rem; padding: .5rem .9rem; }
details.passing summary { cursor: pointer; font-weight: 600; color: var(--a); }
details.passing table { margin-top: .5rem; font-size: .9rem; }
details.passing td:nth-child(2) { width: 40%; }
details.passing td code { font-size: .8em; color: var(--muted); }
details.passing td.summary { color: var(--muted); }

footer.page { margin-top: 3rem; padding-top: .75rem; border-top: 1px solid var(--line); font-size: .875rem; }
footer.page p { margin: 0 0 .4rem; color: var(--muted); }

@media (max-width: 40rem) {
  body { padding: 1rem .75rem 2rem; }
  th, td { padding: .35rem .4rem; }
  .finding dl { grid-template-columns: 1fr; }
  .finding dt { padding-top: .4rem; }
  .overall .badge { font-size: 2.25rem; }
}

@media print {
  @page { margin: 14mm 12mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  a { color: inherit; }
  a[href^="http"]::after { content: " <" attr(href) ">"; color: var(--muted); font-size: .85em; overflow-wrap: anywhere; }
  section.domain + section.domain { break-before: page; }
  section.domain { margin-top: 1rem; }
  h2, h3, .finding .head, .finding .summary { break-after: avoid-page; }
  /* A finding may run over a page, but a snippet, an evidence line or a table row stays whole. */
  pre.snippet, ul.evidence li, .finding .head, .after, tr { break-inside: avoid-page; }
  .finding dt { break-after: avoid-page; }
  .badge, ul.evidence code.value, pre.snippet { background: none; }
  .g-E { color: var(--e-bg); border-color: var(--e-bg); border-width: 3px; }
  pre.snippet { white-space: pre-wrap; overflow-wrap: anywhere; overflow: visible; }
  details.passing summary { color: var(--ink); }
}
"""
