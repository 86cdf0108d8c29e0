"""Learner mistakes, one table: each gets a kubelab error naming the object and the field (or the
argument) and the cluster is exactly as it was; what Kubernetes accepts is accepted.

Cases come from issue 15 (a newcomer's and a careless user's session) plus our own.
"""
from __future__ import annotations

import copy
import json

import pytest

import kubelab
from kubelab.api import kinds
from kubelab.errors import (BackendError, KubelabError, ManifestError, NotFoundError, ProbeError,
                            UnknownKindError, ValidationError)

SCENARIO = """
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {containers: [{name: c, image: nginxinc/nginx-unprivileged, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
"""


@pytest.fixture(scope="module")
def lab():
    lab = kubelab.connect()
    lab.apply(SCENARIO)
    return lab


def state(lab) -> str:
    """Everything a mistake could have changed: every object, the allocators' next picks, the clock."""
    objects = {k.kind: lab.list(k.kind) for k in kinds.all_kinds()}
    return json.dumps([objects, repr(lab.cluster.rng.getstate()), lab.cluster.clock], sort_keys=True, default=str)


POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
SVC = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
SLICE = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\n"
NODE = "apiVersion: v1\nkind: Node\nmetadata: {name: n9}\n"
DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
NETPOL = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\n"
C = "containers: [{name: c, image: x}]"

# (id, manifest, error type, the object as the message names it, the field path it names)
REJECTED = [
    ("empty-spec", POD + "spec:\n", ValidationError, "Pod default/p", "spec.containers"),
    ("null-container", POD + "spec: {containers: [null]}", ValidationError, "Pod default/p",
     "spec.containers[0].name"),
    ("empty-port-item", POD + "spec:\n  containers:\n  - name: c\n    image: x\n    ports:\n    -\n",
     ValidationError, "Pod default/p", "spec.containers[0].ports[0].containerPort"),
    ("null-host-alias", POD + f"spec: {{{C}, hostAliases: [null]}}", ValidationError, "Pod default/p",
     "spec.hostAliases[0].ip"),
    ("null-alias-hostname", POD + f"spec: {{{C}, hostAliases: [{{ip: 1.2.3.4, hostnames: [null]}}]}}",
     ValidationError, "Pod default/p", "spec.hostAliases[0].hostnames[0]"),
    ("null-dns-search", POD + f"spec: {{{C}, dnsConfig: {{searches: [null]}}}}", ValidationError,
     "Pod default/p", "spec.dnsConfig.searches[0]"),
    ("null-dns-option", POD + f"spec: {{{C}, dnsConfig: {{options: [null]}}}}", ValidationError,
     "Pod default/p", "spec.dnsConfig.options[0]"),
    ("null-slice-endpoint", SLICE + "endpoints: [null]", ValidationError, "EndpointSlice default/s",
     "endpoints[0].addresses"),
    ("null-node-address", NODE + "status: {addresses: [null]}", ValidationError, "Node n9",
     "status.addresses[0].type"),
    ("null-service-port", SVC + "spec: {ports: [{port: null}]}", ValidationError, "Service default/s",
     "spec.ports[0].port"),
    ("null-service-port-item", SVC + "spec: {ports: [null]}", ValidationError, "Service default/s",
     "spec.ports[0].port"),
    ("null-service-spec", SVC + "spec: null", ValidationError, "Service default/s", "spec.ports"),
    ("empty-deployment-spec", DEPLOY + "spec:\n", ValidationError, "Deployment default/d", "spec"),
    ("null-deployment-template", DEPLOY + "spec: {selector: {matchLabels: {a: b}}, template: null}",
     ValidationError, "Deployment default/d", "spec.template"),
    ("null-netpol-peer", NETPOL + "spec: {podSelector: {}, ingress: [{from: [null]}]}", ValidationError,
     "NetworkPolicy default/n", "spec.ingress[0].from[0]"),
    ("metadata-as-list", "apiVersion: v1\nkind: ConfigMap\nmetadata: [a]", ValidationError, "ConfigMap",
     "metadata"),
    ("apiversion-as-number", "apiVersion: 1\nkind: ConfigMap\nmetadata: {name: c}", ValidationError,
     "ConfigMap c", "apiVersion"),
    ("name-as-number", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 7}", ValidationError, "ConfigMap",
     "metadata.name"),
    ("empty-name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ''}", ValidationError, "ConfigMap",
     "metadata.name"),
    ("ingress-extensions-v1beta1", "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}",
     UnknownKindError, "Ingress i", "apiVersion"),
    ("ingress-networking-v1beta1", "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: i}",
     UnknownKindError, "Ingress i", "apiVersion"),
    ("deployment-extensions-v1beta1", "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}",
     UnknownKindError, "Deployment d", "apiVersion"),
    ("lowercase-tcp-container", POD + "spec: {containers: [{name: a, image: x, ports: [{containerPort: 80, "
     "protocol: tcp}]}]}", ValidationError, "Pod default/p", "spec.containers[0].ports[0].protocol"),
    ("lowercase-tcp-service", SVC + "spec: {ports: [{port: 80, protocol: tcp}]}", ValidationError,
     "Service default/s", "spec.ports[0].protocol"),
    ("duplicate-port-name-in-one-container", POD + "spec: {containers: [{name: a, image: x, ports: "
     "[{name: http, containerPort: 80}, {name: http, containerPort: 81}]}]}", ValidationError,
     "Pod default/p", "spec.containers[0].ports[1].name"),
    ("port-as-boolean", SVC + "spec: {ports: [{port: true}]}", ValidationError, "Service default/s",
     "spec.ports[0].port"),
    ("labels-as-list", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: [a]}", ValidationError,
     "ConfigMap default/c", "metadata.labels"),
    ("containers-as-map", POD + "spec: {containers: {name: c, image: x}}", ValidationError, "Pod default/p",
     "spec.containers"),
    ("second-document-bad", SCENARIO + "---\n" + POD + "spec: {containers: [null]}", ValidationError,
     "Pod default/p", "spec.containers[0].name"),
]


