"""Lesson 01 (pod networking): podCIDRs, pods pinned to a node, hostNetwork pods.

Each check builds its own cluster, different from the lesson's (more nodes, other pods, other
seeds), so an answer that copies addresses from the lesson fails and one that computes passes.
"""
from __future__ import annotations

import ipaddress

from ...net.objects import pod_host_network, pod_ips
from . import exercise
from ._support import apply_answer, call_answer

LESSON = "01-pod-networking"


# ---------------------------------------------------------------- helpers shared by the checks
def _pod(lab, name: str):
    """The pod default/<name>, or None."""
    return next((p for p in lab.list("Pod", namespace="default") if p["metadata"]["name"] == name), None)


def _node_ip(node: dict) -> str:
    return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")


def _owner(lab, ip: str):
    """The reference answer: the node whose spec.podCIDRs contains ip (the kube-controller-manager
    gives each node disjoint ranges from --cluster-cidr, so at most one does)."""
    address = ipaddress.ip_address(ip)
    for node in lab.list("Node"):
        for cidr in node["spec"].get("podCIDRs") or []:
            if address in ipaddress.ip_network(cidr):
                return node["metadata"]["name"]
    return None


def _probe(name: str, node: str) -> dict:
    """A client pod with no ports, pinned to a node."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": name, "image": "busybox", "command": ["sleep", "infinity"]}]}}


#: an image that really listens on each port the checks' deployments use (Kubernetes does not enforce containerPort)
_IMAGE_ON = {8080: "nginxinc/nginx-unprivileged", 6379: "redis"}


def _deployment(name: str, replicas: int, port: int) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": _IMAGE_ON[port],
                                                           "ports": [{"containerPort": port}]}]}}}}


def _declared_ports(pod: dict) -> list:
    return sorted(p.get("containerPort") for c in pod["spec"].get("containers") or [] for p in c.get("ports") or [])


# ---------------------------------------------------------------- (a) which node's podCIDR?
def _score(fn, lab, ips) -> tuple[int, list[str]]:
    """How many of ips the learner's function maps to the right node, and the errors it raised."""
    right, errors = 0, []
    for ip in ips:
        got, error = call_answer(fn, lab, ip)
        if error:
            errors.append(error)
        else:
            right += got == _owner(lab, ip)
    return right, errors


def _hint(base: str, errors: list[str]) -> str:
    return f"{base} (your function raised {errors[0]})" if errors else base


OWNER_CHECKS = ("names the node of each pod IP in a 20-node cluster", "names the node of addresses no pod has yet",
                "names the node of the first and last address of a podCIDR, and None just past the last range",
                "returns None for a node IP, a Service IP and an Internet address",
                "names the node of IPv6 pod IPs in a dual-stack cluster")


@exercise("01-podcidr-owner", title="Which node's podCIDR holds this IP?", lesson=LESSON, answer="function",
          scored=OWNER_CHECKS)
