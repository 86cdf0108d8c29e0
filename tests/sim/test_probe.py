"""reach() and trace(): where connections go, hop by hop, and why they fail."""
from collections import Counter

import pytest

import kubelab
from kubelab import ProbeError

from .conftest import WEB


def _svc_ip(lab, name="web"):
    return lab.get("Service", name)["spec"]["clusterIP"]


def _pods(lab, selector):
    return lab.list("Pod", "default", selector=selector)


def test_cluster_ip_lands_on_an_endpoint_and_keeps_the_source(web_lab):
    """Does a ClusterIP connection land on one ready endpoint at the targetPort, source IP unchanged?"""
    v = web_lab.reach("default/client", _svc_ip(web_lab), 80)
    endpoints = sorted(f"{p['status']['podIP']}:8080" for p in _pods(web_lab, "app=web"))
    assert v and sorted(v.candidates) == endpoints and v.endpoint in endpoints
    assert v.source_ip == web_lab.get("Pod", "client")["status"]["podIP"]


def test_service_by_dns_name(web_lab):
    """Does a short Service name resolve through the client's search list and connect?"""
    v = web_lab.reach("default/client", "web", 80)
    assert v and any("DNS: web ->" in r for r in v.rules)


def test_port_not_target_port_mistake_is_explained(lab):
    """When the Service targets a port the container does not listen on, is it 'connection refused' naming both?"""
    lab.apply(WEB.replace("targetPort: http", "targetPort: 80"))
    v = lab.reach("default/client", _svc_ip(lab), 80)
    assert not v
    assert "connection refused" in v.reason and "does not listen on 80/TCP" in v.reason and "8080/TCP" in v.reason


def test_service_port_that_does_not_exist(web_lab):
    """Does connecting to a port the Service does not offer say which ports it offers?"""
    v = web_lab.reach("default/client", _svc_ip(web_lab), 8080)
    assert not v and "has no port 8080/TCP" in v.reason and "80/TCP" in v.reason


def test_service_without_endpoints_is_rejected(lab):
    """Is a ClusterIP with no endpoints rejected as kube-proxy rejects it?"""
    lab.apply(WEB.replace("selector: {app: web}", "selector: {app: wbe}"))
    v = lab.reach("default/client", _svc_ip(lab), 80)
    assert not v and "reject" in v.reason.lower()


def test_unknown_pod_gets_a_suggestion(web_lab):
    """Does a misspelt pod name raise a ProbeError with a 'did you mean'?"""
    with pytest.raises(ProbeError) as err:
        web_lab.reach("default/clinet", "web", 80)
    assert "did you mean 'default/client'" in str(err.value)


def _node_port_lab(policy):
    lab = kubelab.connect(seed=0)
    lab.apply(WEB.replace("replicas: 3", "replicas: 1"))
    svc = lab.get("Service", "web")
    svc["spec"].update(type="NodePort", externalTrafficPolicy=policy)
    svc["spec"]["ports"][0]["nodePort"] = 30080
    lab.apply(svc)
    pod = _pods(lab, "app=web")[0]
    nodes = {n["metadata"]["name"]: n["status"]["addresses"][0]["address"] for n in lab.list("Node")}
    return lab, pod, nodes


def test_node_port_cluster_policy_snats_to_the_node(lab):
    """Via a NodePort with externalTrafficPolicy Cluster, does the pod see the receiving node's IP?"""
    lab, pod, nodes = _node_port_lab("Cluster")
    other = next(n for n in nodes if n != pod["spec"]["nodeName"])
    v = lab.reach("198.51.100.7", nodes[other], 30080)
    assert v and v.endpoint == f"{pod['status']['podIP']}:8080" and v.source_ip == nodes[other]
    trace = lab.trace("198.51.100.7", nodes[other], 30080)
    assert any("SNAT" in h.action for h in trace.hops)


def test_node_port_local_policy_keeps_client_ip_and_drops_elsewhere(lab):
    """With externalTrafficPolicy Local, is the client IP kept on the pod's node and traffic dropped on others?"""
    lab, pod, nodes = _node_port_lab("Local")
    here = pod["spec"]["nodeName"]
    v = lab.reach("198.51.100.7", nodes[here], 30080)
    assert v and v.source_ip == "198.51.100.7"
    other = next(n for n in nodes if n != here)
    assert not lab.reach("198.51.100.7", nodes[other], 30080)


