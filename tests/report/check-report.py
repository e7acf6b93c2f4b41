#!/usr/bin/env python3
"""Checks of a memprint report page, for tests/cli/report_*.sh.

check-report.py refs PAGE            nothing outside the page is referenced
check-report.py figures PAGE ID=N..  each figure exists and draws N series
check-report.py golden PAGE TIMELINE.json
                                     the plotted numbers of the first series
                                     equal memprint timeline --json
check-report.py aggregate PAGE TIMELINE.json
                                     a series of more than 1000 sets is drawn
                                     with at most 1000 means of its sets
check-report.py analyze PAGE INDEX ANALYZE.json
                                     the summary of input INDEX (from 1) equals
                                     memprint analyze --json of a one-set file
check-report.py delta PAGE KEY SET BASE EXPECTED
                                     the plotted KEY of SET minus that of BASE
check-report.py axis PAGE FIGURE TIMELINE.json
                                     the largest x tic of the lifetimes FIGURE is
                                     the last threshold of memprint timeline --json
check-report.py unknown PAGE KEY..   the first summary shows KEY as "unknown"
check-report.py null-points PAGE INDEX KEY..
                                     every point of input INDEX has KEY null
check-report.py cache PAGE KEY=N..   the last set's page cache of the first input
check-report.py colours PNG MIN      the screenshot has at least MIN colours
Exits 0 when the check holds, 1 with the reason on stderr otherwise.
"""
import base64
import json
import re
import struct
import sys
import zlib


def fail(reason):
    print(reason, file=sys.stderr)
    sys.exit(1)


