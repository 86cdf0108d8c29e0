"""`kubectl exec` into simulated pods: the networking tools answered by the engine, with their exit codes."""
import pytest

from .manifests import APP, DENY_WEB


@pytest.fixture
def app(kubectl):
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    return kubectl


def test_curl_reaches_the_service_and_says_which_pod_answered(app, lab):
    """Does `kubectl exec client -- curl -s http://web` print the body a web pod served?"""
    out = app.ok("exec", "client", "--", "curl", "-s", "http://web")
    served_by = {f"pod default/{p['metadata']['name']}" for p in lab.list("Pod", "default", selector="app=web")}
    import json
    assert json.loads(out)["served_by"] in served_by


def test_network_policy_turns_curl_into_a_timeout_with_curls_exit_code(app):
    """After a deny-all ingress policy on web, does curl time out (exit 28 through kubectl) and print 000?"""
    assert app.ok("exec", "client", "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://web") == "200"
    app.write("deny.yaml", DENY_WEB)
    app.ok("apply", "-f", "deny.yaml")
    result = app("exec", "client", "--", "curl", "-sS", "--connect-timeout", "2", "-o", "/dev/null",
                 "-w", "%{http_code}", "http://web")
    assert result.returncode == 28
    assert result.stdout == "000"
    assert "curl: (28) Connection timed out after 2001 milliseconds" in result.stderr
    assert "command terminated with exit code 28" in result.stderr


def test_refused_and_unresolvable(app):
    """Is a port nothing listens on refused (exit 7), and an unknown name exit 6?"""
    pod_ip = app.ok("get", "pod", "-l", "app=web", "-o", "jsonpath={.items[0].status.podIP}")
    refused = app("exec", "client", "--", "curl", "-sS", f"http://{pod_ip}:8080")
    assert refused.returncode == 7 and f"Failed to connect to {pod_ip} port 8080" in refused.stderr
    unknown = app("exec", "client", "--", "curl", "-sS", "http://nope")
    assert unknown.returncode == 6 and "curl: (6) Could not resolve host: nope" in unknown.stderr


def test_nslookup_answers_with_the_cluster_ip_and_nxdomain_exits_1(app, lab):
    """Does nslookup print the Service's FQDN and ClusterIP, and exit 1 for a name that does not exist?"""
    out = app.ok("exec", "client", "--", "nslookup", "web")
    assert "Name:\tweb.default.svc.cluster.local" in out
    assert f"Address: {lab.get('Service', 'web')['spec']['clusterIP']}" in out
    missing = app("exec", "client", "--", "nslookup", "nope")
    assert missing.returncode == 1 and "** server can't find nope: NXDOMAIN" in missing.stdout


def test_resolv_conf_and_hosts_are_the_kubelets(app, lab):
    """Does `cat /etc/resolv.conf` print what the kubelet writes for the pod, and /etc/hosts its entries?"""
    assert app.ok("exec", "client", "--", "cat", "/etc/resolv.conf") == lab.resolv_conf("default/client")
    assert app.ok("exec", "client", "--", "cat", "/etc/hosts") == lab.hosts_file("default/client")


def test_unknown_command_exits_127(app):
    """Does an unknown command fail as in a container without it (exit 127)?"""
    result = app("exec", "client", "--", "frobnicate")
    assert result.returncode == 127
    assert 'exec: "frobnicate": executable file not found in $PATH' in result.stderr


def test_stdin_reaches_the_shell(app):
    """Does `kubectl exec -i ... -- sh` run the commands piped to it?"""
    assert app.ok("exec", "-i", "client", "--", "sh", input="hostname -i\n").strip() == \
        app.ok("get", "pod", "client", "-o", "jsonpath={.status.podIP}")


def test_python_client_stream_exec(app, server):
    """Does the Python client's stream() exec get stdout and the exit code?"""
    from kubernetes import client, config
    from kubernetes.stream import stream

    v1 = client.CoreV1Api(config.new_client_from_config(config_file=str(server.kubeconfig)))
    resp = stream(v1.connect_get_namespaced_pod_exec, "client", "default",
                  command=["sh", "-c", "hostname; nc -zv web 80; nc -zv web 81"],
                  stderr=True, stdout=True, stdin=False, tty=False, _preload_content=False)
    resp.run_forever(timeout=10)
    assert resp.read_stdout() == "client\n"
    ip = app.ok("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
    assert resp.read_stderr() == f"web ({ip}:80) open\nnc: web ({ip}:81): Connection timed out\n"
    assert resp.returncode == 1