def test_health_check_node_port_answers_like_kube_proxy(lab):
    """Does a LoadBalancer+Local Service's healthCheckNodePort answer 200 with localEndpoints where pods run, else 503?"""
    lab.apply(WEB.replace("replicas: 3", "replicas: 1"))
    svc = lab.get("Service", "web")
    svc["spec"].update(type="LoadBalancer", externalTrafficPolicy="Local")
    lab.apply(svc)
    svc = lab.get("Service", "web")
    port = svc["spec"]["healthCheckNodePort"]
    here = _pods(lab, "app=web")[0]["spec"]["nodeName"]
    for node in lab.list("Node"):
        ip = node["status"]["addresses"][0]["address"]
        resp = lab.http(f"http://{ip}:{port}/healthz")
        if node["metadata"]["name"] == here:
            assert resp.status == 200 and resp.json()["localEndpoints"] == 1
        else:
            assert resp.status == 503 and resp.json()["localEndpoints"] == 0
    lb_ip = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    v = lab.reach(None, lb_ip, 80)
    assert v and v.source_ip == "203.0.113.10"


def test_iptables_mode_spreads_connections_over_endpoints(web_lab):
    """Over many connections does iptables mode use every endpoint, roughly 1/n each?"""
    counts = Counter(web_lab.reach("default/client", "web", 80).endpoint for _ in range(300))
    assert len(counts) == 3 and all(60 < c < 140 for c in counts.values())


def test_ipvs_round_robin_visits_endpoints_in_turn():
    """Does IPVS mode's rr scheduler hand out endpoints in a fixed rotation?"""
    lab = kubelab.connect(proxy_mode="ipvs")
    lab.apply(WEB)
    seq = [lab.reach("default/client", "web", 80).endpoint for _ in range(6)]
    assert seq[:3] == seq[3:] and len(set(seq[:3])) == 3
    assert "rr" in lab.ipvsadm("node-1") and _svc_ip(lab) in lab.ipvsadm("node-1")


