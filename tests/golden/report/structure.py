#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The structure of a vigie report, for tests/golden-report.sh.

Checks what must hold of every report (exit 1 naming the first problem):
valid UTF-8, balanced elements from a fixed list, unique ids, internal
links that resolve, no script, no event handler, no URL of any kind, no
control character in text, every picture with a viewBox. Then prints
what a person reads: the sections in order, the summary, the tables
row by row, each principal's title, notes, charts (bars, alerts,
episodes, whether the normal band and threshold are drawn) and
contributors, the heat maps (rows, cells). Coordinates and style are left
out: the golden files follow what is shown, not how it is drawn.

Usage: structure.py REPORT.html
"""
import re
import sys
from html.parser import HTMLParser

ELEMENTS = {
    "html", "head", "meta", "title", "style", "body", "header", "nav", "a", "section",
    "h1", "h2", "h3", "p", "dl", "dt", "dd", "span", "code", "table", "tr", "th", "td",
    "div", "article", "i", "svg", "line", "text", "path", "rect", "g", "circle", "footer",
}
VOID = {"meta", "line", "path", "rect", "circle"}  # rect/circle may also hold a title
SVG_SELF = {"line", "path", "rect", "circle"}


class Fail(Exception):
    pass


class Report(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.ids = set()
        self.hrefs = []
        self.out = []
        self.text = None       # text being gathered, or None
        self.cells = None      # the current table row's cells
        self.chart = None      # counters of the current chart
        self.heat = None
        self.in_style = False

    # ---- checks ----
    def check_attrs(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                raise Fail(f"event handler {name} on <{tag}>")
            if name in ("src", "srcset", "action", "formaction", "xlink:href", "background"):
                raise Fail(f"attribute {name} on <{tag}>")
            if name == "href":
                if not value.startswith("#"):
                    raise Fail(f"href not internal: {value!r}")
                self.hrefs.append(value[1:])
            if name == "id":
                if value in self.ids:
                    raise Fail(f"duplicate id {value!r}")
                if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", value):
                    raise Fail(f"id with odd characters: {value!r}")
                self.ids.add(value)
            if name == "style" and re.search(r"url\(|expression|@import", value, re.I):
                raise Fail(f"style fetching something: {value!r}")

    def handle_starttag(self, tag, attrs):
        if tag not in ELEMENTS:
            raise Fail(f"element <{tag}> not expected")
        self.check_attrs(tag, attrs)
        a = dict(attrs)
        if tag == "svg" and "viewbox" not in a:  # names come lowercased
            raise Fail("svg without viewBox")
        if tag not in VOID:
            self.stack.append(tag)
        elif tag in SVG_SELF:
            self.stack.append(tag)  # closed by its end tag or at once (startendtag)
        self.on_start(tag, a)

    def handle_startendtag(self, tag, attrs):
        if tag not in ELEMENTS:
            raise Fail(f"element <{tag}> not expected")
        self.check_attrs(tag, attrs)
        self.on_start(tag, dict(attrs))
        self.on_end(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            raise Fail(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
        self.stack.pop()
        self.on_end(tag)

    def handle_data(self, data):
        if self.in_style:
            if re.search(r"url\(|@import|@font-face", data):
                raise Fail("style fetching something")
            return
        if re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", data):
            raise Fail(f"control character in text: {data!r}")
        if re.search(r"[a-z][a-z0-9+.-]*://", data, re.I):
            raise Fail(f"URL in text: {data!r}")
        if self.text is not None:
            self.text.append(data)

    # ---- extract ----
    def start_text(self):
        self.text = []

    def end_text(self):
        t = " ".join(" ".join(self.text or []).split())
        self.text = None
        return t

    def on_start(self, tag, a):
        cls = a.get("class", "")
        if tag == "style":
            self.in_style = True
        elif tag in ("section",):
            self.out.append(f"section {a.get('id')}")
        elif tag in ("h1", "h2", "h3", "title", "dt", "dd", "p", "th", "td", "footer") and \
                self.chart is None and self.heat is None:
            if self.text is None:
                self.start_text()
                self.text_tag = tag
        elif tag == "tr":
            self.cells = []
        elif tag == "article":
            self.out.append(f"  article {a.get('id')}")
        elif tag == "svg":
            if "chart" in cls:
                self.chart = {"id": a.get("id"), "bars": 0, "alerts": 0, "episodes": 0,
                              "band": False, "threshold": False, "floor": False}
            elif "heatmap" in cls:
                self.heat = {"id": a.get("id"), "rows": 0, "cells": 0}
            elif "timeline" in cls:
                self.chart = {"id": a.get("id"), "timeline": True, "rows": 0, "dots": 0,
                              "episodes": 0}
        elif self.chart is not None:
            if self.chart.get("timeline"):
                if tag == "a":
                    self.chart["rows"] += 1
                elif tag == "circle":
                    self.chart["dots"] += 1
                elif tag == "rect" and "tep" in cls:
                    self.chart["episodes"] += 1
            elif tag == "path" and cls in ("obs", "obsl"):
                self.chart["bars"] += len(re.findall(r"M", a.get("d", "")))
            elif tag == "path" and cls == "band":
                self.chart["band"] = "M" in a.get("d", "")
            elif tag == "path" and cls == "thr":
                self.chart["threshold"] = "M" in a.get("d", "")
            elif tag == "line" and cls == "floor":
                self.chart["floor"] = True
            elif tag == "g" and cls == "al":
                self.chart["alerts"] += 1
            elif tag == "rect" and cls == "ep":
                self.chart["episodes"] += 1
        elif self.heat is not None:
            if tag == "rect" and cls == "hz":
                self.heat["rows"] += 1
            elif tag == "rect" and "fill" in a:
                self.heat["cells"] += 1

    def on_end(self, tag):
        if tag == "style":
            self.in_style = False
        if self.text is not None and tag == getattr(self, "text_tag", None):
            t = self.end_text()
            if self.cells is not None and tag in ("td", "th"):
                self.cells.append(t)
            elif tag in ("h1", "h2", "h3", "title"):
                self.out.append(f"  {tag}: {t}")
            elif tag in ("dt",):
                self.dt = t
            elif tag == "dd":
                self.out.append(f"  {self.dt}: {t}")
            elif tag in ("p", "footer"):
                self.out.append(f"  {tag}: {t}")
        elif tag == "tr" and self.cells is not None:
            self.out.append("    | " + " | ".join(self.cells))
            self.cells = None
        elif tag == "svg" and self.chart is not None:
            c = self.chart
            if c.get("timeline"):
                self.out.append(f"  timeline {c['id']}: {c['rows']} rows, {c['dots']} alerts, "
                                f"{c['episodes']} episodes")
            else:
                self.out.append(f"    chart {c['id']}: {c['bars']} bars, {c['alerts']} alerts, "
                                f"{c['episodes']} episodes, band {c['band']}, threshold "
                                f"{c['threshold']}, floor {c['floor']}")
            self.chart = None
        elif tag == "svg" and self.heat is not None:
            h = self.heat
            self.out.append(f"  heatmap {h['id']}: {h['rows']} rows, {h['cells']} cells")
            self.heat = None


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    raw = open(sys.argv[1], "rb").read()
    try:
        html = raw.decode("utf-8")
        if not html.startswith("<!DOCTYPE html>\n"):
            raise Fail("no <!DOCTYPE html> first")
        if re.search(r"<script|javascript:|://|<iframe|<object|<embed|<link", html, re.I):
            raise Fail("script, link or URL in the document")
        p = Report()
        p.feed(html)
        p.close()
        if p.stack:
            raise Fail(f"unclosed elements: {p.stack}")
        for h in p.hrefs:
            if h not in p.ids:
                raise Fail(f"link to #{h}: no such id")
    except UnicodeDecodeError as e:
        print(f"structure: not UTF-8: {e}", file=sys.stderr)
        return 1
    except Fail as e:
        print(f"structure: {e}", file=sys.stderr)
        return 1
    print("\n".join(p.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