def podcidr_owner(answer, ctx):
    # more nodes than the lesson's: node-2 owns 10.244.1.0/24 and node-20 owns 10.244.19.0/24
    lab = ctx.lab(nodes=20, seed=11)
    agent = _probe("agent", "node-5")
    agent["spec"]["hostNetwork"] = True  # its IP is node-5's own, which no podCIDR holds
    lab.apply([_deployment("shop", 24, 8080), agent])
    pods = [p for p in lab.list("Pod") if not pod_host_network(p)]
    pod_addresses = sorted({ip for p in pods for ip in pod_ips(p)})
    right, errors = _score(answer, lab, pod_addresses)
    ctx.expect(OWNER_CHECKS[0], right == len(pod_addresses),
               _hint("compare the IP with every node's podCIDRs as networks, not as text", errors))

    nodes = {n["metadata"]["name"]: n for n in lab.list("Node")}
    free = [str(ipaddress.ip_network(nodes[n]["spec"]["podCIDRs"][0])[200]) for n in ("node-7", "node-20")]
    free_right, free_errors = _score(answer, lab, free)
    ctx.expect("names the node of addresses no pod has yet", free_right == len(free),
               _hint("the podCIDRs decide, whether or not a pod holds the address now", free_errors))

    # both sides of the edges: a network's first and last address are in it (hosts() leaves them out), and the
    # address past the last node's range is in the cluster CIDR but owned by no node (no node-21 to guess)
    last = ipaddress.ip_network(nodes["node-20"]["spec"]["podCIDRs"][0])
    edges = [str(last[0]), str(last[-1]), str(last[0] - 1), str(last[-1] + 1)]
    edge_right, edge_errors = _score(answer, lab, edges)
    ctx.expect(OWNER_CHECKS[2], edge_right == len(edges),
               _hint("a podCIDR holds its first and last address too; and an address is a node's only when one of "
                     "its podCIDRs holds it, whatever the node names suggest", edge_errors))

    outside = [_node_ip(nodes["node-5"]), "10.96.0.1", "8.8.8.8"]
    outside_right, outside_errors = _score(answer, lab, outside)
    ctx.expect("returns None for a node IP, a Service IP and an Internet address",
               outside_right == len(outside),
               _hint("return None when no podCIDR holds the IP; node and Service IPs come from other ranges",
                     outside_errors))

    dual = ctx.lab(ip_families=("IPv4", "IPv6"), seed=12)
    dual.apply(_deployment("shop", 4, 8080))
    v6 = sorted(ip for p in dual.list("Pod") for ip in pod_ips(p) if ":" in ip)
    v6_right, v6_errors = _score(answer, dual, v6)
    ctx.expect("names the node of IPv6 pod IPs in a dual-stack cluster", v6 and v6_right == len(v6),
               _hint("a dual-stack node has one podCIDR per IP family", v6_errors))

    # classic mistakes, recognised from how the answer behaves
    ctx.mistake("matched the IP as text", call_answer(answer, lab, free[1])[0] == "node-2",
                f"{free[1]} starts with the text '10.244.1' but is not in 10.244.1.0/24; "
                "compare networks (the ipaddress module), not strings")
    ctx.mistake("looked up the pod that has the IP", right == len(pod_addresses) and free_right == 0,
                "pod IPs were right but free addresses were not: read the nodes' podCIDRs instead of the pods")
    ctx.mistake("read only spec.podCIDR",
                right == len(pod_addresses) and v6 and all(call_answer(answer, dual, ip)[0] is None for ip in v6),
                "spec.podCIDR is the first family's range; spec.podCIDRs lists every family's")


# ---------------------------------------------------------------- (b) a pod pinned to node-2
@exercise("01-pod-on-node-2", title="Pin a pod to node-2 and reach it across nodes", lesson=LESSON,
          answer="manifests", scored=("a Pod named api exists in namespace default", "it runs on node-2",
                                      "it is labelled app=api", "its IP lies in node-2's podCIDR",
                                      "a pod on node-1 reaches it on port 8080"))