@pytest.mark.parametrize("manifest, error, obj, field", [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_a_rejected_manifest_names_object_and_field_and_changes_nothing(lab, manifest, error, obj, field):
    """Is the mistake a kubelab error naming the object and the field path, with the cluster untouched?"""
    before = state(lab)
    with pytest.raises(error) as err:
        lab.apply(manifest)
    assert str(err.value).startswith(obj), str(err.value)
    assert err.value.field == field, str(err.value)
    assert state(lab) == before


MESSAGES = [
    # what the message must say beyond object and field: the fix a learner needs
    ("removed apiVersion names the replacement", "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\n"
     "metadata: {name: i}", ["removed in Kubernetes", "1.22", "networking.k8s.io/v1"]),
    ("wrong type says the type", "apiVersion: v1\nkind: ConfigMap\nmetadata: [a]", ["expected object", "array"]),
    ("number apiVersion says the type", "apiVersion: 1\nkind: ConfigMap\nmetadata: {name: c}",
     ["expected string", "integer"]),
    ("lowercase tcp says upper case", SVC + "spec: {ports: [{port: 80, protocol: tcp}]}", ["'TCP'"]),
    ("lowercase tcp in a pod says upper case", POD + "spec: {containers: [{name: a, image: x, ports: "
     "[{containerPort: 80, protocol: tcp}]}]}", ["'TCP'"]),
    ("null service port is a required value", SVC + "spec: {ports: [{port: null}]}", ["Required value"]),
]


@pytest.mark.parametrize("manifest, needles", [m[1:] for m in MESSAGES], ids=[m[0] for m in MESSAGES])
def test_the_message_says_what_to_do(lab, manifest, needles):
    """Does the message carry the specific fix, not a vague 'Required value' or an unrelated hint?"""
    with pytest.raises(KubelabError) as err:
        lab.apply(manifest)
    for needle in needles:
        assert needle in str(err.value), str(err.value)
    assert "HTTP" not in str(err.value) or "HTTP" in manifest


@pytest.mark.parametrize("manifests", ["", None, "# only\n# comments\n", "---\n---\n"],
                         ids=["empty", "None", "comments", "empty-documents"])
def test_apply_with_no_objects_is_refused(lab, manifests):
    """Does apply('') say what kubectl says ("no objects passed to apply") instead of silently succeeding?"""
    before = state(lab)
    with pytest.raises(ManifestError, match="no objects passed to apply"):
        lab.apply(manifests)
    assert state(lab) == before


def test_an_empty_list_is_a_program_s_empty_batch(lab):
    """Is apply([]) (a script's batch with nothing in it this time) accepted as doing nothing?"""
    before = state(lab)
    assert len(lab.apply([])) == 0
    assert state(lab) == before


@pytest.mark.parametrize("text", ["a: " + "[" * 3000 + "]" * 3000, "\n".join(" " * i + "a:" for i in range(3000))],
                         ids=["brackets", "indentation"])
def test_deeply_nested_yaml_is_a_manifest_error(lab, text):
    """Is a runaway document a ManifestError rather than a RecursionError?"""
    before = state(lab)
    with pytest.raises(ManifestError, match="nested too deeply"):
        lab.apply(text)
    assert state(lab) == before


def test_a_self_containing_dict_is_a_manifest_error(lab):
    """Is a dict that contains itself (no YAML can) refused with a ManifestError?"""
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "loop"}}
    obj["data"] = obj
    with pytest.raises(ManifestError):
        lab.apply(obj)


