"""The command line: --check-config accepts the example and rejects bad files with the key, the
line and what is allowed; --version and --help answer; a missing file is a clear error;
--healthcheck (the image's HEALTHCHECK) tells a ready Switchback from one that is not."""
import os
import subprocess
import tempfile

from harness import HERE, Harness, free_port, wait_until

h = Harness(__doc__)
example = os.path.join(HERE, "..", "..", "conf", "switchback.yaml")


def run(*args):
    p = subprocess.run([h.binary, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
    return p.returncode, p.stdout.decode()


rc, out = run("--check-config", example)
h.check(rc == 0 and "configuration OK" in out, "the example configuration is valid", out)

bad = os.path.join(h.dir, "bad.yaml")
MINIMAL = 'listen: ["udp:127.0.0.1:5060"]\nupstreams:\n  - { name: primary, uri: "sip:127.0.0.1:5070" }\n'


def check_config(text):
    """--check-config of a file holding `text`."""
    with open(bad, "w") as f:
        f.write(text)
    return run("--check-config", bad)


rc, out = check_config(MINIMAL + "timers: { t1_ms: 5 }\n")
h.check(rc == 2 and "bad.yaml:4: timers.t1_ms" in out and "allowed: 10-10000" in out,
        "an out-of-range timer names the file, line, key and range", out)
rc, out = check_config('listen: ["sctp:127.0.0.1:5060"]\nupstreams: []\n')
h.check(rc == 2 and "listen[0]" in out and "allowed: udp, tcp" in out, "a bad transport is named with what is allowed", out)
rc, out = check_config(MINIMAL + "log: { level: loud }\n")
h.check(rc == 2 and "bad.yaml:4: log.level: 'loud' is not allowed" in out and "warn (or warning)" in out,
        "an unknown log level names what is allowed, administrators' spellings included", out)
rc, out = check_config(MINIMAL + "log: { level: WARNING }\n")
h.check(rc == 0, "log level WARNING is taken", out)

rc, out = run("--check-config", os.path.join(h.dir, "missing.yaml"))
h.check(rc == 2 and "missing.yaml" in out and "cannot read" in out, "a missing file is a clear error", out)

rc, out = run("--version")
h.check(rc == 0 and out.startswith("switchback "), "--version", out)
rc, out = run("--help")
h.check(rc == 0 and "--check-config" in out, "--help", out)

# --healthcheck: the container's HEALTHCHECK, with no shell or curl in the image.
k = h.kamailio("primary")
sb = h.switchback([("primary", k.uri)])
rc, out = run("--healthcheck", f"127.0.0.1:{sb.admin_port}")
h.check(rc == 0, "--healthcheck exits 0 against a ready Switchback", out)
closed = free_port()
rc, out = run("--healthcheck", f"127.0.0.1:{closed}")
h.check(rc == 1 and "refused" in out.lower(), "--healthcheck exits 1, saying why, when nothing answers", out)
k.crash()
h.check(wait_until(lambda: run("--healthcheck", f"127.0.0.1:{sb.admin_port}")[0] == 1, 5),
        "--healthcheck exits 1 when Switchback is not ready (its only upstream is down)")
rc, out = run("--healthcheck", "nonsense")
h.check(rc == 1 and "HOST:PORT" in out, "--healthcheck refuses a malformed address", out)

rc, out = run("--bogus")
h.check(rc == 2 and "unknown" in out, "an unknown option is refused", out)
h.finish()
