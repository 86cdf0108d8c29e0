"""The served API with the real kubectl: `kubectl get pods -A` on 10,000 pods, `kubectl apply -f` of 200
objects, and an exec `curl` round trip. Prints figures; it is not a test.

    python tools/install-kubectl      # once: the real kubectl v1.35 in /usr/local/bin
    python benchmarks/bench_kubeapi.py
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import manifests  # noqa: E402

KUBECTL = os.environ.get("KUBELAB_KUBECTL", "/usr/local/bin/kubectl")


def kubectl(server, cache: str, *args: str) -> tuple[float, str]:
    env = {**os.environ, "KUBECONFIG": str(server.kubeconfig)}
    t0 = time.perf_counter()
    out = subprocess.run([KUBECTL, "--cache-dir", cache, *args], capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - t0, out.stdout


def objects(count: int = 200) -> list[dict]:
    """count/2 ConfigMaps cfg-i and count/2 Services bench-i (selector app=bench-i, port 80)."""
    docs = []
    for i in range(count // 2):
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cfg-{i}"}, "data": {"k": str(i)}})
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"bench-{i}"},
                     "spec": {"selector": {"app": f"bench-{i}"}, "ports": [{"port": 80}]}})
    return docs


def objects_file(folder: Path, count: int = 200) -> Path:
    import yaml

    path = folder / "objects.yaml"
    path.write_text(yaml.safe_dump_all(objects(count)))
    return path


def main() -> None:
    import kubelab
    from kubelab.serve.kubeapi import KubeAPIServer

    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores; kubectl {KUBECTL}")
    lab = kubelab.connect("simulated", nodes=0, service_cidr="10.96.0.0/16", seed=0)
    lab.apply(manifests())
    with tempfile.TemporaryDirectory() as tmp, KubeAPIServer(lab) as server:
        cache = str(Path(tmp) / "cache")
        cold, out = kubectl(server, cache, "get", "pods", "-A")
        warm = min(kubectl(server, cache, "get", "pods", "-A")[0] for _ in range(3))
        print(f"kubectl get pods -A, {len(out.splitlines()) - 1} pods: {warm:5.2f} s with a warm discovery cache, "
              f"{cold:5.2f} s cold (target <= 1 s)")

    small = kubelab.connect()
    small.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
                  "spec": {"containers": [{"name": "client", "image": "busybox"}]}},
                 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
                  "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}},
                 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                  "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}])
    with tempfile.TemporaryDirectory() as tmp, KubeAPIServer(small) as server:
        cache = str(Path(tmp) / "cache")
        path = objects_file(Path(tmp))
        kubectl(server, cache, "get", "ns")   # warm the discovery cache
        created, _ = kubectl(server, cache, "apply", "-f", str(path))
        unchanged, _ = kubectl(server, cache, "apply", "-f", str(path))
        print(f"kubectl apply -f, 200 objects: {created:5.2f} s creating, {unchanged:5.2f} s unchanged (target <= 2 s)")
        runs = [kubectl(server, cache, "exec", "client", "--", "curl", "-s", "http://web")[0] for _ in range(10)]
        version = statistics.median(kubectl(server, cache, "version", "--client")[0] for _ in range(5))
        print(f"kubectl exec client -- curl -s http://web: median {statistics.median(runs) * 1000:4.0f} ms per "
              f"round trip (kubectl's own start-up, `kubectl version --client`: {version * 1000:4.0f} ms; "
              "target <= 100 ms)")
        from kubernetes import client, config
        from kubernetes.stream import stream
        v1 = client.CoreV1Api(config.new_client_from_config(config_file=str(server.kubeconfig)))
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            stream(v1.connect_get_namespaced_pod_exec, "client", "default", command=["curl", "-s", "http://web"],
                   stderr=True, stdout=True)
            times.append(time.perf_counter() - t0)
        print(f"Python client stream() exec curl: median {statistics.median(times) * 1000:4.0f} ms per round trip")


if __name__ == "__main__":
    main()
