"""What the lessons' kubectl cells show, against `kubelab serve`: the legacy Endpoints columns and their
deprecation warning, and a Deployment's counts while a scale-down's pods terminate."""
from .manifests import APP


def test_get_endpoints_prints_ready_addresses_with_ports_and_the_deprecation_warning(kubectl, lab):
    """Does `kubectl get endpoints web` show ENDPOINTS as IP:port of the ready pods (kube-apiserver's
    printEndpoints), with v1.33's "v1 Endpoints is deprecated" warning on stderr?"""
    kubectl.write("app.yaml", APP.replace("replicas: 2", "replicas: 4"))
    kubectl.ok("apply", "-f", "app.yaml")
    result = kubectl("get", "endpoints", "web")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["NAME", "ENDPOINTS", "AGE"]
    target_port = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")[0]["ports"][0]["port"]
    ips = sorted(p["status"]["podIP"] for p in lab.list("Pod", "default", selector="app=web"))
    shown = row.split()[1]
    assert shown == ",".join(f"{ip}:{target_port}" for ip in ips[:3]), row   # sorted, as the controller writes them
    assert row.split()[2:5] == ["+", "1", "more..."], row
    assert "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice" in result.stderr
    assert "Warning" not in kubectl("get", "endpointslices").stderr


def test_get_endpoints_of_a_service_without_pods_is_none(kubectl, lab):
    """Does a Service whose selector matches nothing print <none> (no subsets) under ENDPOINTS?"""
    kubectl.write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: nobody}\n"
                              "spec:\n  selector: {app: nobody}\n  ports: [{port: 80}]\n")
    kubectl.ok("apply", "-f", "svc.yaml")
    assert kubectl.ok("get", "endpoints", "nobody").splitlines()[1].split()[1] == "<none>"


def test_scale_down_counts_only_the_pods_that_are_not_terminating(kubectl, lab):
    """After `kubectl scale --replicas=1`, does `kubectl get deploy` show 1/1 at once (DeploymentStatus counts
    non-terminating pods) while the two removed pods are still Terminating for their grace period?"""
    kubectl.write("app.yaml", APP.replace("replicas: 2", "replicas: 3"))
    kubectl.ok("apply", "-f", "app.yaml")
    kubectl.ok("scale", "deployment", "web", "--replicas=1")
    assert kubectl.ok("get", "deploy", "web").splitlines()[1].split()[1:4] == ["1/1", "1", "1"]
    statuses = [r.split()[2] for r in kubectl.ok("get", "pods", "-l", "app=web").splitlines()[1:]]
    assert sorted(statuses) == ["Running", "Terminating", "Terminating"]


def test_ip_route_on_a_calico_node_has_one_route_per_local_pod_like_the_trace():
    """Does `ip route` in a host-network pod on a Calico (BGP) node list a /32 route per local pod to the
    same host-side veth the trace names, a blackhole for the node's own block, and BGP routes to the others?"""
    import kubelab
    from kubelab.serve.podexec import run_in_pod

    lab = kubelab.connect(seed=0, cni="calico", calico_mode="bgp")
    lab.apply(APP)
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "agent"},
               "spec": {"nodeName": "node-1", "hostNetwork": True, "containers": [{"name": "a", "image": "busybox"}]}})
    agent = lab.cluster.find("Pod", "default/agent")
    routes = run_in_pod(lab, agent, "a", ["ip", "route"]).stdout.splitlines()
    local = [p for p in lab.list("Pod") if p["spec"]["nodeName"] == "node-1" and not p["spec"].get("hostNetwork")]
    assert local
    for pod in local:
        key = f'{pod["metadata"]["namespace"]}/{pod["metadata"]["name"]}'
        hop = next(h for h in lab.trace("node/node-2", key, port=80).hops if h.device == "routing table")
        veth = hop.action.split(" dev ")[1].split()[0]
        assert f'{pod["status"]["podIP"]} dev {veth} scope link' in routes
    assert f"blackhole {lab.pod_cidr_of('node-1')} proto bird" in routes
    assert f"{lab.pod_cidr_of('node-2')} via 192.168.0.12 dev eth0 proto bird" in routes


def test_ready_counts_native_sidecars_but_not_plain_init_containers(kubectl, lab):
    """Does READY count an init container with restartPolicy Always (a native sidecar, as Istio injects
    istio-proxy) as kubectl's printPod does, and leave a run-to-completion init container out?"""
    kubectl.write("pod.yaml", """\
apiVersion: v1
kind: Pod
metadata: {name: meshed}
spec:
  initContainers:
  - {name: init, image: busybox, command: ["true"]}
  - {name: proxy, image: envoy, restartPolicy: Always}
  containers:
  - {name: app, image: nginx}
""")
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "pod.yaml", "-f", "app.yaml")
    assert kubectl.ok("get", "pod", "meshed").splitlines()[1].split()[1:3] == ["2/2", "Running"]
    plain = kubectl.ok("get", "pod", "client").splitlines()[1].split()
    assert plain[1] == "1/1"
