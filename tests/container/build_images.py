"""The CTest fixture of the container tests: builds Switchback's image (docker/Dockerfile) and the
compose registrar image (docker/kamailio.Dockerfile) once, for every container test to use.
Prints each build's time and each image's size."""
import json
import sys
import time

from podman import IMAGE, REGISTRAR_IMAGE, podman_or_skip, run

podman = podman_or_skip()
failed = 0
for tag, dockerfile in ((IMAGE, "docker/Dockerfile"), (REGISTRAR_IMAGE, "docker/kamailio.Dockerfile")):
    start = time.monotonic()
    r = run(podman, "build", "--network=host", "--format", "docker", "-t", tag, "-f", dockerfile, ".")
    took = time.monotonic() - start
    if r.returncode != 0:
        print(f"  FAIL {dockerfile} builds ({took:.0f} s)\n{(r.stdout + r.stderr)[-4000:]}")
        failed += 1
        continue
    size = json.loads(run(podman, "image", "inspect", tag).stdout)[0]["Size"]
    print(f"  ok   {dockerfile} builds as {tag} in {took:.0f} s: {size / 1e6:.1f} MB")
print(f"{2 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
