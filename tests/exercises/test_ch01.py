"""Lesson 01's checks: podCIDR ownership, a pod pinned to node-2, a hostNetwork node agent."""
import ipaddress

from kubelab.course.exercises import check

from .helpers import blocked, failed, mistakes


# ---------------------------------------------------------------- 01-podcidr-owner
def owner(lab, ip):
    address = ipaddress.ip_address(ip)
    for node in lab.list("Node"):
        for cidr in node["spec"].get("podCIDRs", []):
            if address in ipaddress.ip_network(cidr):
                return node["metadata"]["name"]
    return None


def owner_by_text(lab, ip):
    for node in lab.list("Node"):
        if ip.startswith(node["spec"]["podCIDR"].rsplit(".", 2)[0] + "." + node["spec"]["podCIDR"].split(".")[2]):
            return node["metadata"]["name"]
    return None


def owner_by_pod(lab, ip):
    for pod in lab.list("Pod"):
        if pod["status"].get("podIP") == ip and not pod["spec"].get("hostNetwork"):
            return pod["spec"]["nodeName"]
    return None


def owner_first_family_only(lab, ip):
    address = ipaddress.ip_address(ip)
    for node in lab.list("Node"):
        cidr = ipaddress.ip_network(node["spec"]["podCIDR"])
        if address.version == cidr.version and address in cidr:
            return node["metadata"]["name"]
    return None


def test_owner_reference_passes():
    """Does a function comparing the IP with every podCIDR as a network pass every sub-check?"""
    result = check("01-podcidr-owner", owner)
    assert bool(result) and result.total == 5 and mistakes(result) == []


def test_owner_text_matching_is_named():
    """Is matching the IP as text caught on a two-digit node (10.244.19.x is not in 10.244.1.0/24)?"""
    result = check("01-podcidr-owner", owner_by_text)
    assert "matched the IP as text" in mistakes(result)
    assert "names the node of addresses no pod has yet" in failed(result)


def test_owner_pod_lookup_is_named():
    """Is looking the IP up among the pods (instead of the podCIDRs) failed on free addresses and named?"""
    result = check("01-podcidr-owner", owner_by_pod)
    assert "looked up the pod that has the IP" in mistakes(result)
    assert failed(result)[0] == "names the node of addresses no pod has yet"


def test_owner_first_family_only_is_named():
    """Is reading only spec.podCIDR failed on IPv6 pod IPs of a dual-stack cluster and named?"""
    result = check("01-podcidr-owner", owner_first_family_only)
    assert failed(result) == ["names the node of IPv6 pod IPs in a dual-stack cluster"]
    assert mistakes(result) == ["read only spec.podCIDR"]


def test_owner_that_raises_fails_with_the_error_in_the_hint():
    """Does a function that raises fail its sub-checks with the exception named, not a traceback?"""
    def broken(lab, ip):
        return lab.list("Node")[0]["spec"]["podCidr"]

    result = check("01-podcidr-owner", broken)
    assert result.passed == 0
    assert all("KeyError" in c.hint for c in result.checks if c.scored)


def test_owner_stub_and_non_function():
    """Are the exercise's stub and a non-function answer failed with one clear line?"""
    def stub(lab, ip):
        raise NotImplementedError()

    stubbed = check("01-podcidr-owner", stub)
    assert "still the exercise's stub" in blocked(stubbed)[0] and stubbed.total == 5 and stubbed.passed == 0
    assert blocked(check("01-podcidr-owner", "node-2")) == ["your answer is a str"]


# ---------------------------------------------------------------- 01-pod-on-node-2
API = """
apiVersion: v1
kind: Pod
metadata:
  name: api
  labels:
    app: api
spec:
  nodeName: node-2
  containers:
  - name: api
    image: nginxinc/nginx-unprivileged
    ports:
    - containerPort: 8080
"""


def test_api_reference_passes():
    """Does a pod with nodeName node-2, app=api and containerPort 8080 pass every sub-check?"""
    result = check("01-pod-on-node-2", API)
    assert bool(result) and result.total == 5 and mistakes(result) == []


def test_api_misspelt_node_is_named():
    """Is a misspelt nodeName (node2) recognised, with the pod failing to run on node-2?"""
    result = check("01-pod-on-node-2", API.replace("node-2", "node2"))
    assert mistakes(result) == ["spec.nodeName names no node"]
    assert "it runs on node-2" in failed(result)


