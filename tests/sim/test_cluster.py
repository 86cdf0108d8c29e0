"""The simulated API server and controllers: what a learner sees after apply/delete."""
import ipaddress

import pytest

import kubelab
from kubelab import ConflictError, NotFoundError, ValidationError

from .conftest import WEB, pod_names


def test_fresh_cluster_looks_like_kubeadm(lab):
    """Does a fresh cluster have 3 nodes with distinct podCIDRs, `kubernetes` at .1 and kube-dns at .10?"""
    nodes = lab.list("Node")
    assert [n["metadata"]["name"] for n in nodes] == ["node-1", "node-2", "node-3"]
    cidrs = [n["spec"]["podCIDR"] for n in nodes]
    assert len(set(cidrs)) == 3 and all(ipaddress.ip_network(c).subnet_of(ipaddress.ip_network("10.244.0.0/16"))
                                        for c in cidrs)
    assert lab.get("Service", "kubernetes")["spec"]["clusterIP"] == "10.96.0.1"
    assert lab.get("Service", "kube-dns", "kube-system")["spec"]["clusterIP"] == "10.96.0.10"
    coredns = lab.list("Pod", "kube-system", selector="k8s-app=kube-dns")
    assert len(coredns) == 2 and all(p["status"]["phase"] == "Running" for p in coredns)
    assert lab.get("Namespace", "default", None)["metadata"]["labels"]["kubernetes.io/metadata.name"] == "default"


def test_pod_ips_come_from_their_nodes_pod_cidr(web_lab):
    """Does every pod get an IP inside the podCIDR of the node it was scheduled to?"""
    cidrs = {n["metadata"]["name"]: ipaddress.ip_network(n["spec"]["podCIDR"]) for n in web_lab.list("Node")}
    for pod in web_lab.list("Pod"):
        assert ipaddress.ip_address(pod["status"]["podIP"]) in cidrs[pod["spec"]["nodeName"]]


def test_deployment_pods_are_named_like_kubernetes_names_them(web_lab):
    """Are Deployment pods named <deployment>-<pod-template-hash>-<5 chars> and labelled with the hash?"""
    pods = web_lab.list("Pod", "default", selector="app=web")
    assert len(pods) == 3
    for pod in pods:
        name, labels = pod["metadata"]["name"], pod["metadata"]["labels"]
        deploy, template_hash, suffix = name.split("-")
        assert deploy == "web" and labels["pod-template-hash"] == template_hash and len(suffix) == 5


def test_deleting_a_deployment_pod_brings_a_new_pod_with_a_new_ip(web_lab):
    """Does the Deployment replace a deleted pod with a new name and a new IP?"""
    before = {p["metadata"]["name"]: p["status"]["podIP"] for p in web_lab.list("Pod", "default", selector="app=web")}
    victim = sorted(before)[0]
    web_lab.delete("Pod", victim)
    web_lab.advance(30)   # the victim terminates for its grace period, then is gone
    after = {p["metadata"]["name"]: p["status"]["podIP"] for p in web_lab.list("Pod", "default", selector="app=web")}
    assert len(after) == 3 and victim not in after
    (new_name,) = set(after) - set(before)
    assert after[new_name] != before[victim]


def test_scaling_and_template_change(web_lab):
    """Does changing replicas scale, and does changing the template replace every pod?"""
    deploy = web_lab.get("Deployment", "web")
    deploy["spec"]["replicas"] = 5
    web_lab.apply(deploy)
    assert len(pod_names(web_lab, "app=web")) == 5
    old = set(pod_names(web_lab, "app=web"))
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    assert "configured" in str(web_lab.apply(deploy))
    live = {p["metadata"]["name"] for p in web_lab.list("Pod", "default", selector="app=web")
            if not p["metadata"].get("deletionTimestamp")}
    assert len(live) == 5 and not old & live
    web_lab.advance(30)   # the old pods finish terminating
    assert not old & set(pod_names(web_lab, "app=web"))


