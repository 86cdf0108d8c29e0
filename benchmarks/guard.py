"""The benchmark guard: each figure as a ratio to a reference computed in the same run, at two sizes.

A figure's *ratio* is kubelab's time divided by the time of a plain reference doing the same job in
the same process (a deep copy of the manifests, a per-pair policy evaluator, a dict-backed resolver,
dict + dnslib packing), so it means the same on a fast or a slow, a quiet or a shared machine. Its
*exponent* is how kubelab's time grows between the two sizes (1.0 linear, 2.0 quadratic).

    python benchmarks/guard.py --quick            # print the figures (<= 60 s; what CI runs)
    python benchmarks/guard.py --quick --check    # and fail when a figure regressed (exit 1)
    python benchmarks/guard.py --quick --record   # write the figures as the new recorded ones
    python benchmarks/guard.py                    # the full sizes of the issue's targets (minutes)

--check fails when a ratio is more than 2x its recorded value, or an exponent more than 0.3 above
its recorded one, naming the figure. The figures of this file use only kubelab's public API (connect,
apply, reachability, resolve, serve_dns), so they also run against older commits
(`PYTHONPATH=<old checkout> python benchmarks/guard.py --quick --check --only apply`); those of
guard_serving.py (HTTP through ingress-nginx and a Gateway, the mesh, the API server) need the
capabilities they measure.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from guard_figure import Figure, timed  # noqa: E402
import guard_serving  # noqa: E402

RECORDED = Path(__file__).with_name("guard_recorded.json")
RATIO_SLACK = 2.0          # a ratio may grow up to 2x its recorded value
EXPONENT_SLACK = 0.3       # an exponent may grow up to 0.3 above its recorded value

# sizes (small, large) per figure; quick is what CI runs
SIZES = {
    "quick": {"apply": (800, 3200), "reachability": (200, 800), "dns-pod": (200, 800),
              "dns-pod-ndots": (200, 800), "dns-udp": (200, 800)},
    "full": {"apply": (2500, 10_000), "reachability": (500, 2000), "dns-pod": (500, 2000),
             "dns-pod-ndots": (500, 2000), "dns-udp": (500, 2000)},
}


# ------------------------------------------------------------------------------------- apply

def cluster_manifests(pods: int) -> list[dict]:
    """bench_core's shape: nodes, one Service per 5 pods (selector app=app-k, port 80 -> 8080), pods."""
    nodes, services = max(1, pods // 100), max(1, pods // 5)
    docs = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{i:03d}"},
             "status": {"addresses": [{"type": "InternalIP", "address": f"192.168.{i // 200}.{10 + i % 200}"}]}}
            for i in range(nodes)]
    docs += [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{s}"},
              "spec": {"selector": {"app": f"app-{s}"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
             for s in range(services)]
    docs += [{"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": f"pod-{p}", "labels": {"app": f"app-{p % services}"}},
              "spec": {"nodeName": f"node-{p % nodes:03d}",
                       "containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 8080}]}]}}
             for p in range(pods)]
    return docs


def figure_apply(pods: int) -> Figure:
    """lab.apply of the whole cluster (controllers included) vs a deep copy of the manifests."""
    import kubelab

    docs = cluster_manifests(pods)

    def subject():
        kubelab.connect("simulated", nodes=0, service_cidr="10.96.0.0/16", seed=0).apply(copy.deepcopy(docs))

    def reference():
        copy.deepcopy(copy.deepcopy(docs))    # the subject's own copy, plus one: the cost of touching it all

    return Figure(subject, reference)


# ------------------------------------------------------------------------------- reachability

def policy_cluster(pods: int, seed: int = 0):
    """Namespaces, pods (all listening on 80) and one ingress policy per 10 pods, of shapes a per-pair
    evaluator of a few lines gets right: matchLabels pod / namespace selectors, port 80 or every port."""
    rng = random.Random(seed)
    apps = [f"app{i}" for i in range(30)]
    namespaces = [{"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": f"ns{i}", "labels": {"team": f"t{i % 3}"}}} for i in range(10)]
    pod_docs = [{"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": f"p{i}", "namespace": f"ns{rng.randrange(10)}", "labels": {"app": rng.choice(apps)}},
                 "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]}}
                for i in range(pods)]
    policies = []
    for i in range(max(1, pods // 10)):
        peer = rng.choice([{"podSelector": {"matchLabels": {"app": rng.choice(apps)}}},
                           {"namespaceSelector": {"matchLabels": {"team": f"t{rng.randrange(3)}"}}},
                           {"namespaceSelector": {"matchLabels": {"team": f"t{rng.randrange(3)}"}},
                            "podSelector": {"matchLabels": {"app": rng.choice(apps)}}}])
        rule = {"from": [peer]}
        if rng.random() < 0.5:
            rule["ports"] = [{"port": rng.choice([80, 443])}]
        selector = rng.choice([{}, {"matchLabels": {"app": rng.choice(apps)}}])
        policies.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": f"np{i}", "namespace": f"ns{rng.randrange(10)}"},
                         "spec": {"podSelector": selector, "ingress": [rule]}})
    return namespaces, pod_docs, policies


class PerPairReference:
    """NetworkPolicy ingress for the shapes above, one pair at a time, with the policies selecting each
    pod found once up front (the per-pair evaluator the issue measures against)."""

    def __init__(self, namespaces, pods, policies):
        self.ns_labels = {n["metadata"]["name"]: n["metadata"]["labels"] for n in namespaces}
        self.pods = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p["metadata"] for p in pods}
        self.selecting = {key: [pol for pol in policies if pol["metadata"]["namespace"] == meta["namespace"]
                                and self._matches(pol["spec"]["podSelector"], meta["labels"])]
                          for key, meta in self.pods.items()}

    @staticmethod
    def _matches(selector: dict, labels: dict) -> bool:
        return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())

    def _peer(self, peer: dict, policy_ns: str, src: dict) -> bool:
        if "namespaceSelector" in peer:
            if not self._matches(peer["namespaceSelector"], self.ns_labels[src["namespace"]]):
                return False
        elif src["namespace"] != policy_ns:
            return False
        return "podSelector" not in peer or self._matches(peer["podSelector"], src["labels"])

    def allowed(self, src_key: str, dst_key: str, port: int = 80) -> bool:
        if src_key == dst_key:
            return True                      # a pod cannot block access to itself
        selecting = self.selecting[dst_key]
        if not selecting:
            return True                      # not isolated for ingress
        src = self.pods[src_key]
        return any(("ports" not in rule or any(p["port"] == port for p in rule["ports"]))
                   and any(self._peer(peer, pol["metadata"]["namespace"], src) for peer in rule["from"])
                   for pol in selecting for rule in pol["spec"]["ingress"])


