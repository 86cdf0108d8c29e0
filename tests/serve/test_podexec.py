"""Simulated pod commands without the HTTP layer: formats and exit codes of the networking tools."""
import pytest

import kubelab
from kubelab.serve.podexec import run_in_pod

from .manifests import APP, HEADLESS


@pytest.fixture(params=["iptables", "ipvs"])
def lab(request):
    lab = kubelab.connect(proxy_mode=request.param)
    lab.apply(APP + "---\n" + HEADLESS)
    return lab


def run(lab, *argv, pod="default/client"):
    found = lab.cluster.find("Pod", pod)
    return run_in_pod(lab, found, found["spec"]["containers"][0]["name"], list(argv))


def test_nslookup_of_a_headless_service_lists_every_ready_pod(lab):
    """Does nslookup of a headless Service print one Address per ready pod?"""
    out = run(lab, "nslookup", "web-headless").stdout
    ips = sorted(p["status"]["podIP"] for p in lab.list("Pod", "default", selector="app=web"))
    assert sorted(line.split()[1] for line in out.splitlines() if line.startswith("Address: ")) == ips


def test_dig_short_needs_search_for_a_short_name(lab):
    """Does dig ignore the search list unless +search is given, as dig does?"""
    ip = lab.get("Service", "web")["spec"]["clusterIP"]
    assert run(lab, "dig", "+short", "web").stdout == ""
    assert run(lab, "dig", "+short", "+search", "web").stdout == f"{ip}\n"


def test_ping_of_a_cluster_ip_depends_on_the_proxy_mode(lab):
    """Is a ClusterIP silent to ping in iptables mode and answered in IPVS mode (bound to kube-ipvs0)?"""
    result = run(lab, "ping", "-c", "1", "web")
    if lab.config.proxy_mode == "ipvs":
        assert result.code == 0 and "1 packets received" in result.stdout
    else:
        assert result.code == 1 and "100% packet loss" in result.stdout


def test_agnhost_connect_reports_refused_and_dns(lab):
    """Does agnhost connect print REFUSED / DNS and exit 1 as the e2e probe image does?"""
    pod_ip = lab.list("Pod", "default", selector="app=web")[0]["status"]["podIP"]
    assert run(lab, "/agnhost", "connect", f"{pod_ip}:80", "--timeout=1s").code == 0
    assert run(lab, "/agnhost", "connect", f"{pod_ip}:81", "--timeout=1s").stderr == "REFUSED\n"
    assert run(lab, "/agnhost", "connect", "nope:80").stderr.startswith("DNS: ")


def test_shell_chains_with_and_or(lab):
    """Does `sh -c` run && and || chains with the exit codes deciding?"""
    result = run(lab, "sh", "-c", "curl -s nope || echo fallback && hostname")
    assert result.stdout == "fallback\nclient\n" and result.code == 0


def test_node_tools_need_a_host_network_pod(lab):
    """Is iptables-save refused in a pod's own namespace and the node's rules shown in a host-network pod?"""
    assert run(lab, "iptables-save").code != 0
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debugger"},
               "spec": {"nodeName": "node-1", "hostNetwork": True,
                        "containers": [{"name": "client", "image": "busybox"}]}})
    tool = "ipvsadm" if lab.config.proxy_mode == "ipvs" else "iptables-save"
    expected = lab.ipvsadm("node-1") if tool == "ipvsadm" else lab.iptables_save("node-1")
    result = run(lab, tool, "-Ln" if tool == "ipvsadm" else "-t", pod="default/debugger")
    assert result.code == 0 and result.stdout == expected


def test_curl_head_verbose_headers_and_fail(lab):
    """Do curl -I, -v, -H and -f print and exit as curl does (web runs nginx: / is its welcome page)?"""
    head = run(lab, "curl", "-sI", "http://web")
    assert head.code == 0 and head.stdout.startswith("HTTP/1.1 200 OK\r\n") and head.stdout.endswith("\r\n\r\n")
    verbose = run(lab, "curl", "-sv", "-H", "X-Lab: 1", "http://web/path")
    assert "> GET /path HTTP/1.1\n" in verbose.stderr
    assert "> User-Agent: curl/8.11.1\n> Accept: */*\n> X-Lab: 1\n" in verbose.stderr
    assert "< HTTP/1.1 404 Not Found\n" in verbose.stderr
    failing = run(lab, "curl", "-sf", "http://web/path")
    assert failing.code == 22 and failing.stdout == ""


ECHOSERVER = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo"},
              "spec": {"containers": [{"name": "echo", "image": "registry.k8s.io/echoserver:1.10",
                                       "ports": [{"containerPort": 8080}]}]}}


def _received_headers(text: str) -> dict:
    """The "Request Headers:" section of echoserver's answer, as name -> value."""
    section = text.split("Request Headers:\n", 1)[1].split("\n\n", 1)[0]
    return dict(line.strip().split("=", 1) for line in section.splitlines())


def test_curl_sends_its_user_agent_and_accept_unless_replaced_or_removed(lab):
    """curl sends User-Agent and Accept; -H with the same name (any case) replaces one, "Name:" removes it."""
    lab.apply(ECHOSERVER)
    ip = lab.get("Pod", "echo")["status"]["podIP"]
    plain = _received_headers(run(lab, "curl", "-s", f"http://{ip}:8080/").stdout)
    assert plain["user-agent"] == "curl/8.11.1" and plain["accept"] == "*/*"
    changed = _received_headers(run(lab, "curl", "-s", "-H", "user-agent: probe/1", "-H", "Accept:",
                                    f"http://{ip}:8080/").stdout)
    assert changed["user-agent"] == "probe/1" and "accept" not in changed


