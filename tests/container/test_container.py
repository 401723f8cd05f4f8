"""The Docker image, through a running container: small (from scratch: the binary and the
libraries it loads, no shell), non-root, validates a config with --check-config, runs with a
read-only root file system and its store on a volume, serves a SIPp phone registering through
it to a Kamailio registrar, reports healthy through its HEALTHCHECK (the binary's own
--healthcheck), exits 0 on SIGTERM, and starts again with its bindings from the volume.

Uses the images the fixture build_images.py built; skipped (exit 77) with the reason only where
no podman is to be had (see podman.py)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Harness, free_port, http_get, wait_until  # noqa: E402
from podman import IMAGE, podman_or_skip, run  # noqa: E402

MAX_IMAGE_MB = 40    # measured 2026-12: 17 MB; the previous Debian-based image was 217 MB

podman = podman_or_skip()
h = Harness(__doc__)
name = f"switchback-test-{os.getpid()}"
volume = f"switchback-test-{os.getpid()}"

inspect = json.loads(run(podman, "image", "inspect", IMAGE).stdout or "[{}]")[0]
h.require("Size" in inspect, f"the fixture built {IMAGE}")
size_mb = inspect["Size"] / 1e6
h.figure(f"image {IMAGE}: {size_mb:.1f} MB")
h.check(size_mb <= MAX_IMAGE_MB, f"the image is small ({size_mb:.1f} MB <= {MAX_IMAGE_MB} MB)")
cfg = inspect.get("Config", {})
h.check(cfg.get("User") == "switchback", "it runs as the non-root user 'switchback'", cfg.get("User"))
healthcheck = inspect.get("Healthcheck") or cfg.get("Healthcheck") or {}
h.check("--healthcheck" in healthcheck.get("Test", []), "its HEALTHCHECK is the binary's --healthcheck", healthcheck)
r = run(podman, "run", "--rm", "--entrypoint", "/bin/sh", IMAGE, "-c", "true")
h.check(r.returncode != 0, "it has no shell (nothing but Switchback to run in it)", r.stdout + r.stderr)

try:
    primary = h.kamailio("primary")
    port, admin = free_port(), free_port()
    config = os.path.join(h.dir, "switchback.yaml")
    with open(config, "w") as f:
        f.write(f'listen: ["udp:127.0.0.1:{port}", "tcp:127.0.0.1:{port}"]\n'
                f'upstreams: [{{ name: primary, uri: "{primary.uri}" }}]\n'
                f'persistence: {{ path: /var/lib/switchback/bindings.db, flush_interval_ms: 100 }}\n'
                f'admin: {{ listen: "127.0.0.1:{admin}" }}\n')
    os.chmod(config, 0o644)
    os.chmod(h.dir, 0o755)
    mount = f"{config}:/etc/switchback/switchback.yaml:ro"
    r = run(podman, "run", "--rm", "--network=host", "-v", mount, IMAGE, "--check-config",
            "/etc/switchback/switchback.yaml")
    h.check(r.returncode == 0 and "configuration OK" in r.stdout, "--check-config in the container validates the config",
            r.stdout + r.stderr)
    r = run(podman, "run", "--rm", "--network=host", IMAGE, "--check-config", "/etc/hostname")
    h.check(r.returncode == 2 and "invalid configuration" in r.stderr, "a bad config is refused with exit 2",
            r.stdout + r.stderr)

    r = run(podman, "run", "-d", "--name", name, "--network=host", "--read-only", "-e",
            f"SWITCHBACK_ADMIN=127.0.0.1:{admin}", "-v", mount, "-v", f"{volume}:/var/lib/switchback", IMAGE)
    h.require(r.returncode == 0, "the container starts with a read-only root file system", r.stderr)

    def ready():
        try:
            return http_get(f"127.0.0.1:{admin}", "/healthz")[0] == 200
        except OSError:
            return False
    h.require(wait_until(ready, 20), "its admin endpoint answers", run(podman, "logs", name).stdout[-2000:])
    r = h.sipp("register.xml", port, inf=h.users(["alice"], "alice"))
    h.check(r.rc == 0, "a SIPp phone registers through the container to the registrar", r)
    status = json.loads(http_get(f"127.0.0.1:{admin}", "/status")[1])
    h.check(status["bindings"]["registrants"] == 1, "the container's status shows the binding", status["bindings"])
    h.check(wait_until(lambda: json.loads(http_get(f"127.0.0.1:{admin}", "/status")[1])["process"]["store"]
                       ["rows_written"] >= 1, 5),
            "the binding is written to the store on the volume (the root file system is read-only)")
    r = run(podman, "healthcheck", "run", name)
    h.check(r.returncode == 0, "the HEALTHCHECK reports healthy", r.stdout + r.stderr)
    r = run(podman, "stop", "-t", "15", name)
    code = run(podman, "inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
    logs = run(podman, "logs", name)
    h.check(code == "0", f"SIGTERM (podman stop) ends it with exit 0 (exit {code})", (logs.stdout + logs.stderr)[-1500:])
    h.check("read-only" not in (logs.stdout + logs.stderr).lower(), "nothing complained of a read-only file system",
            (logs.stdout + logs.stderr)[-1500:])

    # A restart from the same volume gets the binding back without the phone.
    run(podman, "rm", "-f", name)
    r = run(podman, "run", "-d", "--name", name, "--network=host", "--read-only", "-e",
            f"SWITCHBACK_ADMIN=127.0.0.1:{admin}", "-v", mount, "-v", f"{volume}:/var/lib/switchback", IMAGE)
    h.require(r.returncode == 0 and wait_until(ready, 20), "it starts again from the same volume", r.stderr)
    status = json.loads(http_get(f"127.0.0.1:{admin}", "/status")[1])
    h.check(status["bindings"]["registrants"] == 1, "the binding is restored from the volume", status["bindings"])
finally:
    run(podman, "rm", "-f", name)
    run(podman, "volume", "rm", "-f", volume)
h.finish()
