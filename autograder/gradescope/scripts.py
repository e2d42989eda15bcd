"""The two scripts at the root of the Gradescope zip.

``setup.sh`` runs once, as root, when Gradescope builds the image (Ubuntu 22.04 by default,
whose own Python is 3.10: the kit needs 3.11). It makes a virtual environment outside
``/autograder`` (the sandbox mounts the environment read-only and must never see
``/autograder/source``), installs CPU torch first so nothing pulls a CUDA build, then the
engine wheel shipped in the zip, and grades the reference once to fill the kit's cache.
``run_autograder`` runs per submission and leaves a ``results.json`` even when Python cannot
start.
"""

from __future__ import annotations

import shlex

VENV = "/opt/autograder-venv"
TORCH = "torch==2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
CACHE = "/opt/autograder-cache"  # filled once by setup.sh, read by every run

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# bubblewrap is the strongest sandbox layer (used where the container allows user namespaces);
# setpriv (util-linux) drops student code to uid nobody otherwise.
apt-get install -y --no-install-recommends bubblewrap util-linux ca-certificates
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  apt-get install -y --no-install-recommends python3-venv
  python=python3
else
  apt-get install -y --no-install-recommends python3.11 python3.11-venv
  python=python3.11
fi
"$python" -m venv {VENV}
{VENV}/bin/pip install --upgrade pip
{VENV}/bin/pip install {TORCH} --index-url {TORCH_INDEX}
{VENV}/bin/pip install /autograder/source/wheels/*.whl
{VENV}/bin/python -c 'import autograder.gradescope.run, torch; print("torch", torch.__version__)'
# Grade the reference once, so the kit's cache holds the reference's runs and the suite's lint
# for every submission to read (see autograder/cache.py); without it each computes them.
mkdir -p {CACHE}
AUTOGRADER_CACHE={CACHE} AUTOGRADER_COURSE=/autograder/source/course {VENV}/bin/autograder grade \
  /autograder/source/course/solutions/{{name}} --assignment {{name}} --out /tmp/autograder-warm-up \
  --jobs 1 >/dev/null || echo "warming the cache failed: each submission computes the reference"
rm -rf /tmp/autograder-warm-up
"""

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in /autograder.
set -u
export PATH="{VENV}/bin:$PATH"
export AUTOGRADER_CACHE="{CACHE}"
root="${{AUTOGRADER_GRADESCOPE_ROOT:-/autograder}}"
mkdir -p "$root/results"
rm -f "$root/results/results.json"
python3 -m autograder.gradescope.run --assignment {{name}}
if [ ! -s "$root/results/results.json" ]; then
  echo '{{"score": 0.0, "tests": [], "output": "The autograder could not start. '\\
'Your instructor can see why."}}' > "$root/results/results.json"
fi
"""


def run_autograder(name: str) -> str:
    """``run_autograder`` for the assignment ``name``."""
    return RUN_AUTOGRADER.replace("{name}", shlex.quote(name))


def setup_sh(name: str) -> str:
    """``setup.sh`` for the assignment ``name``."""
    return SETUP_SH.replace("{name}", shlex.quote(name))