def test_api_without_container_port_still_listens():
    """Does nginx-unprivileged without containerPort still answer on 8080 (Kubernetes does not enforce it)?"""
    result = check("01-pod-on-node-2", API.replace("    ports:\n    - containerPort: 8080\n", ""))
    assert failed(result) == [] and mistakes(result) == []


def test_api_unknown_image_without_container_port_is_named():
    """Is an image kubelab does not know, declaring no port, unreachable (simulator convention) and named?"""
    answer = API.replace("    ports:\n    - containerPort: 8080\n", "").replace("nginxinc/nginx-unprivileged",
                                                                           "example/api:1.0")
    result = check("01-pod-on-node-2", answer)
    assert failed(result) == ["a pod on node-1 reaches it on port 8080"]
    assert mistakes(result) == ["no containerPort"]
    assert "simulator convention" in result.checks[[c.name for c in result.checks].index(failed(result)[0])].hint


def test_api_wrong_port_is_named():
    """Is a pod listening on 80 failed on 8080 with the port mistake named?"""
    result = check("01-pod-on-node-2", API.replace("8080", "80"))
    assert mistakes(result) == ["listens on another port"]


def test_api_unpinned_pod_fails():
    """Does a pod left to the scheduler (which puts it elsewhere) fail the node and podCIDR sub-checks?"""
    result = check("01-pod-on-node-2", API.replace("  nodeName: node-2\n", ""))
    assert failed(result) == ["it runs on node-2", "its IP lies in node-2's podCIDR"]


def test_api_bad_yaml_fails_cleanly():
    """Does YAML that does not parse give one failed sub-check naming the error?"""
    result = check("01-pod-on-node-2", API.replace("  nodeName: node-2", " nodeName: node-2"))
    assert blocked(result) == ["the manifest applies"] and result.passed == 0
    assert "not valid YAML" in result.checks[0].hint


# ---------------------------------------------------------------- 01-node-agent
AGENT = """
apiVersion: v1
kind: Pod
metadata:
  name: node-agent
spec:
  nodeName: node-1
  hostNetwork: true
  containers:
  - name: exporter
    image: prom/node-exporter
    ports:
    - containerPort: 9100
"""


def test_agent_reference_passes():
    """Does a hostNetwork pod on node-1 declaring 9100 pass every sub-check?"""
    result = check("01-node-agent", AGENT)
    assert bool(result) and result.total == 4 and mistakes(result) == []


def test_agent_without_host_network_is_named():
    """Is an agent without hostNetwork (its own pod IP, so node-1's IP does not answer) recognised?"""
    result = check("01-node-agent", AGENT.replace("  hostNetwork: true\n", ""))
    assert mistakes(result) == ["forgot hostNetwork"]
    assert "node-1's IP answers on 9100 (from a pod on node-2)" in failed(result)


def test_agent_host_port_instead_of_host_network_is_named():
    """Is hostPort on an ordinary pod told apart from hostNetwork?"""
    answer = AGENT.replace("  hostNetwork: true\n", "").replace("- containerPort: 9100",
                                                                 "- containerPort: 9100\n      hostPort: 9100")
    result = check("01-node-agent", answer)
    assert mistakes(result) == ["hostPort instead of hostNetwork"]
    assert "it shares node-1's network namespace (its IP is the node's)" in failed(result)


def test_agent_without_ports_is_named():
    """Is a hostNetwork pod that declares no port recognised (node-exporter still listens on 9100)?"""
    result = check("01-node-agent", AGENT.replace("    ports:\n    - containerPort: 9100\n", ""))
    assert failed(result) == []
    assert mistakes(result) == ["no containerPort"]


def test_agent_declaring_a_port_its_image_does_not_use_fails():
    """Does node-exporter told to listen on 9200 fail on 9100 though it declares 9100?"""
    answer = AGENT.replace("    ports:", "    args: [--web.listen-address=:9200]\n    ports:")
    result = check("01-node-agent", answer)
    assert failed(result) == ["node-1's IP answers on 9100 (from a pod on node-2)"]


def test_agent_on_another_node_fails():
    """Does an agent on node-3 fail, without being mistaken for a missing hostNetwork?"""
    result = check("01-node-agent", AGENT.replace("node-1", "node-3"))
    assert "it runs on node-1" in failed(result) and mistakes(result) == []


def test_agent_bad_yaml_fails_cleanly():
    """Does an invalid field give one failed sub-check naming the field?"""
    result = check("01-node-agent", AGENT.replace("hostNetwork", "hostNetwrk"))
    assert blocked(result) == ["the manifest applies"] and result.passed == 0
    assert "hostNetwrk" in result.checks[0].hint