# (id, call, error type, words the message must hold: the argument and the fix)
CALLS = [
    ("resolve-rtype-None", lambda lab: lab.resolve("web", None), ProbeError, ["rtype"]),
    ("resolve-name-None", lambda lab: lab.resolve(None), ProbeError, ["name", "DNS name"]),
    ("resolve-rtype-AAA", lambda lab: lab.resolve("web", "AAA", src="default/client"), ProbeError,
     ["rtype='AAA'", "AAAA"]),
    ("resolve-bad-src", lambda lab: lab.resolve("web", src="a/b/c"), ProbeError, ["a/b/c"]),
    ("http-port-too-big", lambda lab: lab.http("http://web:99999/", src="default/client"), ProbeError,
     ["99999", "1 to 65535"]),
    ("http-port-not-a-number", lambda lab: lab.http(":abc"), ProbeError, ["':abc'", "port"]),
    ("http-bare-ipv6", lambda lab: lab.http("http://fd00::1/"), ProbeError, ["brackets"]),
    ("http-None", lambda lab: lab.http(None), ProbeError, ["url"]),
    ("http-no-host", lambda lab: lab.http("http://"), ProbeError, ["no host"]),
    ("http-ftp", lambda lab: lab.http("ftp://web/"), ProbeError, ["scheme"]),
    ("hosts-file-None", lambda lab: lab.hosts_file(None), ProbeError, ["pod", "namespace/pod"]),
    ("resolv-conf-None", lambda lab: lab.resolv_conf(None), ProbeError, ["pod", "namespace/pod"]),
    ("iptables-save-None", lambda lab: lab.iptables_save(None), ProbeError, ["node", "node-1"]),
    ("ipvsadm-None", lambda lab: lab.ipvsadm(None), ProbeError, ["node", "node-1"]),
    ("service-cidr-33", lambda lab: kubelab.connect(service_cidr="10.96.0.0/33"), BackendError,
     ["service_cidr", "10.96.0.0/33"]),
    ("pod-cidr-garbage", lambda lab: kubelab.connect(pod_cidr="ten"), BackendError, ["pod_cidr"]),
    ("selector-triple-equals", lambda lab: lab.list("Pod", selector="k8s-app===kube-dns"), ValidationError,
     ["k8s-app===kube-dns"]),
    ("selector-as-dict", lambda lab: lab.list("Pod", selector={"app": "web"}), ValidationError,
     ["selector", "app=web"]),
    ("port-True", lambda lab: lab.reach("default/client", "web", port=True), ProbeError, ["port=True"]),
    ("port-string", lambda lab: lab.trace("default/client", "web", port="80"), ProbeError, ["port='80'"]),
    ("reachability-port-0", lambda lab: lab.reachability(port=0), ProbeError, ["port=0"]),
    ("reachability-ICMP", lambda lab: lab.reachability(protocol="ICMP"), ProbeError, ["ICMP", "TCP"]),
    ("reach-HTTP-protocol", lambda lab: lab.reach("default/client", "web", protocol="HTTP"), ProbeError,
     ["HTTP", "TCP"]),
    ("reach-a/b/c", lambda lab: lab.reach("a/b/c", "web"), ProbeError, ["a/b/c", "namespace/pod"]),
    ("reach-empty-pod-name", lambda lab: lab.reach("default/", "web"), ProbeError, ["default/"]),
    ("reach-dict-src", lambda lab: lab.reach({"name": "client"}, "web"), ProbeError, ["src", "dict"]),
    ("reach-None-dst", lambda lab: lab.reach("default/client", None), ProbeError, ["dst"]),
    ("reachability-pods-string", lambda lab: lab.reachability(pods="default/client"), ProbeError,
     ["pods=['default/client']"]),
    ("reachability-pods-int", lambda lab: lab.reachability(pods=3), ProbeError, ["pods", "int"]),
    ("get-kind-None", lambda lab: lab.get(None, "x"), UnknownKindError, ["kind", "NoneType"]),
    ("get-name-None", lambda lab: lab.get("Pod", None), NotFoundError, ["name", "NoneType"]),
    ("delete-name-None", lambda lab: lab.delete("Pod", None), NotFoundError, ["name"]),
    ("get-unknown-kind", lambda lab: lab.get("Pood", "web"), UnknownKindError, ["Pod"]),
    ("trace-missing-node", lambda lab: lab.trace("node/node-9", "web"), ProbeError, ["node-9", "node-1"]),
]


