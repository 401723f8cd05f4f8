"""The container tool the container tests use, and the images they share.

PODMAN names a podman-compatible command; without it, the project's own machines have
../shared/tools/podman-local beside the repository (it installs podman and makes the base image
locally, with no registry); failing both, a plain podman that already has debian:bookworm-slim.
Without any of them the tests report themselves skipped (exit 77) with the reason, and CI's
.ci/run, which requires podman-local, fails instead of passing."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# Built once by build_images.py (the CTest fixture), used by every container test.
IMAGE = os.environ.get("SWITCHBACK_TEST_IMAGE", "localhost/switchback:test")
REGISTRAR_IMAGE = os.environ.get("SWITCHBACK_TEST_REGISTRAR_IMAGE", "localhost/switchback-registrar:test")


def _executable(path):
    """path itself if it may be executed, else a wrapper that runs it with bash (a read-only
    copy of shared/ may have lost its execute bits)."""
    if os.access(path, os.X_OK):
        return path
    wrapper = os.path.join(tempfile.mkdtemp(prefix="podman-"), "podman")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec bash "{path}" "$@"\n')
    os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wrapper


def find_podman():
    if os.environ.get("PODMAN"):
        return _executable(os.environ["PODMAN"])
    local = os.path.abspath(os.path.join(ROOT, "..", "shared", "tools", "podman-local"))
    if os.path.isfile(local):
        return _executable(local)
    if shutil.which("podman") and subprocess.run(["podman", "image", "exists", "debian:bookworm-slim"]).returncode == 0:
        return "podman"
    return None


def podman_or_skip():
    podman = find_podman()
    if podman is None:
        print("SKIPPED: no podman-local (../shared/tools/podman-local), no PODMAN and no podman with a local "
              "debian:bookworm-slim on this machine")
        sys.exit(77)
    return podman


def run(podman, *args, timeout=1200, env=None):
    return subprocess.run([podman, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