def test_reapplying_the_same_manifest_is_unchanged(web_lab):
    """Does applying the same YAML twice report 'unchanged' and keep pods and IPs?"""
    before = web_lab.list("Pod")
    assert set(verb for _, _, verb in web_lab.apply(WEB)) == {"unchanged"}
    assert web_lab.list("Pod") == before


def test_statefulset_pods_have_ordinal_names_and_stable_hostnames(lab):
    """Are StatefulSet pods <name>-0..n-1 with hostname = pod name and subdomain = serviceName?"""
    lab.apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
               "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}},
                                     "spec": {"containers": [{"name": "pg", "image": "postgres"}]}}}})
    pods = lab.list("Pod", "default", selector="app=db")
    assert [p["metadata"]["name"] for p in pods] == ["db-0", "db-1"]
    assert [(p["spec"]["hostname"], p["spec"]["subdomain"]) for p in pods] == [("db-0", "db"), ("db-1", "db")]
    assert lab.hostname("default/db-0", fqdn=True) == "db-0.db.default.svc.cluster.local"


def test_host_network_pod_takes_its_nodes_ip(lab):
    """Does a hostNetwork pod share its node's IP?"""
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "agent"},
               "spec": {"hostNetwork": True, "nodeName": "node-2", "containers": [{"name": "a", "image": "x"}]}})
    node = lab.get("Node", "node-2", None)
    internal = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    assert lab.get("Pod", "agent")["status"]["podIP"] == internal


def test_pinned_ip_is_honoured_and_a_clash_is_refused(lab):
    """Is a pinned status.podIP kept, and is a second pod pinning the same IP refused with the field named?"""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}, "status": {"podIP": "10.244.7.7"}}
    lab.apply(pod)
    assert lab.get("Pod", "a")["status"]["podIPs"] == [{"ip": "10.244.7.7"}]
    pod["metadata"]["name"] = "b"
    with pytest.raises(ConflictError) as err:
        lab.apply(pod)
    assert "status.podIPs[0].ip" in str(err.value) and "default/a" in str(err.value)


def test_pinning_an_automatically_used_ip_readdresses_the_other_pod(lab):
    """Does pinning an IP the simulator already gave a pod move that pod to a new IP instead of failing?"""
    coredns = lab.list("Pod", "kube-system", selector="k8s-app=kube-dns")[0]
    taken = coredns["status"]["podIP"]
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pinned"},
               "spec": {"containers": [{"name": "c", "image": "x"}]}, "status": {"podIP": taken}})
    moved = lab.get("Pod", coredns["metadata"]["name"], "kube-system")
    assert moved["status"]["podIP"] != taken and lab.get("Pod", "pinned")["status"]["podIP"] == taken


def test_apply_is_all_or_nothing(lab):
    """Does a multi-document apply with one bad document change nothing, allocations included?"""
    good = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
            "spec": {"type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80, "nodePort": 30080}]}}
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad"},
           "spec": {"ports": [{"port": 80, "nodePort": 80}], "type": "NodePort"}}
    with pytest.raises(ValidationError) as err:
        lab.apply([good, bad])
    assert "spec.ports[0].nodePort" in str(err.value)
    with pytest.raises(NotFoundError):
        lab.get("Service", "np")
    lab.apply(good)   # 30080 was not left allocated by the failed apply
    assert lab.get("Service", "np")["spec"]["ports"][0]["nodePort"] == 30080


def test_deleting_a_service_frees_its_cluster_ip_and_node_port(lab):
    """Can a deleted Service's ClusterIP and NodePort be pinned again by a new Service?"""
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"type": "NodePort", "clusterIP": "10.96.5.5", "selector": {"app": "x"},
                    "ports": [{"port": 80, "nodePort": 30500}]}}
    lab.apply(svc)
    with pytest.raises(ConflictError):
        lab.apply({**svc, "metadata": {"name": "t"}})
    lab.delete("Service", "s")
    lab.apply({**svc, "metadata": {"name": "t"}})


