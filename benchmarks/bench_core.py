"""Core figures: a 100-node, 10,000-pod, 2,000-Service cluster applied and reconciled, iptables-save
for one node, `import kubelab`, and peak memory. Prints figures; it is not a test.

    python benchmarks/bench_core.py
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import resource


def manifests(nodes=100, pods=10_000, services=2_000):
    docs = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{i:03d}"},
             "status": {"addresses": [{"type": "InternalIP", "address": f"192.168.{i // 200}.{10 + i % 200}"}]}}
            for i in range(nodes)]
    per_service = pods // services
    for s in range(services):
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{s}"},
                     "spec": {"selector": {"app": f"app-{s}"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    for p in range(pods):
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"pod-{p}", "labels": {"app": f"app-{p // per_service}"}},
                     "spec": {"nodeName": f"node-{p % nodes:03d}",
                              "containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 8080}]}]}})
    return docs


def main() -> None:
    out = subprocess.run([sys.executable, "-c", "import time; t=time.perf_counter(); import kubelab; "
                          "print(time.perf_counter()-t)"], capture_output=True, text=True, check=True)
    import_s = float(out.stdout)

    import kubelab
    docs = manifests()
    lab = kubelab.connect("simulated", nodes=0, service_cidr="10.96.0.0/16", seed=0)
    t0, c0 = time.perf_counter(), time.process_time()
    lab.apply(docs)
    apply_s, apply_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    lab.cluster.reconcile()    # a second full controller pass: what a resync costs
    reconcile_s, reconcile_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    text = lab.iptables_save("node-000")
    iptables_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    verdict = lab.reach("default/pod-0", "svc-1", 80)
    reach_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # Linux reports KiB

    slices = len(lab.list("EndpointSlice"))
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.system()}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(wall-clock figures grow with the load; CPU is this process's own time)")
    print("cluster: 100 nodes, 10,000 pods, 2,000 Services")
    print(f"import kubelab:                {import_s:6.3f} s   (target <= 0.3 s)")
    print(f"apply everything (all-or-nothing, controllers included): {apply_s:6.2f} s, CPU {apply_cpu:.2f} s   "
          "(target <= 3 s)")
    print(f"controller resync (all slices reconciled): {reconcile_s:6.2f} s, CPU {reconcile_cpu:.2f} s   "
          "(target <= 1 s)")
    print(f"iptables-save for one node:    {iptables_s:6.3f} s   ({len(text.splitlines())} lines; target <= 1 s)")
    print(f"one reach() through DNS + kube-proxy: {reach_s:6.3f} s   ({'allowed' if verdict else 'blocked'})")
    print(f"EndpointSlices: {slices}")
    print(f"peak memory (max RSS, whole process): {peak / 1e6:6.0f} MB   (target <= 500 MB)")


if __name__ == "__main__":
    main()
