"""The real kubectl v1.35 against `kubelab serve`: what it prints and its exit codes."""
import json
import re

import yaml

from .manifests import APP, BAD_NODEPORT, DENY_WEB


def test_get_pods_all_namespaces_wide_shows_the_simulators_addresses_and_nodes(kubectl, lab):
    """Does `kubectl get pods -A -o wide` list every pod with the IP and node the simulator gave it?"""
    out = kubectl.ok("get", "pods", "-A", "-o", "wide")
    header, *rows = out.splitlines()
    assert header.split()[:6] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "NOMINATED NODE" in header and "IP" in header
    pods = lab.list("Pod")
    assert len(rows) == len(pods)
    for pod in pods:
        row = next(r.split() for r in rows if r.split()[1] == pod["metadata"]["name"])
        assert row[0] == pod["metadata"]["namespace"]
        assert row[2:4] == ["1/1", "Running"]
        assert row[6] == pod["status"]["podIP"] and row[7] == pod["spec"]["nodeName"]


def test_apply_creates_then_reports_unchanged_then_configured(kubectl, lab):
    """Does `kubectl apply -f` create, then say unchanged, then configure a changed Deployment (strategic merge)?"""
    kubectl.write("app.yaml", APP)
    assert kubectl.ok("apply", "-f", "app.yaml").splitlines() == [
        "deployment.apps/web created", "service/web created", "pod/client created"]
    assert kubectl.ok("apply", "-f", "app.yaml").splitlines() == [
        "deployment.apps/web unchanged", "service/web unchanged", "pod/client unchanged"]
    kubectl.write("app2.yaml", APP.replace("replicas: 2", "replicas: 3").replace("nginx:1.27", "nginx:1.28"))
    assert "deployment.apps/web configured" in kubectl.ok("apply", "-f", "app2.yaml")
    deployment = lab.get("Deployment", "web")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    applied = json.loads(deployment["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert applied["spec"]["replicas"] == 3
    # the rollout's old pods terminate for their grace period (30 s) while the three new ones run
    pods = lab.list("Pod", "default", selector="app=web")
    running = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
    assert [p["spec"]["containers"][0]["image"] for p in running] == ["nginx:1.28"] * 3
    terminating = {p["metadata"]["name"] for p in pods} - {p["metadata"]["name"] for p in running}
    assert terminating and all(p["spec"]["containers"][0]["image"] == "nginx:1.27"
                               for p in pods if p["metadata"]["name"] in terminating)
    rows = {r.split()[0]: r.split()[2] for r in kubectl.ok("get", "pods", "-l", "app=web").splitlines()[1:]}
    assert {name for name, status in rows.items() if status == "Terminating"} == terminating


def test_get_services_and_slices_print_kube_apiserver_columns(kubectl):
    """Do Services and EndpointSlices print TYPE/CLUSTER-IP/PORT(S) and ADDRESSTYPE/PORTS/ENDPOINTS?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    svc = kubectl.ok("get", "svc", "web", "-o", "wide").splitlines()
    assert svc[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    cells = svc[1].split()
    assert cells[:2] == ["web", "ClusterIP"] and cells[3:5] == ["<none>", "80/TCP"] and cells[-1] == "app=web"
    slices = kubectl.ok("get", "endpointslices", "-l", "kubernetes.io/service-name=web").splitlines()
    assert slices[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert len(slices) == 2 and slices[1].split()[1:3] == ["IPv4", "80"]
    assert len(slices[1].split()[3].split(",")) == 2


def test_output_yaml_json_and_jsonpath_are_the_stored_object(kubectl, lab):
    """Do -o yaml, -o json and -o jsonpath show the object the Lab stores?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    as_yaml = yaml.safe_load(kubectl.ok("get", "svc", "web", "-o", "yaml"))
    as_json = json.loads(kubectl.ok("get", "svc", "web", "-o", "json"))
    stored = lab.get("Service", "web")
    assert as_yaml["spec"]["clusterIP"] == as_json["spec"]["clusterIP"] == stored["spec"]["clusterIP"]
    ip = kubectl.ok("get", "pod", "client", "-o", "jsonpath={.status.podIP}")
    assert ip == lab.get("Pod", "client")["status"]["podIP"]


def test_label_selector_and_show_labels(kubectl):
    """Does `kubectl label` add a label that `-l` then selects and `--show-labels` shows?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    assert kubectl.ok("label", "pod", "client", "env=lab").strip() == "pod/client labeled"
    selected = kubectl.ok("get", "pods", "-l", "env=lab", "--show-labels").splitlines()
    assert len(selected) == 2 and selected[1].split()[0] == "client"
    assert selected[1].split()[-1] == "app=client,env=lab"
    assert "No resources found" in kubectl("get", "pods", "-l", "env in (prod)").stderr


def test_scale_changes_the_pods_the_simulator_runs(kubectl, lab):
    """Does `kubectl scale` (the scale subresource) change how many pods the Deployment runs?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    assert kubectl.ok("scale", "deployment", "web", "--replicas=4").strip() == "deployment.apps/web scaled"
    assert len(lab.list("Pod", "default", selector="app=web")) == 4
    ready = kubectl.ok("get", "deploy", "web").splitlines()[1].split()
    assert ready[1:4] == ["4/4", "4", "4"]


def _with_grace_period(manifests: str, seconds: int) -> str:
    """APP with spec.terminationGracePeriodSeconds set on the Deployment's pod template and on the client pod."""
    return manifests.replace("    spec:\n      containers:", f"    spec:\n      terminationGracePeriodSeconds: {seconds}"
                             "\n      containers:").replace(
        "spec:\n  containers: [{name: client", f"spec:\n  terminationGracePeriodSeconds: {seconds}\n"
        "  containers: [{name: client")


def test_delete_removes_objects_and_get_then_reports_not_found(kubectl, lab):
    """Does `kubectl delete -f` delete every object and wait out the pods' grace period (1 s here), after which
    `get` fails with NotFound and exit 1?"""
    manifests = _with_grace_period(APP, 1)
    assert manifests.count("terminationGracePeriodSeconds: 1") == 2
    kubectl.write("app.yaml", manifests)
    kubectl.ok("apply", "-f", "app.yaml")
    out = kubectl.ok("delete", "-f", "app.yaml")
    assert 'deployment.apps "web" deleted' in out and 'pod "client" deleted' in out
    assert lab.list("Pod", "default", selector="app") == []
    result = kubectl("get", "pod", "client")
    assert result.returncode == 1
    assert result.stderr.strip() == 'Error from server (NotFound): pods "client" not found'


def test_delete_pod_waits_out_the_grace_period_while_get_shows_terminating(kubectl, lab):
    """Does `kubectl delete pod` return only once the pod's grace period has passed, with `kubectl get` in
    between showing it Terminating, and does --grace-period=0 --force remove a pod at once?"""
    import os
    import subprocess
    import time

    kubectl.write("app.yaml", _with_grace_period(APP, 5))
    kubectl.ok("apply", "-f", "app.yaml")
    deleted_at = lab.cluster.now
    env = {**os.environ, "KUBECONFIG": str(kubectl.kubeconfig), "HOME": str(kubectl.workdir)}
    deleting = subprocess.Popen([kubectl.binary, "--cache-dir", str(kubectl.cache), "delete", "pod", "client"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        while "deletionTimestamp" not in lab.get("Pod", "client")["metadata"]:
            assert deleting.poll() is None, deleting.stderr.read()
            time.sleep(0.05)   # polls the lab until kubectl's DELETE has arrived (no time is asserted)
        row = kubectl.ok("get", "pod", "client").splitlines()[1].split()
        assert row[2] == "Terminating" and deleting.poll() is None
        out, err = deleting.communicate(timeout=60)
    finally:
        deleting.kill()
    assert deleting.returncode == 0, err
    assert out.strip() == 'pod "client" deleted from default namespace'
    assert lab.cluster.now - deleted_at >= 5   # simulated time followed the wall clock through the grace period
    assert kubectl("get", "pod", "client").returncode == 1
    web = lab.list("Pod", "default", selector="app=web")[0]["metadata"]["name"]
    assert kubectl.ok("delete", "pod", web, "--grace-period=0", "--force").strip() == \
        f'pod "{web}" force deleted from default namespace'
    assert all(p["metadata"]["name"] != web for p in lab.list("Pod", "default"))


def test_invalid_object_is_422_naming_the_field(kubectl, lab):
    """Is a Service the simulator's admission rejects reported as kube-apiserver does (field named), with nothing stored?"""
    kubectl.write("bad.yaml", BAD_NODEPORT)
    result = kubectl("apply", "-f", "bad.yaml")
    assert result.returncode == 1
    assert result.stderr.startswith('The Service "bad" is invalid: spec.ports[0].nodePort: Invalid value: 80')
    assert "30000-32767" in result.stderr
    assert all(s["metadata"]["name"] != "bad" for s in lab.list("Service"))


def test_create_twice_is_already_exists(kubectl):
    """Does a second `kubectl create -f` fail with AlreadyExists for each object?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("create", "-f", "app.yaml")
    result = kubectl("create", "-f", "app.yaml")
    assert result.returncode == 1
    assert 'Error from server (AlreadyExists): error when creating "app.yaml": pods "client" already exists' \
        in result.stderr


def test_describe_service_shows_endpoints_from_its_slices(kubectl, lab):
    """Does `kubectl describe svc` show the endpoints the EndpointSlice controller computed?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    out = kubectl.ok("describe", "svc", "web")
    ips = sorted(p["status"]["podIP"] for p in lab.list("Pod", "default", selector="app=web"))
    endpoints = next(line for line in out.splitlines() if line.startswith("Endpoints:")).split()[1]
    assert sorted(e.rsplit(":", 1)[0] for e in endpoints.split(",")) == ips
    assert f"IP:                       {lab.get('Service', 'web')['spec']['clusterIP']}" in out


def test_describe_pod_and_networkpolicy(kubectl, lab):
    """Does `kubectl describe` work for a pod and a NetworkPolicy (what it selects, what it isolates)?"""
    kubectl.write("app.yaml", APP + "---\n" + DENY_WEB)
    kubectl.ok("apply", "-f", "app.yaml")
    pod = kubectl.ok("describe", "pod", "client")
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in pod.splitlines()
              if line and not line.startswith(" ") and ":" in line}
    assert fields["Status"] == "Running"
    assert fields["Node"] == f"{lab.get('Pod', 'client')['spec']['nodeName']}/{lab.get('Pod', 'client')['status']['hostIP']}"
    policy = kubectl.ok("describe", "networkpolicy", "deny-web")
    assert re.search(r"PodSelector: +app=web", policy)
    assert "Allowing ingress traffic:\n    <none> (Selected pods are isolated for ingress connectivity)" in policy


def test_server_side_apply_creates_and_updates(kubectl, lab):
    """Does `kubectl apply --server-side` create missing objects and update existing ones?"""
    kubectl.write("app.yaml", APP)
    assert "deployment.apps/web serverside-applied" in kubectl.ok("apply", "--server-side", "-f", "app.yaml")
    kubectl.write("app2.yaml", APP.replace("replicas: 2", "replicas: 1"))
    kubectl.ok("apply", "--server-side", "-f", "app2.yaml")
    assert lab.get("Deployment", "web")["spec"]["replicas"] == 1


def test_rollout_status_and_wait_use_watch_list(kubectl):
    """Do `kubectl rollout status` and `kubectl wait` finish (the watch-list bookmark is sent)?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    assert kubectl.ok("rollout", "status", "deployment/web", "--timeout=10s").strip() == \
        'deployment "web" successfully rolled out'
    assert kubectl.ok("wait", "--for=condition=Ready", "pod/client", "--timeout=10s").strip() == \
        "pod/client condition met"


def test_run_expose_and_annotate(kubectl, lab):
    """Do `kubectl run`, `expose` and `annotate` create and change objects in the simulator?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    assert kubectl.ok("run", "tool", "--image=busybox:1.36", "--", "sleep", "infinity").strip() == "pod/tool created"
    assert lab.get("Pod", "tool")["status"]["phase"] == "Running"
    assert kubectl.ok("expose", "deployment", "web", "--name=web2", "--port=8080", "--target-port=80").strip() == \
        "service/web2 exposed"
    assert lab.get("Service", "web2")["spec"]["selector"] == {"app": "web"}
    kubectl.ok("annotate", "pod", "client", "team=net")
    assert lab.get("Pod", "client")["metadata"]["annotations"]["team"] == "net"


def test_api_resources_lists_every_registered_kind(kubectl):
    """Does `kubectl api-resources` list every kind the simulator serves, with short names?"""
    from kubelab.api import kinds

    out = kubectl.ok("api-resources", "-o", "name")
    names = set(out.split())
    for kind in kinds.all_kinds():
        group = kind.api_version.rpartition("/")[0]
        plural = kind.plural.split(".")[0]   # "gateways.networking.istio.io" is served as gateways
        assert (f"{plural}.{group}" if group else plural) in names
    assert "svc" in kubectl.ok("api-resources").split()


def test_explain_prints_the_real_schema(kubectl):
    """Does `kubectl explain` print Kubernetes' own field documentation?"""
    out = kubectl.ok("explain", "networkpolicy.spec.ingress")
    assert "KIND:       NetworkPolicy" in out and "FIELD: ingress <[]NetworkPolicyIngressRule>" in out
    assert "ingress is a list of ingress rules" in out


def test_deleting_a_system_namespace_is_forbidden(kubectl):
    """Is deleting the default namespace refused as Forbidden?"""
    result = kubectl("delete", "namespace", "default")
    assert result.returncode == 1
    assert result.stderr.startswith('Error from server (Forbidden): namespaces "default" is forbidden')


def test_create_generators_send_protobuf_that_the_server_decodes(kubectl, lab):
    """Do `kubectl create deployment|service|configmap|namespace` (protobuf bodies) create the objects they describe?"""
    assert kubectl.ok("create", "deployment", "web2", "--image=nginx:1.27", "--replicas=3", "--port=80").strip() == \
        "deployment.apps/web2 created"
    deployment = lab.get("Deployment", "web2")
    assert deployment["spec"]["replicas"] == 3
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert (container["image"], container["ports"][0]["containerPort"]) == ("nginx:1.27", 80)
    assert len(lab.list("Pod", "default", selector="app=web2")) == 3
    kubectl.ok("create", "service", "nodeport", "web2", "--tcp=8080:80", "--node-port=30080")
    port = lab.get("Service", "web2")["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], port["nodePort"]) == (8080, 80, 30080)
    kubectl.ok("create", "configmap", "cfg", "--from-literal=mode=lab")
    assert lab.get("ConfigMap", "cfg")["data"] == {"mode": "lab"}
    kubectl.ok("create", "namespace", "team-a")
    assert lab.get("Namespace", "team-a")["metadata"]["name"] == "team-a"


def test_debug_node_gives_a_host_network_pod_that_shows_the_nodes_rules(kubectl, lab):
    """Does `kubectl debug node/node-1` create a host-network pod on node-1 whose iptables-save is node-1's?"""
    out = kubectl.ok("debug", "node/node-1", "--image=busybox:1.36", "--profile=general")
    name = out.split("Creating debugging pod ", 1)[1].split()[0]
    pod = lab.get("Pod", name)
    assert pod["spec"]["nodeName"] == "node-1" and pod["spec"]["hostNetwork"] is True
    assert kubectl.ok("exec", name, "--", "iptables-save") == lab.iptables_save("node-1")
    routes = kubectl.ok("exec", name, "--", "ip", "route").splitlines()
    assert routes[0].startswith("default via ") and any(line.endswith("proto bird") for line in routes)


def test_events_of_scheduling_and_containers(kubectl, lab):
    """Do `kubectl get events` and `describe pod` show the scheduler's and kubelet's events for the pod's state?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    node = lab.get("Pod", "client")["spec"]["nodeName"]
    rows = [line.split(None, 4) for line in kubectl.ok("get", "events").splitlines()[1:]]
    client_rows = [(r[2], r[4]) for r in rows if r[3] == "pod/client"]
    assert client_rows == [("Scheduled", f"Successfully assigned default/client to {node}"),
                           ("Pulled", 'Container image "busybox:1.36" already present on machine'),
                           ("Created", "Created container: client"), ("Started", "Started container client")]
    assert any(r[2] == "ScalingReplicaSet" and r[3] == "deployment/web" for r in rows)
    described = kubectl.ok("describe", "pod", "client")
    assert f"Successfully assigned default/client to {node}" in described.split("Events:", 1)[1]


def test_unschedulable_pod_has_a_failed_scheduling_warning(kubectl):
    """Does a pod whose nodeSelector matches no node show a FailedScheduling warning event?"""
    kubectl.write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: stuck}\nspec:\n"
                              "  nodeSelector: {disk: ssd}\n  containers: [{name: c, image: busybox}]\n")
    kubectl.ok("apply", "-f", "pod.yaml")
    assert kubectl.ok("get", "pod", "stuck").splitlines()[1].split()[1:3] == ["0/1", "Pending"]
    warning = [line for line in kubectl.ok("get", "events").splitlines() if "FailedScheduling" in line]
    assert len(warning) == 1 and "node(s) didn't match Pod's node affinity/selector" in warning[0]


def test_replace_and_server_dry_run(kubectl, lab):
    """Does `kubectl replace -f` swap the object, and `apply --dry-run=server` report without changing anything?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("create", "-f", "app.yaml")
    kubectl.write("app2.yaml", APP.replace("replicas: 2", "replicas: 4"))
    assert "deployment.apps/web replaced" in kubectl.ok("replace", "-f", "app2.yaml")
    assert lab.get("Deployment", "web")["spec"]["replicas"] == 4
    kubectl.write("app3.yaml", APP.replace("replicas: 2", "replicas: 1"))
    assert "deployment.apps/web configured (server dry run)" in kubectl.ok("apply", "--dry-run=server", "-f", "app3.yaml")
    assert lab.get("Deployment", "web")["spec"]["replicas"] == 4
    assert len(lab.list("Pod", "default", selector="app=web")) == 4


def test_describe_node_get_all_and_sort_by(kubectl, lab):
    """Do `describe node` (lease, capacity, pods), `get all` and `get --sort-by` (full objects in rows) work?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    node = kubectl.ok("describe", "node", "node-1")
    assert "HolderIdentity:  node-1" in node and "PodCIDR:                      " + lab.pod_cidr_of("node-1") in node
    on_node = [p["metadata"]["name"] for p in lab.list("Pod") if p["spec"].get("nodeName") == "node-1"]
    assert f"Non-terminated Pods:          ({len(on_node)} in total)" in node
    every = kubectl.ok("get", "all")
    assert "deployment.apps/web" in every and "service/web" in every and "pod/client" in every
    rows = kubectl.ok("get", "pods", "-o", "wide", "--sort-by=.status.podIP").splitlines()[1:]
    ips = [row.split()[5] for row in rows]
    assert ips == sorted(ips) and len(ips) == 3   # --sort-by compares the field as a string
    assert kubectl.ok("label", "node", "node-2", "zone=b").strip() == "node/node-2 labeled"
    assert lab.get("Node", "node-2", None)["metadata"]["labels"]["zone"] == "b"


def test_ingress_and_secret_generators_and_columns(kubectl, lab):
    """Do `kubectl create ingress` and `create secret generic` work, and print kube-apiserver's columns?"""
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    kubectl.ok("create", "ingress", "shop", "--class=nginx", "--rule=shop.example/*=web:80")
    rule = lab.get("Ingress", "shop")["spec"]["rules"][0]
    assert rule["host"] == "shop.example"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "web", "port": {"number": 80}}
    assert kubectl.ok("get", "ingress").splitlines()[1].split()[:4] == ["shop", "nginx", "shop.example", "80"]
    kubectl.ok("create", "secret", "generic", "token", "--from-literal=key=s3cret")
    import base64
    assert base64.b64decode(lab.get("Secret", "token")["data"]["key"]) == b"s3cret"
    assert kubectl.ok("get", "secret", "token").splitlines()[1].split()[:3] == ["token", "Opaque", "1"]


def test_unknown_field_is_a_strict_decoding_error(kubectl, lab):
    """Is a misspelt field rejected as kube-apiserver's strict field validation words it (400, the field path)?"""
    kubectl.write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n"
                              "  containers: [{name: c, image: busybox, imagee: x}]\n")
    result = kubectl("apply", "-f", "pod.yaml")
    assert result.returncode == 1
    assert ('Error from server (BadRequest): error when creating "pod.yaml": Pod in version "v1" cannot be handled '
            'as a Pod: strict decoding error: unknown field "spec.containers[0].imagee"') in result.stderr
    assert all(p["metadata"]["name"] != "typo" for p in lab.list("Pod"))
