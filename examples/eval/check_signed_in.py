"""A batch success check: exit 0 when the demo shop says its shopper is signed in.

`screenloop batch` runs it in this directory with the attempt in the environment
(SCREENLOOP_DEMO_URL, SCREENLOOP_RUN_DIR, SCREENLOOP_FINAL_OUTPUT, ...).
"""

import json
import os
import sys
import urllib.request

with urllib.request.urlopen(os.environ["SCREENLOOP_DEMO_URL"] + "api/state", timeout=10) as r:
    state = json.load(r)
signed_in = state.get("signed_in")
print(f"signed in: {signed_in!r}")
sys.exit(0 if signed_in == "ada" else 1)
