#!/usr/bin/env python3
"""Derives testdata/urls-golden.tsv from testdata/zservertracelog-sample.log
by tracereport's rules (zc.zservertracelog), written out here by hand:

- A request is opened by its B record ("B rid date time METHOD URL"); the
  URL is the rest of the line after the method. Records of a RID with no
  open request are ignored (tracereport only knows requests it saw begin).
- Its app time is A's time minus C's time, in seconds.
- It is counted for its URL when its E arrives (tracereport counts at E).
- Requests still open at an S or X record, or at the end of the file, are
  "hangs" of their URL.

Then graphmetrics' pattern rules apply to the URL (query dropped, number
segments {n}, hex ids and UUIDs {id}); the sample's URLs have none, so each
pattern is its URL. Errors (an A status of 5xx or "Error:") are graphmetrics'
column; tracereport has none.

Where graphmetrics differs, by design (store/urlstore/README.md):
- it counts a request at its A, not its E (every A of the sample has its E);
- an A whose B it never saw still counts, under the pattern "?";
- a request open at the end of a log is not a hang (nothing wiped it; a
  live instance's next record may still finish it): column gm_hangs.

Output: one line per URL: url, count, errors, app µs sum, app µs max,
tracereport's median in µs (mean of the middle two for an even count),
tracereport hangs, graphmetrics hangs, then every app time in µs, sorted.
Run: python3 testdata/urls-golden.py > testdata/urls-golden.tsv
"""
import datetime
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def micros(date, time):
    d = datetime.datetime.strptime(date + " " + time, "%Y-%m-%d %H:%M:%S.%f") - datetime.datetime(1970, 1, 1)
    return (d.days * 86400 + d.seconds) * 10**6 + d.microseconds


def pattern(url):
    url = re.split(r"[?#]", url, maxsplit=1)[0]
    segs = []
    for s in url.split("/"):
        if re.fullmatch(r"[0-9]+", s):
            s = "{n}"
        elif re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", s) or \
                (len(s) >= 8 and re.fullmatch(r"[0-9a-fA-F]+", s) and re.search(r"[0-9]", s)):
            s = "{id}"
        segs.append(s)
    return "/".join(segs)


def main():
    open_reqs = {}   # rid -> dict(url, c, a, err)
    stats = {}       # url -> dict(times, errors, hangs, gm_hangs)
    unknown = {}     # rid -> C time, for A without B ("?")

    def row(url):
        return stats.setdefault(url, {"times": [], "errors": 0, "hangs": 0, "gm_hangs": 0})

    with open(os.path.join(HERE, "zservertracelog-sample.log")) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 4)
            code, rid, date, time = parts[:4]
            msg = parts[4] if len(parts) > 4 else ""
            t = micros(date, time)
            if code == "B":
                method, url = msg.split(" ", 1)
                open_reqs[rid] = {"url": pattern(url.strip()), "c": None, "a": None, "err": False}
                row(open_reqs[rid]["url"])
            elif code == "C":
                if rid in open_reqs:
                    open_reqs[rid]["c"] = t
                else:
                    unknown[rid] = t
            elif code == "A":
                err = msg[:1] == "5" or msg.startswith("Error:")
                if rid in open_reqs:
                    open_reqs[rid]["a"], open_reqs[rid]["err"] = t, err
                elif rid in unknown:
                    r = row("?")
                    r["times"].append(t - unknown.pop(rid))
                    r["errors"] += err
            elif code == "E":
                if rid in open_reqs:
                    q = open_reqs.pop(rid)
                    r = row(q["url"])
                    r["times"].append(q["a"] - q["c"])
                    r["errors"] += q["err"]
            elif code in "SX":
                for q in open_reqs.values():
                    row(q["url"])["hangs"] += 1
                    row(q["url"])["gm_hangs"] += q["a"] is None
                open_reqs = {}
    for q in open_reqs.values():  # end of file: tracereport's hangs only
        row(q["url"])["hangs"] += 1
    print("# url\tcount\terrors\tapp_us_sum\tapp_us_max\ttracereport_median_us\ttracereport_hangs\tgm_hangs\tapp_us...")
    for url in sorted(stats):
        r = stats[url]
        ts = sorted(r["times"])
        n = len(ts)
        med = 0 if n == 0 else (ts[(n + 1) // 2 - 1] if n % 2 else (ts[n // 2] + ts[n // 2 - 1]) / 2)
        print("\t".join(str(x) for x in [url, n, r["errors"], sum(ts), max(ts or [0]), med, r["hangs"], r["gm_hangs"]] + ts))


if __name__ == "__main__":
    sys.exit(main())