def pod_on_node_2(answer, ctx):
    lab = ctx.lab(nodes=4, seed=21)
    # other pods first, so the learner's pod gets an address nobody could predict; node-2 is the busiest
    # node, so a pod left to the (least-loaded-first) scheduler never lands there by luck
    lab.apply([_probe("batch-1", "node-2"), _probe("batch-2", "node-2"), _probe("batch-3", "node-2"),
               _deployment("cache", 7, 6379), _probe("client", "node-1")])
    if not apply_answer(ctx, lab, answer, "the manifest applies"):
        return
    pod = _pod(lab, "api")
    if not ctx.expect("a Pod named api exists in namespace default", pod is not None,
                      "keep kind: Pod and metadata.name: api, in namespace default"):
        return
    node = pod["spec"].get("nodeName")
    running = (pod.get("status") or {}).get("phase") == "Running"
    ctx.expect("it runs on node-2", running and node == "node-2",
               "spec.nodeName places a pod on the node with exactly that name (lab.list('Node') lists them)")
    ctx.expect("it is labelled app=api", pod["metadata"].get("labels", {}).get("app") == "api",
               "labels live in metadata.labels")
    ips = pod_ips(pod)
    ctx.expect("its IP lies in node-2's podCIDR", bool(ips) and all(_owner(lab, ip) == "node-2" for ip in ips),
               "a pod gets its IP from the podCIDR of the node it runs on")
    verdict = lab.reach("default/client", "default/api", 8080) if ips else None
    ctx.expect("a pod on node-1 reaches it on port 8080", verdict,
               "a connection is accepted only where the container's program listens"
               + (f" ({verdict.reason})" if verdict is not None else " (it has no IP: is it running?)"))

    conditions = (pod.get("status") or {}).get("conditions") or []
    ctx.mistake("spec.nodeName names no node",
                any(c.get("reason") == "NodeNotFound" for c in conditions),
                f"no node is called {node!r}, so the pod stays Pending; copy the name from lab.list('Node')")
    ports = _declared_ports(pod)
    ctx.mistake("no containerPort", not ports and not verdict,
                "the container declares no port and kubelab does not know its image, so by the simulator's "
                "convention nothing listens; declare containerPort 8080 (or run an image that listens on 8080)")
    ctx.mistake("listens on another port", ports and 8080 not in ports,
                f"the container declares {ports}; the exercise asks for 8080")


# ---------------------------------------------------------------- (c) a hostNetwork node agent
@exercise("01-node-agent", title="A node agent on the host network", lesson=LESSON, answer="manifests",
          scored=("a Pod named node-agent exists in namespace default", "it runs on node-1",
                  "it shares node-1's network namespace (its IP is the node's)",
                  "node-1's IP answers on 9100 (from a pod on node-2)"))
def node_agent(answer, ctx):
    lab = ctx.lab(seed=31)
    lab.apply([_deployment("web", 3, 8080), _probe("scraper", "node-2")])
    if not apply_answer(ctx, lab, answer, "the manifest applies"):
        return
    pod = _pod(lab, "node-agent")
    if not ctx.expect("a Pod named node-agent exists in namespace default", pod is not None,
                      "keep kind: Pod and metadata.name: node-agent, in namespace default"):
        return
    node = {n["metadata"]["name"]: n for n in lab.list("Node")}["node-1"]
    node_ip = _node_ip(node)
    ctx.expect("it runs on node-1", pod["spec"].get("nodeName") == "node-1"
               and (pod.get("status") or {}).get("phase") == "Running",
               "pin it with spec.nodeName")
    ctx.expect("it shares node-1's network namespace (its IP is the node's)", pod_ips(pod) == [node_ip],
               "an ordinary pod gets its own IP from the podCIDR; a node agent needs the node's network")
    from_pod = lab.reach("default/scraper", node_ip, 9100)
    ctx.expect("node-1's IP answers on 9100 (from a pod on node-2)", from_pod,
               f"something on node-1 must listen on 9100 in the node's own network ({from_pod.reason})")

    own_ip = not pod_host_network(pod)
    ports = _declared_ports(pod)
    uses_host_port = any(p.get("hostPort") for c in pod["spec"].get("containers") or [] for p in c.get("ports") or [])
    ctx.mistake("forgot hostNetwork", own_ip and not uses_host_port,
                "the agent got its own pod IP and listens there, not on the node's IP")
    ctx.mistake("hostPort instead of hostNetwork", own_ip and uses_host_port,
                "hostPort forwards one node port to the pod, which keeps its own IP and network namespace; "
                "a node agent shares the node's network")
    ctx.mistake("no containerPort", pod_host_network(pod) and not ports,
                "a hostNetwork pod should still list the ports it uses: its containerPorts are host ports, which "
                "the scheduler checks so that two pods on a node do not claim the same one")
    ctx.mistake("listens on another port", ports and 9100 not in ports,
                f"the container declares {ports}; the exercise asks for 9100")
