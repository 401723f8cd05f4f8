"""The status page (GET / on the admin endpoint), as an operator's browser shows it: headless
Chromium loads it before, during and after a failover of 60 registrants paced at 4/s, and the
page shows each node's state and since when, registrants registered and signaling per node, the
pacing wave's progress and the failover event with its reason and count. The page refreshes
itself. A screenshot of the page during the failover is left in the test's directory."""
import os
import shutil
import subprocess
import time
from html.parser import HTMLParser

from harness import Harness, wait_until

PHONES = 60
RATE = 4     # slow enough that the wave (15 s) outlasts Chromium's start on a busy machine


class Page(HTMLParser):
    """The parts of the page a person reads: node rows (by data-node), the pacing line, event rows."""

    def __init__(self, text):
        super().__init__()
        self.nodes, self.events, self.texts = {}, [], {}
        self._row, self._cells, self._cell, self._in = None, [], None, None
        self.refresh = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and a.get("http-equiv") == "refresh":
            self.refresh = a.get("content")
        if tag == "tr":
            self._row, self._cells = a, []
        elif tag == "td":
            self._cell = ""
        elif a.get("id") in ("summary", "pacing", "events") and tag == "p":
            self._in, self.texts[a["id"]] = a["id"], ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._cells.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if "data-node" in self._row:
                self.nodes[self._row["data-node"]] = {"state": self._row.get("data-state"), "cells": self._cells}
            elif self._row.get("class") in ("failover", "failback"):
                self.events.append(self._cells)
            self._row = None
        elif tag == "p":
            self._in = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._in:
            self.texts[self._in] += data


h = Harness(__doc__)
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
h.require(chromium is not None, "headless Chromium is installed (apt-get install chromium)")
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)],
                  extra_yaml="failover: { reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: duration } }\n"
                             f"pacing: {{ registrations_per_second: {RATE} }}\n")
profile = os.path.join(h.dir, "chromium-profile")


def browse(name, screenshot=False):
    """The page as Chromium renders it (its DOM after load), optionally with a screenshot."""
    url = f"http://127.0.0.1:{sb.admin_port}/"
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}"]
    r = subprocess.run(argv + ["--dump-dom", url], capture_output=True, text=True, timeout=60)
    h.require(r.returncode == 0 and "<table" in r.stdout, f"{name}: Chromium loads the status page", r.stderr[-2000:])
    if screenshot:
        shot = os.path.join(h.dir, f"status-page-{name}.png")
        subprocess.run(argv + ["--window-size=1200,800", f"--screenshot={shot}", url], capture_output=True, timeout=60)
        h.figure(f"screenshot: {shot}")
    return Page(r.stdout)


def cell(page, node, column):
    columns = ["node", "address", "state", "since", "reason", "probe", "registered", "signaling", "queue"]
    return page.nodes[node]["cells"][columns.index(column)]


h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
users = h.users([f"u{i}" for i in range(1, PHONES + 1)])
r = h.sipp("register.xml", sb.port, calls=PHONES, rate=300, inf=users)
h.require(r.rc == 0, f"{PHONES} phones registered via the primary", r)

page = browse("before")
h.check(page.refresh is not None and int(page.refresh) <= 5, f"the page refreshes itself (every {page.refresh} s)")
h.check(set(page.nodes) == {"primary", "secondary"} and page.nodes["primary"]["state"] == "up",
        "before: both nodes listed, the primary up", page.nodes)
h.check(cell(page, "primary", "registered") == str(PHONES) and cell(page, "primary", "signaling") == str(PHONES),
        f"before: {PHONES} registered and signaling on the primary", page.nodes["primary"])
h.check(f"{PHONES} registrants" in page.texts.get("summary", ""), "before: the summary counts the registrants",
        page.texts.get("summary"))
h.check(not page.events and "None" in page.texts.get("events", ""), "before: no failover event yet", page.events)

primary.crash()
h.require(wait_until(lambda: not next(n for n in sb.status()["nodes"] if n["name"] == "primary")["usable"], 5,
                     interval=0.05), "the primary is seen down")
# Early in the wave: a few registrants moved, the rest queued.
wait_until(lambda: sb.status()["failover"]["reregistration"]["registered"] >= 2, 5)
# Moves are gathered into events once a second (one event per wave, not one per registrant).
wait_until(lambda: "failover from 'primary' to 'secondary'" in sb.process.output(), 3)
page = browse("during", screenshot=True)
h.check(page.nodes["primary"]["state"] == "down" and "no answer to OPTIONS" in cell(page, "primary", "reason"),
        "during: the primary is shown down, with the reason", page.nodes["primary"])
h.check(" ago" in cell(page, "primary", "since") and "UTC" in cell(page, "primary", "since"),
        "during: since when, as a wall-clock time and an age", cell(page, "primary", "since"))
moved, queued = int(cell(page, "secondary", "registered")), int(cell(page, "secondary", "queue"))
h.check(0 < moved < PHONES and queued > 0,
        f"during: the wave in progress ({moved} registered on the secondary, {queued} queued for it)", page.nodes)
pacing = page.texts.get("pacing", "")
h.check(f"cap {RATE}/s per node" in pacing and "% done" in pacing and "100 % done" not in pacing,
        f"during: the pacing line shows the cap and the progress ({pacing.strip()})")
h.check(page.events and page.events[0][1] == "failover" and page.events[0][2:5] == ["primary", "secondary", "node down"],
        "during: the failover event, from primary to secondary, reason node down", page.events)

h.require(wait_until(lambda: sb.status()["bindings"]["registered_by_node"]["secondary"] == PHONES, PHONES / RATE + 10),
          "every registrant re-registered on the secondary")
time.sleep(1.2)  # the last second's moves are logged (and listed) at the next second's tick
page = browse("after")
h.check(cell(page, "secondary", "registered") == str(PHONES) and cell(page, "secondary", "signaling") == str(PHONES)
        and cell(page, "secondary", "queue") == "0", f"after: {PHONES} registered and signaling on the secondary",
        page.nodes["secondary"])
h.check("100 % done" in page.texts.get("pacing", ""), "after: the wave is done", page.texts.get("pacing"))
failovers = [e for e in page.events if e[1] == "failover"]
h.check(len(failovers) == 1 and failovers[0][5] == str(PHONES) and int(failovers[0][6].split()[0]) >= PHONES // RATE - 2,
        f"after: the paced wave is one failover event of {PHONES} registrants, with how long it lasted", page.events)
h.finish()
