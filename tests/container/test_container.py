"""The Docker image, through a running container: it builds (multi-stage, non-root), validates
a config with --check-config, serves a SIPp phone registering through it to a Kamailio
registrar, reports healthy through its HEALTHCHECK, and exits 0 on SIGTERM. The compose
registrar image builds and its Kamailio accepts its config.

Needs podman (or the PODMAN environment variable naming a podman-compatible command, such as
podman-local on machines without a registry). Without it the test reports itself skipped
(exit 77) with the reason: it never passes silently."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Harness, free_port, wait_until  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
podman = os.environ.get("PODMAN")
if not podman and shutil.which("podman"):
    # A plain podman is used only if it can build FROM debian:bookworm-slim without a registry pull.
    if subprocess.run(["podman", "image", "exists", "debian:bookworm-slim"]).returncode == 0:
        podman = "podman"
if not podman:
    print("SKIPPED: no podman with a local debian:bookworm-slim on this machine "
          "(set PODMAN to a podman-compatible command, e.g. podman-local)")
    sys.exit(77)

h = Harness(__doc__)
tag = f"switchback:test-{os.getpid()}"
name = f"switchback-test-{os.getpid()}"


def run(*args, timeout=1200):
    return subprocess.run([podman, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


start = time.monotonic()
r = run("build", "--network=host", "--format", "docker", "-t", tag, "-f", "docker/Dockerfile", ".")
h.require(r.returncode == 0, f"the image builds ({time.monotonic() - start:.0f} s)", (r.stdout + r.stderr)[-3000:])
try:
    size = json.loads(run("image", "inspect", tag).stdout)[0]["Size"]
    h.figure(f"image {tag}: {size / 1e6:.0f} MB")
    inspect = json.loads(run("image", "inspect", tag).stdout)[0]
    cfg = inspect.get("Config", {})
    h.check(cfg.get("User") == "switchback", "it runs as the non-root user 'switchback'", cfg.get("User"))
    h.check("/healthz" in json.dumps(inspect), "it has a HEALTHCHECK on /healthz")

    primary = h.kamailio("primary")
    port, admin = free_port(), free_port()
    config = os.path.join(h.dir, "switchback.yaml")
    with open(config, "w") as f:
        f.write(f'listen: ["udp:127.0.0.1:{port}", "tcp:127.0.0.1:{port}"]\n'
                f'upstreams: [{{ name: primary, uri: "{primary.uri}" }}]\n'
                f'admin: {{ listen: "127.0.0.1:{admin}" }}\n')
    os.chmod(config, 0o644)
    os.chmod(h.dir, 0o755)
    mount = f"{config}:/etc/switchback/switchback.yaml:ro"
    r = run("run", "--rm", "--network=host", "-v", mount, tag, "--check-config", "/etc/switchback/switchback.yaml")
    h.check(r.returncode == 0 and "configuration OK" in r.stdout, "--check-config in the container validates the config",
            r.stdout + r.stderr)
    r = run("run", "--rm", "--network=host", tag, "--check-config", "/etc/hostname")
    h.check(r.returncode == 2 and "invalid configuration" in r.stderr, "a bad config is refused with exit 2",
            r.stdout + r.stderr)

    r = run("run", "-d", "--name", name, "--network=host", "-e", f"SWITCHBACK_ADMIN=127.0.0.1/{admin}", "-v", mount, tag)
    h.require(r.returncode == 0, "the container starts", r.stderr)
    from harness import http_get
    def ready():
        try:
            return http_get(f"127.0.0.1:{admin}", "/healthz")[0] == 200
        except OSError:
            return False
    h.require(wait_until(ready, 20), "its admin endpoint answers", run("logs", name).stdout[-2000:])
    r = h.sipp("register.xml", port, inf=h.users(["alice"], "alice"))
    h.check(r.rc == 0, "a SIPp phone registers through the container to the registrar", r)
    status = json.loads(http_get(f"127.0.0.1:{admin}", "/status")[1])
    h.check(status["bindings"]["registrants"] == 1, "the container's status shows the binding", status["bindings"])
    r = run("healthcheck", "run", name)
    h.check(r.returncode == 0, "the HEALTHCHECK reports healthy", r.stdout + r.stderr)
    r = run("stop", "-t", "15", name)
    code = run("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
    h.check(code == "0", f"SIGTERM (podman stop) ends it with exit 0 (exit {code})", run("logs", name).stderr[-1500:])

    r = run("build", "--network=host", "--format", "docker", "-t", f"{tag}-registrar", "-f",
            "docker/kamailio.Dockerfile", ".")
    h.check(r.returncode == 0, "the compose registrar image builds", (r.stdout + r.stderr)[-2000:])
    if r.returncode == 0:
        r = run("run", "--rm", "--network=host", "--entrypoint", "kamailio", f"{tag}-registrar", "-c", "-f",
                "/etc/kamailio/registrar.cfg")
        h.check(r.returncode == 0, "its Kamailio accepts the registrar config", (r.stdout + r.stderr)[-1500:])
finally:
    run("rm", "-f", name)
    run("rmi", "-f", tag, f"{tag}-registrar")
h.finish()