def test_client_ip_session_affinity_sticks_until_timeout(web_lab):
    """With sessionAffinity ClientIP, does one client keep its endpoint until the timeout passes?"""
    svc = web_lab.get("Service", "web")
    svc["spec"]["sessionAffinity"] = "ClientIP"
    svc["spec"]["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 60}}
    web_lab.apply(svc)
    first = {web_lab.reach("default/client", "web", 80).endpoint for _ in range(20)}
    assert len(first) == 1


def test_traces_show_the_cni_datapath():
    """Do cross-node traces show flannel's VXLAN (VNI 1, UDP 8472, MTU 1450) and Calico's plain routes?"""
    for cni, expect, mtu in (("flannel", "VXLAN VNI 1, UDP 8472", 1450), ("calico", "learned over BGP", 1500)):
        lab = kubelab.connect(cni=cni)
        lab.apply(WEB)
        client = lab.get("Pod", "client")
        far = next(p for p in _pods(lab, "app=web") if p["spec"]["nodeName"] != client["spec"]["nodeName"])
        trace = lab.trace("default/client", f"default/{far['metadata']['name']}", 8080)
        text = str(trace)
        assert trace and expect in text and trace.mtu == mtu, text
    lab = kubelab.connect(cni="calico", calico_mode="ipip")
    lab.apply(WEB)
    trace = lab.trace("default/client", "web", 80)
    assert trace.mtu == 1480


def test_same_node_traffic_crosses_the_bridge_not_the_tunnel():
    """Does same-node pod traffic on flannel go through cni0 and never through flannel.1?"""
    lab = kubelab.connect(cni="flannel", nodes=1)
    lab.apply(WEB)
    target = _pods(lab, "app=web")[0]["metadata"]["name"]
    devices = [h.device for h in lab.trace("default/client", f"default/{target}", 8080).hops]
    assert "cni0" in devices and "flannel.1" not in devices


def test_flannel_stores_but_does_not_enforce_policies():
    """With flannel, does a deny-all policy leave traffic allowed, and does the verdict say why?"""
    lab = kubelab.connect(cni="flannel")
    lab.apply(WEB)
    lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    v = lab.reach("default/client", "web", 80)
    assert v and any("does not enforce NetworkPolicy" in r for r in v.rules)


def test_policy_is_decided_after_kube_proxy_translation(web_lab):
    """Is a policy on the backend pods enforced for traffic through the Service VIP?"""
    web_lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
                   "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}})
    v = web_lab.reach("default/client", "web", 80)
    assert not v and "default/deny" in v.reason


def test_http_echo_reports_who_answered(lab):
    """Does lab.http through a Service to echoserver pods say which pod served it and what client IP it saw?"""
    lab.apply(WEB.replace("nginxinc/nginx-unprivileged", "registry.k8s.io/echoserver:1.10"))
    resp = lab.http("http://web.default.svc.cluster.local/hello", src="default/client")
    text = resp.text.splitlines()
    hostname = next(line.split(": ", 1)[1] for line in text if line.startswith("Hostname: "))
    assert resp.status == 200 and "\treal path=/hello" in text and hostname.startswith("web-")
    assert f"\tclient_address={lab.get('Pod', 'client')['status']['podIP']}" in text


def test_http_to_nginx_pods_answers_nginxs_page(web_lab):
    """Does lab.http through a Service to nginx pods get what nginx serves: its welcome page, 404 elsewhere?"""
    assert "Welcome to nginx!" in web_lab.http("http://web", src="default/client").text
    assert web_lab.http("http://web/hello", src="default/client").status == 404


def test_iptables_save_names_the_service_chains(web_lab):
    """Does iptables-save on a node show the Service's KUBE-SVC chain with one KUBE-SEP per endpoint?"""
    text = web_lab.iptables_save("node-1")
    assert '"default/web:http cluster IP"' in text
    assert text.count("-j KUBE-SEP-") >= 3 and "--probability 0.3333333333" in text


def test_probe_output_is_deterministic():
    """Do two labs with the same seed print identical traces?"""
    outs = []
    for _ in range(2):
        lab = kubelab.connect(seed=1)
        lab.apply(WEB)
        outs.append(str(lab.trace("default/client", "web", 80)))
    assert outs[0] == outs[1]


def test_dual_stack_connections_use_the_destinations_family():
    """In a dual-stack cluster, does a connection to a Service's IPv6 ClusterIP land on an IPv6 endpoint
    and come from the client's IPv6 address?"""
    lab = kubelab.connect(ip_families=("IPv4", "IPv6"))
    lab.apply(WEB.replace("selector: {app: web}", "selector: {app: web}\n  ipFamilyPolicy: RequireDualStack"))
    svc = lab.get("Service", "web")["spec"]
    assert svc["ipFamilies"] == ["IPv4", "IPv6"] and ":" in svc["clusterIPs"][1]
    client_v6 = lab.get("Pod", "client")["status"]["podIPs"][1]["ip"]
    v = lab.reach("default/client", svc["clusterIPs"][1], 80)
    assert v and v.endpoint.startswith("[fd00:10:244:") and v.source_ip == client_v6
    answer = lab.resolve("web", "AAAA", src="default/client")
    assert [r.value for r in answer.records] == [svc["clusterIPs"][1]]
    slices = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
    assert sorted(s["addressType"] for s in slices) == ["IPv4", "IPv6"]


def test_node_to_node_traffic_is_not_tunnelled():
    """Does traffic to another node's own address go over the underlay, not flannel's VXLAN tunnel?"""
    lab = kubelab.connect(cni="flannel")
    devices = [h.device for h in lab.trace("node/node-1", "node/node-2", 10250).hops]
    assert "flannel.1" not in devices


def test_a_blocked_packet_is_not_delivered(web_lab):
    """When NetworkPolicy drops a connection, does the trace's last hop say dropped, not delivered?"""
    web_lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
                   "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    trace = web_lab.trace("default/client", "web", 80)
    assert not trace and "dropped by NetworkPolicy" in trace.hops[-1].action
    assert not any("delivered" in h.action for h in trace.hops)


def test_no_endpoints_verdict_says_why(lab):
    """When a Service has no endpoints, does the verdict name the cause (selector, named port, readiness)?"""
    lab.apply(WEB.replace("targetPort: http", "targetPort: htp"))
    assert "targetPort 'htp' names no TCP container port" in lab.reach("default/client", "web", 80).reason


def test_host_port_is_reached_through_the_node(lab):
    """Does a pod's hostPort answer on its node's IP, DNATed by the CNI's portmap plugin to the containerPort?"""
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "exporter"},
               "spec": {"nodeName": "node-2", "containers": [{"name": "c", "image": "x",
                                                              "ports": [{"containerPort": 9100, "hostPort": 19100}]}]}})
    node_ip = lab.get("Node", "node-2", None)["status"]["addresses"][0]["address"]
    pod_ip = lab.get("Pod", "exporter")["status"]["podIP"]
    v = lab.reach("node/node-1", node_ip, 19100)
    assert v and v.endpoint == f"{pod_ip}:9100" and any("portmap" in r for r in v.rules)
    assert not lab.reach("node/node-1", node_ip, 9100)