def figure_reachability(pods: int) -> Figure:
    """lab.reachability(port=80) over every pod vs the per-pair reference, timed on 4,000 sampled pairs
    and scaled to all pairs (it agrees with kubelab on every sampled pair, or the figure fails)."""
    import kubelab

    namespaces, pod_docs, policies = policy_cluster(pods)
    lab = kubelab.connect(seed=0, nodes=max(3, pods // 100))    # a /24 pod CIDR per node
    lab.apply(namespaces + pod_docs + policies)
    matrix = lab.reachability(port=80)
    reference = PerPairReference(namespaces, pod_docs, policies)
    rng = random.Random(1)
    keys = sorted(reference.pods)
    sample = [(rng.choice(keys), rng.choice(keys)) for _ in range(4000)]
    wrong = [pair for pair in sample if matrix[pair] != reference.allowed(*pair)]
    if wrong:
        raise RuntimeError(f"reachability disagrees with the per-pair reference on {len(wrong)} pairs, "
                           f"e.g. {wrong[0]}")
    # the reference is timed on the sample and scaled to all pairs
    return Figure(lambda: lab.reachability(port=80), lambda: [reference.allowed(s, d) for s, d in sample],
                  reference_scale=len(keys) ** 2 / len(sample))


# ----------------------------------------------------------------------------------------- DNS

def dns_lab(services: int):
    """A cluster with `services` Services (svc-0 ...) in default and a client pod."""
    import kubelab

    lab = kubelab.connect(seed=0)
    docs = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{s}"},
             "spec": {"selector": {"app": f"app-{s}"}, "ports": [{"port": 80}]}} for s in range(services)]
    docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
                 "spec": {"containers": [{"name": "c", "image": "x"}]}})
    lab.apply(docs)
    return lab


class DictResolver:
    """The reference resolver: the pod's search list walked over a dict of the cluster's names."""

    def __init__(self, lab, services: int):
        self.search = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]
        self.names = {f"svc-{s}.default.svc.cluster.local": lab.get("Service", f"svc-{s}")["spec"]["clusterIP"]
                      for s in range(services)}

    def resolve(self, name: str):
        candidates = [f"{name}.{d}" for d in self.search] + [name] if name.count(".") < 5 else [name]
        for candidate in candidates:
            if candidate in self.names:
                return self.names[candidate]
        return None