def test_load_balancer_gets_an_external_ip_from_the_cloud(lab):
    """Does the simulated cloud fill status.loadBalancer.ingress, and release it on delete?"""
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
           "spec": {"type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 80}]}}
    lab.apply(svc)
    ingress = lab.get("Service", "lb")["status"]["loadBalancer"]["ingress"]
    assert ipaddress.ip_address(ingress[0]["ip"]) in ipaddress.ip_network("172.18.255.200/29")
    lab.delete("Service", "lb")
    lab.apply(svc)
    assert lab.get("Service", "lb")["status"]["loadBalancer"]["ingress"] == ingress


def test_endpointslices_follow_pod_readiness(web_lab):
    """When a pod turns not-ready, does its endpoint stay in the slice with ready=false?"""
    name = pod_names(web_lab, "app=web")[0]
    pod = web_lab.get("Pod", name)
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    web_lab.apply(pod)
    slices = web_lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
    conditions = {e["targetRef"]["name"]: e["conditions"]["ready"] for s in slices for e in s["endpoints"]}
    assert conditions[name] is False and sum(conditions.values()) == 2


def test_pod_spec_is_immutable(web_lab):
    """Is changing a running pod's ports refused with the API server's message and a fix?"""
    pod = web_lab.get("Pod", "client")
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    with pytest.raises(ValidationError) as err:
        web_lab.apply(pod)
    assert "Forbidden: pod updates may not change fields" in str(err.value)


def test_objects_in_a_missing_namespace_are_refused(lab):
    """Does a Pod in a namespace that does not exist get a NotFound that says to create it first?"""
    with pytest.raises(NotFoundError) as err:
        lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "nope"},
                   "spec": {"containers": [{"name": "c", "image": "x"}]}})
    assert 'namespaces "nope" not found' in str(err.value)


@pytest.mark.parametrize("doc,field", [
    ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"},
      "spec": {"containers": [{"name": "c", "image": "x"}]}}, "metadata.name"),
    ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "my app"}},
      "spec": {"containers": [{"name": "c", "image": "x"}]}}, "metadata.labels"),
    ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
      "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 70000}]}]}},
     "spec.containers[0].ports[0].containerPort"),
    ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
      "spec": {"clusterIP": "10.200.0.5", "ports": [{"port": 80}]}}, "spec.clusterIP"),
    ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
      "spec": {"ports": [{"port": 80}, {"port": 81}]}}, "spec.ports[0].name"),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
      "spec": {"selector": {"matchLabels": {"app": "a"}},
               "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
     "spec.template.metadata.labels"),
])
def test_learner_mistakes_name_the_field(lab, doc, field):
    """Does each classic mistake raise a kubelab error naming the object and the field?"""
    with pytest.raises(kubelab.KubelabError) as err:
        lab.apply(doc)
    assert field in str(err.value), str(err.value)
    assert doc["metadata"]["name"] in str(err.value)


def test_same_seed_same_cluster():
    """Do two labs built with the same seed and manifests hold byte-identical objects?"""
    a, b = kubelab.connect(seed=3), kubelab.connect(seed=3)
    a.apply(WEB)
    b.apply(WEB)
    assert a.list("Pod") == b.list("Pod") and a.list("Service") == b.list("Service")


def test_empty_cluster_then_nodes():
    """With nodes=0, do applied Node objects make exactly that cluster, and do waiting pods then start?"""
    lab = kubelab.connect(nodes=0)
    assert lab.list("Node") == []
    assert {p["status"]["phase"] for p in lab.list("Pod", "kube-system")} == {"Pending"}
    lab.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"},
               "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.10"}]}})
    assert [n["metadata"]["name"] for n in lab.list("Node")] == ["node-a"]
    assert {p["status"]["phase"] for p in lab.list("Pod", "kube-system")} == {"Running"}