@pytest.mark.parametrize("call, error, needles", [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_a_bad_argument_names_itself_and_the_fix(lab, call, error, needles):
    """Is a mistyped probe or API call a kubelab error naming the argument, with the cluster untouched?"""
    before = state(lab)
    with pytest.raises(error) as err:
        call(lab)
    for needle in needles:
        assert needle in str(err.value), str(err.value)
    assert state(lab) == before


ACCEPTED = [
    # null values Kubernetes accepts: the field is simply unset
    ("slice-endpoints-null", SLICE + "endpoints: null"),
    ("slice-port-item-null", SLICE + "ports: [null]"),
    ("node-labels-null", "apiVersion: v1\nkind: Node\nmetadata: {name: n8, labels: null}"),
    ("node-spec-and-status-null", "apiVersion: v1\nkind: Node\nmetadata: {name: n7}\nspec: null\nstatus: null"),
    ("configmap-data-null", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\ndata: null"),
    ("configmap-value-null", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c2}\ndata: {a: null}"),
    ("netpol-podselector-null", NETPOL + "spec: {podSelector: null}"),
    ("pod-labels-null", "apiVersion: v1\nkind: Pod\nmetadata: {name: p2, labels: null}\nspec: {" + C + "}"),
    ("service-selector-null", "apiVersion: v1\nkind: Service\nmetadata: {name: s2}\n"
     "spec: {selector: null, ports: [{port: 80}]}"),
    # port names are unique per container, not per pod (validateContainerPorts)
    ("same-port-name-in-two-containers", "apiVersion: v1\nkind: Pod\nmetadata: {name: p3}\nspec: {containers: ["
     "{name: a, image: x, ports: [{name: http, containerPort: 80}]}, "
     "{name: b, image: x, ports: [{name: http, containerPort: 81}]}]}"),
]


@pytest.mark.parametrize("manifest", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_what_kubernetes_accepts_is_accepted(manifest):
    """Are valid manifests with nulls (and per-container port names) created?"""
    lab = kubelab.connect(nodes=1)
    result = lab.apply(manifest)
    assert [verb for _, _, verb in result.changes] == ["created"]


def test_configmap_null_value_is_stored_as_empty_string():
    """Does a null map value become the value type's zero value, as the API server's decoder does?"""
    lab = kubelab.connect(nodes=1)
    lab.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: null}")
    assert lab.get("ConfigMap", "c")["data"] == {"a": ""}


# ------------------------------------------------------------------ null anywhere, in every kind
VALID = {
    "Namespace": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team", "labels": {"a": "b"}}},
    "Node": {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-9", "labels": {"zone": "a"}},
             "spec": {"podCIDR": "10.244.9.0/24", "podCIDRs": ["10.244.9.0/24"]},
             "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.99"}]}},
    "Pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "p"}},
            "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"name": "http", "containerPort": 80}]}],
                     "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["foo.local"]}],
                     "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["example.com"],
                                   "options": [{"name": "ndots", "value": "2"}]}}},
    "Service": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"selector": {"app": "p"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
    "ConfigMap": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}},
    "Deployment": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                            "template": {"metadata": {"labels": {"app": "d"}},
                                         "spec": {"containers": [{"name": "c", "image": "nginx",
                                                                  "ports": [{"containerPort": 80}]}]}}}},
    "StatefulSet": {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                    "spec": {"serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                             "template": {"metadata": {"labels": {"app": "db"}},
                                          "spec": {"containers": [{"name": "c", "image": "postgres"}]}}}},
    "EndpointSlice": {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"name": "es", "labels": {"kubernetes.io/service-name": "s"}},
                      "addressType": "IPv4",
                      "endpoints": [{"addresses": ["10.244.1.50"], "conditions": {"ready": True}}],
                      "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
    "NetworkPolicy": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np"},
                      "spec": {"podSelector": {"matchLabels": {"app": "p"}}, "policyTypes": ["Ingress", "Egress"],
                               "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "c"}}},
                                                     {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                                            "ports": [{"port": 80, "protocol": "TCP"}]}],
                               "egress": [{"to": [{"namespaceSelector": {}}]}]}},
}


