"""`kubectl exec` into simulated pods: the networking tools answered by the engine, with their exit codes."""
import pytest

from .manifests import APP, DENY_WEB


@pytest.fixture
def app(kubectl):
    kubectl.write("app.yaml", APP)
    kubectl.ok("apply", "-f", "app.yaml")
    return kubectl


def test_curl_reaches_the_service_and_prints_what_nginx_served(app, lab):
    """Does `kubectl exec client -- curl -s http://web` print the body a web pod's nginx served (its welcome
    page, as a real nginx answers; never an echo)?"""
    out = app.ok("exec", "client", "--", "curl", "-s", "http://web")
    assert "<title>Welcome to nginx!</title>" in out and "served_by" not in out
    assert app.ok("exec", "client", "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                  "http://web/missing") == "404"


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


def test_interactive_shell_with_a_terminal(app, lab):
    """Does `kubectl exec -it client -- sh` give a prompt, echo what is typed, run it and exit with `exit 3`?"""
    import os
    import pty
    import subprocess
    import time

    controller, terminal = pty.openpty()
    env = {**os.environ, "KUBECONFIG": str(app.kubeconfig), "HOME": str(app.workdir)}
    proc = subprocess.Popen([app.binary, "--cache-dir", str(app.cache), "exec", "-it", "client", "--", "sh"],
                            stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True)
    os.close(terminal)
    seen = b""

    def read_until(marker: bytes, guard: float = 20.0):
        nonlocal seen
        deadline = time.monotonic() + guard   # a hang guard, not a timing check
        while marker not in seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {marker!r} in {seen!r}")
            try:
                seen += os.read(controller, 4096)
            except OSError:
                break

    read_until(b"/ # ")
    os.write(controller, b"hostname -i\r")
    read_until(lab.get("Pod", "client")["status"]["podIP"].encode() + b"\r\n/ # ")
    os.write(controller, b"exit 3\r")
    assert proc.wait(timeout=20) == 3
    os.close(controller)
    assert b"hostname -i\r\n" in seen   # typed characters were echoed, Enter became a new line


def test_piped_commands_run_line_by_line(app):
    """Does `kubectl exec -i client -- sh` run each piped line in turn and exit with the last status?"""
    result = app("exec", "-i", "client", "--", "sh", input="hostname\ncurl -s nope\n")
    assert result.stdout == "client\n" and result.returncode == 6


def test_debug_node_attach_and_run_rm(app, lab):
    """Do `kubectl debug node/... -i` and `kubectl run -i --rm --restart=Never` attach to a shell, and does the
    finished pod complete (Completed) or go away with --rm?"""
    out = app.ok("debug", "node/node-2", "-i", "--image=busybox:1.36", "--profile=general", input="ip route\nexit\n")
    assert "proto kernel scope link src " in out
    debugger = next(p for p in lab.list("Pod", "default") if p["metadata"]["name"].startswith("node-debugger-node-2"))
    row = app.ok("get", "pod", debugger["metadata"]["name"]).splitlines()[1].split()
    assert row[1:3] == ["0/1", "Completed"]
    assert app.ok("run", "tmp", "-i", "--rm", "--image=busybox:1.36", "--restart=Never", "--", "sh",
                  input="hostname\nexit\n").splitlines()[0] == "tmp"
    assert all(p["metadata"]["name"] != "tmp" for p in lab.list("Pod", "default"))


def test_debug_node_with_a_command_runs_it_as_the_pods_main_process(app, lab):
    """`kubectl debug node/... -i -- ip route`: the command is the debug container's, so attach prints its
    output and the pod completes."""
    out = app.ok("debug", "node/node-3", "-i", "--image=busybox:1.36", "--profile=general", "--", "ip", "route",
                 input="")
    assert "via 192.168.0.11 dev eth0 proto bird" in out          # node-1's block, seen from node-3
    assert "proto kernel scope link src " in out
    debugger = next(p for p in lab.list("Pod", "default") if p["metadata"]["name"].startswith("node-debugger-node-3"))
    assert debugger["spec"]["containers"][0].get("command", []) + debugger["spec"]["containers"][0].get("args", []) \
        == ["ip", "route"]


def test_port_forward_says_what_to_do_instead(app):
    """Does `kubectl port-forward` fail with a message saying how to reach the pod instead?"""
    result = app("port-forward", "pod/client", "18999:80", "--pod-running-timeout=5s")
    assert result.returncode == 1
    assert "port-forward is not served by the simulated cluster" in result.stderr
