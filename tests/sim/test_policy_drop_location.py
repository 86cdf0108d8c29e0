"""Where does a trace say NetworkPolicy dropped the packet? The source pod's egress policy is enforced on its
own node, at the host end of its veth after kube-proxy's DNAT (the policy sees the endpoint, not the Service
IP), so the packet never crosses the network; the destination's ingress policy drops it on arrival."""
import kubelab
from kubelab.course.exercises._support import client_pod, web_deployment, web_service


def _deny(name: str, direction: str, selector: dict) -> dict:
    types = {"egress": "Egress", "ingress": "Ingress"}[direction]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
            "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": [types]}}


def _lab(policy):
    lab = kubelab.connect(nodes=3)
    lab.apply([web_deployment(replicas=3, port_name="http"), web_service(),
               client_pod(labels={"app": "client"}), policy])
    return lab


def test_egress_denied_packet_stops_on_the_source_node_after_dnat():
    lab = _lab(_deny("client-deny", "egress", {"app": "client"}))
    vip = lab.get("Service", "web")["spec"]["clusterIP"]       # by address: the policy denies DNS too
    trace = lab.trace("default/client", vip, 80)
    node = lab.get("Pod", "client")["spec"]["nodeName"]
    assert not trace.verdict.allowed
    assert {h.where for h in trace.hops} == {"pod default/client", f"node {node}"}
    assert trace.hops[-2].action.startswith("DNAT")              # the policy saw the endpoint
    assert "egress" in trace.hops[-1].action and trace.hops[-1].device == "iptables filter"
    assert trace.hops[-1].dst == trace.verdict.endpoint.rsplit(":", 1)[0]


def test_ingress_denied_packet_crosses_the_network_and_stops_at_the_pod():
    lab = _lab(_deny("web-deny", "ingress", {"app": "web"}))
    trace = lab.trace("default/client", "web", 80)
    assert not trace.verdict.allowed
    assert trace.hops[-1].where.startswith("pod default/web-")
    assert "before delivery" in trace.hops[-1].action