def test_accepted_but_broken_services_get_warnings(lab):
    """Does apply warn (as kubectl prints warnings) when a Service's selector or named targetPort matches nothing?"""
    result = lab.apply(WEB.replace("targetPort: http", "targetPort: htp"))
    assert any("spec.ports[0].targetPort" in w and "'htp'" in w and "http" in w for w in result.warnings)
    assert "Warning: Service default/web" in str(result)
    other = kubelab.connect()
    result = other.apply(WEB.replace("selector: {app: web}", "selector: {app: wbe}"))
    assert any("spec.selector" in w and "app=wbe matches no pod" in w and "app=web" in w for w in result.warnings)
    assert not kubelab.connect().apply(WEB).warnings


def _host_pod(name, node, port, **extra):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"hostNetwork": True, "nodeName": node,
                     "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": port, **extra}]}]}}


def test_host_network_ports_claim_the_nodes_port(lab):
    """Does a hostNetwork pod's hostPort default to its containerPort, and does a second one on the same
    node and port get rejected by the kubelet (NodePorts)?"""
    lab.apply(_host_pod("agent-a", "node-1", 9100))
    assert lab.get("Pod", "agent-a")["spec"]["containers"][0]["ports"][0]["hostPort"] == 9100
    lab.apply(_host_pod("agent-b", "node-1", 9100))
    status = lab.get("Pod", "agent-b")["status"]
    assert status["phase"] == "Failed" and status["reason"] == "NodePorts"
    with pytest.raises(ValidationError) as err:
        lab.apply(_host_pod("agent-c", "node-2", 80, hostPort=9090))
    assert "spec.containers[0].ports[0].hostPort" in str(err.value) and "must match `containerPort`" in str(err.value)


def test_scheduler_honours_node_selector_and_free_host_ports(lab):
    """Does the scheduler place a pod only on nodes matching its nodeSelector, and leave it Pending with the
    scheduler's message when none fits?"""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pinned"},
           "spec": {"nodeSelector": {"kubernetes.io/hostname": "node-2"}, "containers": [{"name": "c", "image": "x"}]}}
    lab.apply(pod)
    assert lab.get("Pod", "pinned")["spec"]["nodeName"] == "node-2"
    pod["metadata"]["name"] = "nowhere"
    pod["spec"]["nodeSelector"] = {"disk": "ssd"}
    lab.apply(pod)
    nowhere = lab.get("Pod", "nowhere")
    assert nowhere["status"]["phase"] == "Pending" and "nodeName" not in nowhere["spec"]
    assert "3 node(s) didn't match Pod's node affinity/selector" in nowhere["status"]["conditions"][0]["message"]
    for i in range(3):
        lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"hp-{i}"},
                   "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8088}]}]}})
    assert len({lab.get("Pod", f"hp-{i}")["spec"]["nodeName"] for i in range(3)}) == 3
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hp-3"},
               "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8088}]}]}})
    assert "didn't have free ports" in lab.get("Pod", "hp-3")["status"]["conditions"][0]["message"]


def test_a_reapplied_pod_without_its_owner_is_adopted_not_duplicated(web_lab):
    """When a learner re-applies a Deployment's pod without ownerReferences, does the Deployment adopt it
    (as ReplicaSets adopt matching orphans) instead of creating a fourth pod?"""
    pod = web_lab.get("Pod", pod_names(web_lab, "app=web")[0])
    bare = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod["metadata"]["name"], "labels": pod["metadata"]["labels"]}, "spec": pod["spec"]}
    web_lab.apply(bare)
    assert len(pod_names(web_lab, "app=web")) == 3
    assert web_lab.get("Pod", pod["metadata"]["name"])["metadata"]["ownerReferences"][0]["name"] == "web"


def test_required_node_affinity_is_a_hard_constraint(lab):
    """Does required nodeAffinity place the pod only on a matching node, and leave it Pending when none matches?"""
    def pod(name, values):
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "kubernetes.io/hostname", "operator": "In", "values": values}]}]}}},
                         "containers": [{"name": "c", "image": "x"}]}}
    lab.apply([pod("on-2", ["node-2"]), pod("nowhere", ["node-9"])])
    assert lab.get("Pod", "on-2")["spec"]["nodeName"] == "node-2"
    assert lab.get("Pod", "nowhere")["status"]["phase"] == "Pending"