def _paths(value, path=()):
    """Every place in a manifest that holds a value: map entries and list items."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield path + (key,)
            yield from _paths(sub, path + (key,))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield path + (i,)
            yield from _paths(sub, path + (i,))


def _with_null(obj, path):
    obj = copy.deepcopy(obj)
    target = obj
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = None
    return obj


def test_every_sample_is_valid():
    """Are the samples the null test starts from accepted as they are (so a rejection below is the null's)?"""
    lab = kubelab.connect(nodes=1)
    for obj in VALID.values():
        lab.apply(obj)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_null_anywhere_is_accepted_or_a_kubelab_error(kind):
    """Does a null in any field or list item of any kind give either success or a kubelab error naming
    the object, never a Python exception, and leave the cluster as it was when rejected?"""
    lab = kubelab.connect(nodes=1)
    paths = [p for p in _paths(VALID[kind]) if p[:1] != ("kind",) and p[:1] != ("apiVersion",)]
    assert len(paths) >= 3
    for path in paths:
        before = state(lab)
        try:
            lab.apply(_with_null(VALID[kind], path))
        except KubelabError as exc:
            assert kind in str(exc) or isinstance(exc, ManifestError), (path, str(exc))
            assert state(lab) == before, path
        except Exception as exc:  # the bug this test exists for
            pytest.fail(f"{kind} with null at {path}: {type(exc).__name__}: {exc}")
        else:
            name = (VALID[kind].get("metadata") or {}).get("name")
            if path != ("metadata", "name") and path != ("metadata",):
                lab.delete(kind, name, namespace="default")