def figure_dns_pod(services: int, ndots: bool = False) -> Figure:
    """Lookups from a pod (search list, ndots:5), per lookup: short Service names (1 candidate), or with
    ndots a name outside the cluster (5 candidates), vs the dict-backed reference resolver."""
    lab = dns_lab(services)
    reference = DictResolver(lab, services)
    names = ([f"ext-{i}.example.com" for i in range(64)] if ndots else
             [f"svc-{s}" for s in range(0, services, max(1, services // 64))])
    expected = 5 if ndots else 1
    answer = lab.resolve(names[0], src="default/client")
    if len(answer.queries) != expected:
        raise RuntimeError(f"expected {expected} candidate(s) for {names[0]}, got {answer.queries}")

    def subject():
        for name in names:
            lab.resolve(name, src="default/client")

    def plain():
        for name in names:
            reference.resolve(name)

    return Figure(subject, plain, per=len(names), min_time=0.1)


def _udp_exchange(port: int, packets: list[bytes], in_flight: int = 32) -> None:
    """Every packet sent to 127.0.0.1:port over UDP, `in_flight` outstanding, every reply received."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2.0)
    sock.connect(("127.0.0.1", port))
    sent = received = 0
    try:
        while received < len(packets):
            while sent < len(packets) and sent - received < in_flight:
                sock.send(packets[sent])
                sent += 1
            sock.recv(4096)
            received += 1
    except socket.timeout:
        raise RuntimeError(f"the DNS server answered {received} of {len(packets)} queries") from None
    finally:
        sock.close()


def figure_dns_udp(services: int) -> Figure:
    """lab.serve_dns over UDP on loopback, names never asked before (no answer cache), per query, vs a
    reference answering the same packets in-process from a dict with dnslib parsing and packing."""
    from dnslib import QTYPE, RR, A, DNSRecord

    lab = dns_lab(services)
    server = lab.serve_dns(port=0)
    names = [f"svc-{s}.default.svc.cluster.local" for s in range(services)]
    table = {n: lab.get("Service", n.split(".")[0])["spec"]["clusterIP"] for n in names}
    rounds = iter(range(1, 1 << 16))

    def subject():
        # the server caches per packet (minus the ID): each round varies the letters' case (0x20), so no
        # round repeats a packet an earlier one asked
        r = next(rounds)
        _udp_exchange(server.port, [DNSRecord.question(_case(n, r)).pack() for n in names])

    def reference():
        for name in names:
            request = DNSRecord.parse(DNSRecord.question(_case(name, 1)).pack())
            reply = request.reply()
            reply.add_answer(RR(name, QTYPE.A, rdata=A(table[str(request.q.qname).rstrip(".").lower()]), ttl=5))
            reply.pack()

    return Figure(subject, reference, per=len(names), close=server.stop)


def _case(name: str, r: int) -> str:
    """`name` with letters upper-cased by the bits of r (DNS names are case-insensitive, packets differ)."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    chars = list(name)
    for bit, i in enumerate(letters[:16]):
        if (r >> bit) & 1:
            chars[i] = chars[i].upper()
    return "".join(chars)


FIGURES = {
    "apply": figure_apply,
    "reachability": figure_reachability,
    "dns-pod": figure_dns_pod,
    "dns-pod-ndots": lambda n: figure_dns_pod(n, ndots=True),
    "dns-udp": figure_dns_udp,
    **guard_serving.FIGURES,     # HTTP, Gateway, mesh, API server
}
for _mode, _sizes in guard_serving.SIZES.items():
    SIZES[_mode].update(_sizes)


# ------------------------------------------------------------------------------------ the guard

def measure(mode: str, only=None, rounds: int = 5) -> dict:
    """{figure: {ratio, exponent, seconds, reference_seconds, sizes}}, the ratio at the larger size.

    Each round times kubelab and the reference back to back at both sizes; the figures are the medians
    over rounds of each round's ratio and exponent, so a burst of load from other processes (a shared
    machine) moves a round, not the figure."""
    out = {}
    for name, make in FIGURES.items():
        if only and name not in only:
            continue
        small, large = SIZES[mode][name]
        figures = []
        try:
            figures = [make(small), make(large)]
            per_round = []
            for _ in range(rounds):
                times = []
                for fig in figures:
                    times.append((timed(fig.subject, fig.min_time, fig.per, fig.setup),
                                  timed(fig.reference, fig.min_time, fig.per, fig.reference_setup)
                                  * fig.reference_scale))
                (s_small, _), (s_large, r_large) = times
                per_round.append((s_large / r_large, math.log(s_large / s_small) / math.log(large / small),
                                  s_large, r_large))
        except Exception as exc:    # a figure that cannot be measured is reported, and fails --check
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        finally:
            for fig in figures:
                fig.close()
        ratio, exponent, seconds, reference = (statistics.median(column) for column in zip(*per_round))
        out[name] = {"ratio": ratio, "exponent": exponent, "seconds": seconds, "reference_seconds": reference,
                     "sizes": [small, large]}
    return out


def compare(recorded: dict, measured: dict) -> list[str]:
    """The regressions: one line per figure whose ratio grew more than RATIO_SLACK x, or whose exponent
    grew more than EXPONENT_SLACK, against the recorded figures (or that could not be measured)."""
    problems = []
    for name in sorted(n for n in recorded if not n.startswith("_")):
        before, now = recorded[name], measured.get(name)
        if now is None:
            continue
        if "error" in now:
            problems.append(f"{name}: could not be measured ({now['error']})")
            continue
        if now["ratio"] > RATIO_SLACK * before["ratio"]:
            problems.append(f"{name}: ratio to its reference {now['ratio']:.3g} is {now['ratio'] / before['ratio']:.1f}x "
                            f"the recorded {before['ratio']:.3g} (allowed: {RATIO_SLACK:g}x)")
        if now["exponent"] > before["exponent"] + EXPONENT_SLACK:
            problems.append(f"{name}: growth exponent {now['exponent']:.2f} exceeds the recorded "
                            f"{before['exponent']:.2f} by more than {EXPONENT_SLACK:g}")
    return problems


def confirmed(recorded: dict, problems: list[str], remeasure) -> list[str]:
    """The problems that show again when their figures are measured a second time: a real regression shows
    in every run, a burst of load from another process on a shared machine in one."""
    flagged = sorted({line.split(":")[0] for line in problems})
    again = remeasure(flagged)
    print(f"measured again: {', '.join(flagged)}")
    print(describe(again))
    return compare({name: recorded[name] for name in flagged}, again)


def describe(measured: dict) -> str:
    lines = []
    for name, fig in measured.items():
        if "error" in fig:
            lines.append(f"{name:14} ERROR {fig['error']}")
            continue
        small, large = fig["sizes"]
        lines.append(f"{name:14} ratio {fig['ratio']:9.3g}   exponent {fig['exponent']:5.2f}   "
                     f"(kubelab {fig['seconds']:.3g} s, reference {fig['reference_seconds']:.3g} s at size {large}; "
                     f"sizes {small} -> {large})")
    return "\n".join(lines)


def _commit() -> str:
    """The measured kubelab: its git commit, or the directory it was imported from."""
    import kubelab

    root = Path(kubelab.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return f"commit {commit}" if commit else f"from {root}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small sizes CI runs (<= 60 s)")
    parser.add_argument("--check", action="store_true", help="fail when a figure regressed from the recorded one")
    parser.add_argument("--record", action="store_true", help="write the figures as the recorded ones")
    parser.add_argument("--only", nargs="*", help="just these figures")
    parser.add_argument("--rounds", type=int, default=5, help="medians over this many rounds")
    parser.add_argument("--record-runs", type=int, default=3, help="with --record: record the worst of these runs")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    start = time.perf_counter()
    measured = measure(mode, args.only, args.rounds)
    print(f"benchmark guard ({mode}), kubelab {_commit()}, {platform.machine()}, "
          f"{platform.python_implementation()} {platform.python_version()}, {_cores()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(describe(measured))
    print(f"({time.perf_counter() - start:.0f} s)")
    if args.record:
        # the worst of --record-runs runs is recorded, so that a noisy run on a shared machine is not a
        # regression, while a 2x slower ratio or a steeper growth still is
        runs = [measured] + [measure(mode, args.only, args.rounds) for _ in range(args.record_runs - 1)]
        for extra in runs[1:]:
            print(describe(extra))
        kept = {name: {"ratio": round(max(r[name]["ratio"] for r in runs), 4),
                       "exponent": round(max(r[name]["exponent"] for r in runs), 3)}
                for name in measured if all("error" not in r[name] for r in runs)}
        recorded = json.loads(RECORDED.read_text()) if RECORDED.exists() else {}
        recorded[mode] = {**recorded.get(mode, {}), **kept}
        note = (f"worst of {args.record_runs} runs, kubelab {_commit()}, {platform.machine()}, {_cores()} cores, "
                f"load average {os.getloadavg()[0]:.1f} (shared)")
        about = recorded.setdefault("_about", {})
        about[mode] = {**(about.get(mode) if isinstance(about.get(mode), dict) else {}), **{name: note for name in kept}}
        RECORDED.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        print(f"recorded in {RECORDED.name}")
    if args.check:
        recorded = json.loads(RECORDED.read_text()).get(mode, {})
        if not recorded:
            print(f"no recorded {mode} figures in {RECORDED.name}: run with --record first")
            return 1
        problems = compare(recorded, measured)
        if problems:
            problems = confirmed(recorded, problems, lambda names: measure(mode, names, args.rounds))
        for line in problems:
            print(f"REGRESSION {line}")
        if problems:
            return 1
        print("no regression against the recorded figures")
    return 0


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