def page(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def check_refs(html):
    # Every src= or href= is a data: URI or a #fragment; no URL anywhere.
    for match in re.finditer(r'(?:src|href)\s*=\s*["\']?([^"\'\s>]*)', html, re.I):
        target = match.group(1)
        if not (target.startswith("data:") or target.startswith("#")):
            fail("reference to %r" % target[:80])
    without_data = re.sub(r'data:[^"\'\s>]*', "data:", html)
    for pattern in ("http:", "https:", "//", "url(", "@import"):
        if pattern in without_data:
            at = without_data.index(pattern)
            fail("%r in the page: ...%s..." % (pattern, without_data[at - 40:at + 40]))


def figure_series(html):
    # The gnuplot SVG of each figure: one <g id="gnuplot_plot_N"> per series.
    found = {}
    for match in re.finditer(r'<figure id="([^"]+)" data-series="(\d+)">\s*<img[^>]*'
                             r'src="data:image/svg\+xml;base64,([^"]+)"', html):
        svg = base64.b64decode(match.group(3)).decode("utf-8")
        plots = len(set(re.findall(r'<g id="gnuplot_plot_(\d+)"', svg)))
        if plots != int(match.group(2)):
            fail("%s: data-series %s but %d plots" % (match.group(1), match.group(2), plots))
        found[match.group(1)] = plots
    return found


def check_figures(html, expected):
    found = figure_series(html)
    for item in expected:
        name, count = item.split("=")
        if name not in found:
            fail("figure %s missing (have %s)" % (name, sorted(found)))
        if found[name] != int(count):
            fail("figure %s draws %d series, expected %s" % (name, found[name], count))


def data_block(html):
    match = re.search(r'<script type="application/json" id="memprint-data">(.*?)</script>',
                      html, re.S)
    if not match:
        fail("no data block")
    return json.loads(match.group(1))


def check_golden(html, timeline_path):
    with open(timeline_path) as f:
        timeline = json.load(f)
    data = [i for i in data_block(html)["inputs"] if i["type"] == "snapshot"][0]
    if data["set_count"] != timeline["set_count"] or data["sets_per_point"] != 1:
        fail("set count %d, timeline has %d" % (data["set_count"], timeline["set_count"]))
    if len(data["points"]) != len(timeline["sets"]):
        fail("%d points for %d sets" % (len(data["points"]), len(timeline["sets"])))
    compared = 0
    for point, row in zip(data["points"], timeline["sets"]):
        for key, value in point.items():
            if key == "time":
                same = abs(value - row["time"]) < 0.0015
            elif key == "page_cache":
                # The drawn page-cache numbers, a part of those timeline prints.
                theirs = row[key] or {}
                same = all(theirs.get(k) == v for k, v in value.items())
            else:
                same = value == row[key]
            if not same:
                fail("set %s: %s is %s, timeline says %s" % (row["set"], key, value, row[key]))
            compared += 1
    for kind in ("content", "merge"):
        theirs = timeline["lifetimes"][kind]["longer_than"]
        for mine, row in zip(data["lifetimes"][kind], theirs):
            for key in ("seconds", "pages_share", "runs_share"):
                # Without a complete run a share is unknown: null in both.
                if mine[key] is None or row[key] is None:
                    if mine[key] is not row[key]:
                        fail("%s lifetime %ss: %s %s, timeline %s" %
                             (kind, row["seconds"], key, mine[key], row[key]))
                elif abs(mine[key] - row[key]) > 1e-9:
                    fail("%s lifetime %ss: %s %s, timeline %s" %
                         (kind, row["seconds"], key, mine[key], row[key]))
                compared += 1
    if compared < 20:
        fail("only %d values compared" % compared)


def check_aggregate(html, timeline_path):
    with open(timeline_path) as f:
        sets = json.load(f)["sets"]
    data = [i for i in data_block(html)["inputs"] if i["type"] == "snapshot"][0]
    per, points = data["sets_per_point"], data["points"]
    if len(sets) <= 1000 or per != -(-len(sets) // 1000):
        fail("%d sets drawn with %d sets a point" % (len(sets), per))
    if len(points) != -(-len(sets) // per) or len(points) > 1000:
        fail("%d points for %d sets" % (len(points), len(sets)))
    for p, point in enumerate(points):
        bucket = sets[p * per:(p + 1) * per]
        for key, value in point.items():
            if key == "set":
                continue
            mean = sum(row[key] for row in bucket) / len(bucket)
            if abs(value - mean) > (0.0015 if key == "time" else 1e-6 * max(1, mean)):
                fail("point %d: %s is %s, the mean of its sets is %s" % (p, key, value, mean))


def check_analyze(html, index, analyze_path):
    with open(analyze_path) as f:
        analyze = json.load(f)
    mine = data_block(html)["inputs"][index - 1]["last_set"]
    for key, value in mine.items():
        theirs = analyze
        for part in key.split("."):
            theirs = theirs[part]
        if value != theirs:
            fail("%s is %s, analyze says %s" % (key, value, theirs))
    if len(mine) < 18:
        fail("only %d keys in the summary" % len(mine))


def figure_svg(html, name):
    match = re.search(r'<figure id="%s" data-series="\d+">\s*<img[^>]*'
                      r'src="data:image/svg\+xml;base64,([^"]+)"' % re.escape(name), html)
    if not match:
        fail("figure %s missing" % name)
    return base64.b64decode(match.group(1)).decode("utf-8")


def check_axis(html, name, timeline_path):
    # gnuplot's SVG draws each x tic as a short path, then its label centred under it.
    svg = figure_svg(html, name)
    tics = [float(t) for t in re.findall(
        r"<path stroke='black'  d='M[\d.]+,[\d.]+ L[\d.]+,[\d.]+ M[^']*'/>\s*"
        r'<g transform="translate\([^)]*\)"[^>]*text-anchor="middle">\s*'
        r'<text>\s*([\d.]+)</text>', svg)]
    with open(timeline_path) as f:
        thresholds = [row["seconds"] for row in
                      json.load(f)["lifetimes"]["content"]["longer_than"]]
    if not tics or max(tics) != max(thresholds):
        fail("x tics %s, timeline's thresholds %s" % (tics, thresholds))


def check_unknown(html, keys):
    for key in keys:
        match = re.search(r'<tr><td>[^<]*</td><td><code>%s</code></td>(.*?)</tr>' % key, html)
        if not match:
            fail("no summary row %s" % key)
        cells = re.findall(r'<td class="n">([^<]*)</td>', match.group(1))
        if cells != ["unknown"] * 3:
            fail("%s shows %s" % (key, cells))


def check_null_points(html, index, keys):
    points = data_block(html)["inputs"][index - 1]["points"]
    if not points:
        fail("no points")
    for p, point in enumerate(points):
        for key in keys:
            if point[key] is not None:
                fail("point %d: %s is %s, not null" % (p, key, point[key]))


def check_cache(html, expected):
    mine = data_block(html)["inputs"][0].get("last_set_page_cache")
    if mine is None:
        fail("no last_set_page_cache")
    for item in expected:
        key, value = item.split("=")
        if mine[key] != int(value):
            fail("%s is %s, expected %s" % (key, mine[key], value))
        table = html[html.find('<table class="page-cache">'):]
        row = re.search(r'<td><code>%s</code></td><td class="n">(\d+)</td>' % key, table)
        if not row or int(row.group(1)) != int(value):
            fail("the table shows %s as %s, expected %s" % (key, row and row.group(1), value))


def check_delta(html, key, at, base, expected):
    points = [i for i in data_block(html)["inputs"] if i["type"] == "snapshot"][0]["points"]
    delta = points[at][key] - points[base][key]
    if delta != expected:
        fail("%s of set %d minus set %d is %s, expected %s" % (key, at, base, delta, expected))


def png_colours(path):
    # Decode the PNG (8-bit RGB or RGBA, as Chromium writes it) and count colours.
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s: not a PNG" % path)
    pos, idat, header = 8, b"", None
    while pos < len(raw):
        length, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        body = raw[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = header[:4]
    if depth != 8 or colour not in (2, 6):
        fail("%s: PNG colour type %d depth %d not handled" % (path, colour, depth))
    bpp = 3 if colour == 2 else 4
    data, stride = zlib.decompress(idat), width * bpp
    previous, colours = bytearray(stride), set()
    for y in range(height):
        kind, line = data[y * (stride + 1)], bytearray(data[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        if y % 4 == 0:
            colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp * 2))
        previous = line
    return len(colours)


def main():
    what, path = sys.argv[1], sys.argv[2]
    if what == "refs":
        check_refs(page(path))
    elif what == "figures":
        check_figures(page(path), sys.argv[3:])
    elif what == "golden":
        check_golden(page(path), sys.argv[3])
    elif what == "aggregate":
        check_aggregate(page(path), sys.argv[3])
    elif what == "analyze":
        check_analyze(page(path), int(sys.argv[3]), sys.argv[4])
    elif what == "delta":
        check_delta(page(path), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                    int(sys.argv[6]))
    elif what == "axis":
        check_axis(page(path), sys.argv[3], sys.argv[4])
    elif what == "unknown":
        check_unknown(page(path), sys.argv[3:])
    elif what == "null-points":
        check_null_points(page(path), int(sys.argv[3]), sys.argv[4:])
    elif what == "cache":
        check_cache(page(path), sys.argv[3:])
    elif what == "colours":
        count = png_colours(path)
        if count < int(sys.argv[3]):
            fail("%s has %d colours, expected at least %s" % (path, count, sys.argv[3]))
    else:
        fail("unknown check %s" % what)


main()
