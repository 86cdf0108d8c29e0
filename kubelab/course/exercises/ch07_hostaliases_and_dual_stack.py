"""Checks for lesson 07 · HostAliases and IPv4/IPv6 dual-stack.

The hostAliases check reads the /etc/hosts the kubelet writes for the learner's pod; the dual-stack
checks build a dual-stack cluster, resolve A and AAAA from a client pod and connect over each family.
"""
from __future__ import annotations

import ipaddress

from ...errors import KubelabError
from . import exercise
from ._support import answer_docs, apply_answer, as_yaml, call_answer, client_pod, web_deployment

LESSON = "07-hostaliases-and-dual-stack"
DUAL_STACK = ("IPv4", "IPv6")

WEB = as_yaml(web_deployment(2), client_pod())


# ---------------------------------------------------------------- helpers
def _named(docs: list[dict], kind: str, name: str) -> dict:
    return next((d for d in docs if d.get("kind") == kind and (d.get("metadata") or {}).get("name") == name), {})


def hosts_table(text: str) -> dict[str, list[str]]:
    """name -> addresses in file order, from the text of an /etc/hosts file (comments ignored)."""
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        for name in fields[1:]:
            table.setdefault(name, []).append(fields[0])
    return table


def _family(ip: str) -> int:
    return ipaddress.ip_address(ip).version


def _lands_on(verdict, addresses: set[str]) -> bool:
    """The connection was allowed and its endpoint is one of ``addresses`` (IPv6 endpoints are bracketed)."""
    if not verdict or verdict.endpoint is None:
        return False
    return verdict.endpoint.rsplit(":", 1)[0].strip("[]") in addresses


def _web_ips(lab, version: int) -> set[str]:
    return {e["ip"] for p in lab.list("Pod", "default", selector="app=web")
            for e in p["status"].get("podIPs") or [] if _family(e["ip"]) == version}


# ---------------------------------------------------------------- 07-hostaliases
ALIASES = {"my-app.local": "127.0.0.1", "cache.local": "10.0.0.50"}


_KUBELET_LINES = "the kubelet's own lines are still there (the pod's name and IP)"


@exercise("07-hostaliases", title="Two names in the legacy app's /etc/hosts", lesson=LESSON, answer="manifests",
          scored=(*(f"/etc/hosts maps {name} to {ip}" for name, ip in ALIASES.items()),
                  "each name has exactly one address", _KUBELET_LINES))
def hostaliases(answer, ctx):
    """Pod legacy-app whose /etc/hosts maps my-app.local to 127.0.0.1 and cache.local to 10.0.0.50."""
    docs = answer_docs(answer)
    spec = _named(docs, "Pod", "legacy-app").get("spec") or {}
    aliases = [a for a in spec.get("hostAliases") or [] if isinstance(a, dict)]
    given = {str(n): str(a.get("ip")) for a in aliases for n in (a.get("hostnames") or []) if isinstance(n, str)}
    ctx.mistake("the IPs are swapped",
                given.get("my-app.local") == ALIASES["cache.local"] and given.get("cache.local") == ALIASES["my-app.local"],
                "each hostAliases entry is one ip with the names that should resolve to it")
    ctx.mistake("hostAliases outside spec", "hostAliases" in (_named(docs, "Pod", "legacy-app").get("metadata") or {}),
                "hostAliases is a field of the pod's spec")
    ctx.mistake("a name with a scheme or port", any(("://" in n or ":" in n) for n in given),
                "an /etc/hosts line holds bare host names")

    lab = ctx.lab()
    if not apply_answer(ctx, lab, answer):
        return
    try:
        text = lab.hosts_file("default/legacy-app")
    except KubelabError:
        ctx.require("pod legacy-app exists in namespace default", False, "name the pod legacy-app")
        return
    table = hosts_table(text)
    mapped = [ctx.expect(f"/etc/hosts maps {name} to {ip}", table.get(name, [None])[0] == ip,
                         f"print(lab.hosts_file('default/legacy-app')) and look for {name}")
              for name, ip in ALIASES.items()]
    ctx.expect("each name has exactly one address", all(len(table.get(n, [])) == 1 for n in ALIASES),
               "a name listed under two IPs resolves to the first one only for some programs")
    pod_ip = lab.get("Pod", "legacy-app")["status"]["podIP"]
    # scored only once the aliases are there (the starter pod keeps the kubelet's lines too)
    ctx.expect(_KUBELET_LINES, all(mapped) and table.get("legacy-app", [None])[0] == pod_ip and table.get("localhost"),
               "do not replace /etc/hosts (a volume or a command would); let hostAliases append to it"
               if all(mapped) else "add the two aliases first")