def test_curl_resolve_pins_the_address(lab):
    """Does --resolve send a name no DNS knows to the given address (and without it, exit 6)?"""
    ip = lab.get("Service", "web")["spec"]["clusterIP"]
    out = run(lab, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{remote_ip}",
              "--resolve", f"shop.example:80:{ip}", "http://shop.example/")
    assert out.stdout == f"200 {ip}"
    assert run(lab, "curl", "-s", "http://shop.example/").code == 6


def test_dig_at_a_server_and_srv_records(lab):
    """Does dig @server ask that server, and dig SRV +short print priority weight port target?"""
    ip = lab.get("Service", "web")["spec"]["clusterIP"]
    dns_ip = lab.get("Service", "kube-dns", "kube-system")["spec"]["clusterIP"]
    full = run(lab, "dig", f"@{dns_ip}", "web.default.svc.cluster.local")
    assert "web.default.svc.cluster.local.\t" in full.stdout and f"\tIN\tA\t{ip}" in full.stdout
    assert f";; SERVER: {dns_ip}#53({dns_ip}) (UDP)" in full.stdout
    srv = run(lab, "dig", "+short", "SRV", "_dns._udp.kube-dns.kube-system.svc.cluster.local")
    assert srv.stdout == "0 100 53 kube-dns.kube-system.svc.cluster.local.\n"


def test_missing_file_and_env(lab):
    """Does cat of an unknown file fail as busybox does, and env list the Service variables of the namespace?"""
    missing = run(lab, "cat", "/etc/nope")
    assert missing.code == 1 and missing.stderr == "cat: can't open '/etc/nope': No such file or directory\n"
    env = dict(line.split("=", 1) for line in run(lab, "env").stdout.splitlines())
    assert env["WEB_SERVICE_HOST"] == lab.get("Service", "web")["spec"]["clusterIP"]
    assert env["KUBERNETES_SERVICE_PORT"] == "443"


def test_ip_addr_on_a_bridge_cni_has_the_node_subnet():
    """With flannel, does `ip addr` show the pod IP in its node's podCIDR and `ip route` the cni0 gateway?"""
    lab = kubelab.connect(cni="flannel")
    lab.apply(APP)
    pod = lab.get("Pod", "client")
    cidr = lab.pod_cidr_of(pod["spec"]["nodeName"])
    prefix = cidr.split("/")[1]
    addr = run(lab, "ip", "addr").stdout
    assert f"inet {pod['status']['podIP']}/{prefix} " in addr and "mtu 1450" in addr
    route = run(lab, "ip", "route").stdout.splitlines()
    assert route[0] == f"default via {cidr.split('/')[0].rsplit('.', 1)[0]}.1 dev eth0"


def test_nslookup_of_an_alias_to_a_name_that_does_not_resolve(lab):
    """Does nslookup of an ExternalName whose target does not exist print the alias and then NXDOMAIN (exit 1)?"""
    lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "docs"},
               "spec": {"type": "ExternalName", "externalName": "docs.example.invalid"}})
    result = run(lab, "nslookup", "docs")
    assert result.code == 1
    assert "docs.default.svc.cluster.local\tcanonical name = docs.example.invalid.\n" \
           "** server can't find docs.example.invalid: NXDOMAIN\n" in result.stdout


def test_nslookup_and_dig_of_an_alias_print_the_cname_once_and_addresses_only_for_a_records():
    """Does nslookup print `canonical name =` then Name/Address only for A/AAAA, and dig each answer record once?"""
    lab = kubelab.connect(external_dns={"docs.example.com": {"A": "203.0.113.10", "AAAA": "2001:db8::10"}})
    lab.apply(APP)
    lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "docs"},
               "spec": {"type": "ExternalName", "externalName": "docs.example.com"}})
    out = run(lab, "nslookup", "docs").stdout
    assert out.split("\n\n", 1)[1] == ("docs.default.svc.cluster.local\tcanonical name = docs.example.com.\n"
                                       "Name:\tdocs.example.com\nAddress: 203.0.113.10\n"
                                       "Name:\tdocs.example.com\nAddress: 2001:db8::10\n\n")
    assert run(lab, "dig", "+short", "+search", "docs").stdout == "docs.example.com.\n203.0.113.10\n"
    full = run(lab, "dig", "+search", "docs").stdout
    assert "ANSWER: 2," in full
    assert full.count("\tCNAME\tdocs.example.com.") == 1


def test_ip_filters_by_device_and_family_as_iproute2_does(lab):
    """`ip addr show eth0` shows eth0 only; -4/-6 keep that family's addresses; an unknown device fails;
    `ip route show dev eth0` lists eth0's routes without repeating the device."""
    everything = run(lab, "ip", "addr").stdout
    eth0 = run(lab, "ip", "addr", "show", "eth0")
    assert eth0.code == 0 and "lo:" not in eth0.stdout and eth0.stdout.startswith("2: eth0")
    assert "inet 127.0.0.1/8" in everything and "link/ether" in everything
    v4 = run(lab, "ip", "-4", "addr").stdout
    assert "link/" not in v4 and "inet 127.0.0.1/8" in v4 and "inet6" not in v4
    assert run(lab, "ip", "-6", "a", "show", "dev", "lo").stdout == ""
    missing = run(lab, "ip", "a", "show", "eth9")
    assert missing.code == 1 and missing.stderr == 'Device "eth9" does not exist.\n'
    routes = run(lab, "ip", "route").stdout.splitlines()
    by_dev = run(lab, "ip", "r", "show", "dev", "eth0").stdout.splitlines()
    assert by_dev == [line.replace(" dev eth0", "") for line in routes if " dev eth0" in line] and by_dev
    assert run(lab, "ip", "bogus").code == 1