def test_ipvs_mode_names_ipvs_in_the_trace():
    """In IPVS mode, is the Service's NAT hop shown on IPVS, not iptables?"""
    lab = kubelab.connect(proxy_mode="ipvs")
    lab.apply(WEB)
    devices = [h.device for h in lab.trace("default/client", "web", 80).hops]
    assert "IPVS kube-ipvs0" in devices and "iptables nat" not in devices


def test_egress_policy_without_dns_breaks_names_but_not_addresses(web_lab):
    """With a default-deny egress policy that allows web but not DNS, does reaching web by name fail on the
    lookup while its ClusterIP still works?"""
    web_lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "egress"},
                   "spec": {"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"],
                            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}})
    by_name = web_lab.reach("default/client", "web", 80)
    assert not by_name and "DNS query to 10.96.0.10:53/UDP is blocked" in by_name.reason
    assert web_lab.reach("default/client", _svc_ip(web_lab), 80)


def test_etc_hosts_comes_before_dns(lab):
    """Does a name from the pod's hostAliases resolve from /etc/hosts, before cluster DNS is asked?"""
    lab.apply(WEB)
    target = _pods(lab, "app=web")[0]["status"]["podIP"]
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "aliased"},
               "spec": {"hostAliases": [{"ip": target, "hostnames": ["my-app.local"]}],
                        "containers": [{"name": "c", "image": "busybox"}]}})
    v = lab.reach("default/aliased", "my-app.local", 8080)
    assert v and f"/etc/hosts: my-app.local -> {target}" in v.rules


def test_outside_clients_cannot_use_a_cluster_ip(web_lab):
    """Is a ClusterIP unreachable from outside the cluster, with the way out named?"""
    v = web_lab.reach(None, _svc_ip(web_lab), 80)
    assert not v and "only from inside the cluster" in v.reason and "NodePort" in v.reason


def test_ipv6_only_service_by_name_and_ipv6_routes():
    """Does a dual-stack client reach an IPv6-only Service by name (AAAA after A), with IPv6 routes in the trace?"""
    lab = kubelab.connect(ip_families=("IPv4", "IPv6"))
    lab.apply(WEB.replace("selector: {app: web}", "selector: {app: web}\n  ipFamilies: [IPv6]"))
    trace = lab.trace("default/client", "web", 80)
    assert trace and ":" in trace.verdict.endpoint
    text = str(trace)
    assert "/128 dev" in text and "10.244." not in text.split("reply:")[0].split("reason:")[1]


def test_local_load_balancer_spreads_over_every_healthy_node(lab):
    """With externalTrafficPolicy Local, can a new load-balancer connection land on the local endpoints of
    every node that passes the health check, keeping the client's IP?"""
    lab.apply(WEB)
    svc = lab.get("Service", "web")
    svc["spec"].update(type="LoadBalancer", externalTrafficPolicy="Local")
    lab.apply(svc)
    lb_ip = lab.get("Service", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    v = lab.reach("198.51.100.7", lb_ip, 80)
    every = sorted(f"{p['status']['podIP']}:8080" for p in _pods(lab, "app=web"))
    assert v and sorted(v.candidates) == every and v.source_ip == "198.51.100.7"


def test_snat_happens_after_the_routing_decision():
    """Is the masquerade step shown after the node routes the packet (POSTROUTING), not before?"""
    lab, pod, nodes = _node_port_lab("Cluster")
    other = next(n for n in nodes if n != pod["spec"]["nodeName"])
    actions = [h.action for h in lab.trace("198.51.100.7", nodes[other], 30080).hops]
    dnat = next(i for i, a in enumerate(actions) if a.startswith("DNAT"))
    snat = next(i for i, a in enumerate(actions) if a.startswith("SNAT"))
    route = next(i for i, a in enumerate(actions) if a.startswith("route "))
    assert dnat < route < snat