# ---------------------------------------------------------------- 07-dual-stack-service
@exercise("07-dual-stack-service", title="A Service reachable over IPv4 and IPv6", lesson=LESSON, answer="manifests",
          scored=("web has a ClusterIP of each family",
                  "client resolves web (A) to its IPv4 ClusterIP",
                  "client connects to web over IPv4 on port 80 and lands on a web pod",
                  "client resolves web (AAAA) to its IPv6 ClusterIP",
                  "client connects to web over IPv6 on port 80 and lands on a web pod",
                  "over IPv6 the pod sees the client's IPv6 address",
                  "on a single-stack cluster the Service is refused rather than created with one family"))
def dual_stack_service(answer, ctx):
    """Service web (80 -> the pods' 8080) with a ClusterIP of each family, refused on a single-stack cluster."""
    docs = answer_docs(answer)
    spec = _named(docs, "Service", "web").get("spec") or {}
    families = spec.get("ipFamilies") or []
    ctx.mistake("two ipFamilies without an ipFamilyPolicy", len(families) == 2 and not spec.get("ipFamilyPolicy"),
                "the policy defaults to SingleStack, which allows one family only")
    ctx.mistake("PreferDualStack", spec.get("ipFamilyPolicy") == "PreferDualStack",
                "PreferDualStack gives two families only when the cluster has them, and quietly one otherwise")

    lab = ctx.lab(ip_families=DUAL_STACK)
    lab.apply(WEB)
    if not apply_answer(ctx, lab, answer):
        return
    try:
        live = lab.get("Service", "web")["spec"]
    except KubelabError:
        ctx.require("Service web exists in namespace default", False, "name the Service web")
        return
    ips = live.get("clusterIPs") or []
    ctx.expect("web has a ClusterIP of each family", sorted(_family(ip) for ip in ips) == [4, 6],
               "which ipFamilyPolicy values give a Service two ClusterIPs?")
    for version, rtype in ((4, "A"), (6, "AAAA")):
        cluster_ip = next((ip for ip in ips if _family(ip) == version), None)
        answer_ = lab.resolve("web", rtype, src="default/client")
        ctx.expect(f"client resolves web ({rtype}) to its IPv{version} ClusterIP",
                   cluster_ip is not None and answer_.addresses == [cluster_ip],
                   f"print(lab.resolve('web', '{rtype}', src='default/client'))")
        verdict = lab.reach("default/client", cluster_ip, 80) if cluster_ip else None
        ctx.expect(f"client connects to web over IPv{version} on port 80 and lands on a web pod",
                   _lands_on(verdict, _web_ips(lab, version)),
                   "lab.reach('default/client', cluster_ip, 80) says where the connection went")
        if version == 6 and verdict:
            client_v6 = [e["ip"] for e in lab.get("Pod", "client")["status"]["podIPs"] if _family(e["ip"]) == 6]
            ctx.expect("over IPv6 the pod sees the client's IPv6 address", verdict.source_ip in client_v6,
                       "print the verdict's source")
    single = ctx.lab()
    single.apply(WEB)
    try:
        single.apply(answer)
        refused = False
    except KubelabError as exc:
        refused = "ipFamilyPolicy" in str(exc)
    ctx.expect("on a single-stack cluster the Service is refused rather than created with one family", refused,
               "one policy makes the API server refuse a Service it cannot give both families")
    ctx.mistake("port vs targetPort", any(p.get("targetPort", p.get("port")) != 8080 for p in live.get("ports") or []),
                "the web containers listen on 8080: that is the targetPort; clients use port 80")


# ---------------------------------------------------------------- 07-ipv6-address
SERVICES = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: prefer}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: v6-first}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv6, IPv4]
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: v4-only}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: v6-only}
spec:
  ipFamilies: [IPv6]
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec:
  ipFamilyPolicy: PreferDualStack
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: prefer, namespace: shop}
spec:
  ipFamilyPolicy: RequireDualStack
  ports: [{port: 80}]
"""


def _ipv6_of(lab, name: str, namespace: str = "default") -> str | None:
    spec = lab.get("Service", name, namespace)["spec"]
    return next((ip for ip in spec.get("clusterIPs") or [] if _family(ip) == 6), None)


_IPV6_CASES = (("prefer", "default", "a PreferDualStack Service (IPv4 first)"),
               ("v6-first", "default", "a RequireDualStack Service with IPv6 first"),
               ("v6-only", "default", "an IPv6-only Service"),
               ("orders", "shop", "a Service in namespace shop"),
               ("prefer", "shop", "a Service of namespace shop named like one of default"))


@exercise("07-ipv6-address", title="The IPv6 address a client connects to", lesson=LESSON, answer="function",
          scored=(*(f"{what}: its IPv6 ClusterIP" for _, _, what in _IPV6_CASES), "an IPv4-only Service: None",
                  "client connects to the returned address of prefer over IPv6 and lands on a web pod"))
def ipv6_address(answer, ctx):
    """service_ipv6(lab, name, namespace="default"): the Service's IPv6 ClusterIP, or None without one."""
    if not ctx.require("the answer is a function", callable(answer), "pass the function itself, without calling it"):
        return
    lab = ctx.lab(ip_families=DUAL_STACK)
    lab.apply(WEB)
    lab.apply(SERVICES)
    cases = _IPV6_CASES
    got = {}
    for name, namespace, what in cases:
        value, error = call_answer(answer, lab, name, namespace) if namespace != "default" else call_answer(answer, lab, name)
        got.setdefault(name, value)  # the default namespace's, for the mistakes below
        want = _ipv6_of(lab, name, namespace)
        ctx.expect(f"{what}: its IPv6 ClusterIP", error is None and str(value) == want,
                   error or "read spec.clusterIPs (and spec.ipFamilies): which entry is the IPv6 one?")
    value, error = call_answer(answer, lab, "v4-only")
    ctx.expect("an IPv4-only Service: None", error is None and value is None,
               error or "a SingleStack IPv4 Service has no IPv6 address to return")
    verdict = lab.reach("default/client", str(got["prefer"]), 80) if got.get("prefer") else None
    ctx.expect("client connects to the returned address of prefer over IPv6 and lands on a web pod",
               _lands_on(verdict, _web_ips(lab, 6)), "the address must be one kube-proxy serves")
    primary = {n: lab.get("Service", n, ns)["spec"]["clusterIP"] for n, ns, _ in cases if ns == "default" or n == "orders"}
    ctx.mistake("returns the primary clusterIP", got.get("prefer") == primary["prefer"],
                "spec.clusterIP is the first family's address, IPv4 on this cluster unless ipFamilies says otherwise")
    ctx.mistake("assumes IPv6 is always the second entry",
                _is_ip(got.get("v6-first")) and _family(str(got["v6-first"])) == 4,
                "ipFamilies may list IPv6 first; match each address's family instead of its position")


def _is_ip(value) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True
