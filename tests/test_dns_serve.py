"""The DNS server as a learner uses it: from a notebook (lab.serve_dns) and from the shell (kubelab dns serve)."""
import subprocess
import sys

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

import kubelab


def _ask(port, name, rtype="A", tcp=False):
    query = dns.message.make_query(name, rtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=port, timeout=5)


def test_lab_serves_its_cluster_live():
    """Does lab.serve_dns answer a real DNS client, and see a Service applied after it started?"""
    lab = kubelab.connect()
    server = lab.serve_dns(port=0)
    try:
        reply = _ask(server.port, "kubernetes.default.svc.cluster.local")
        assert [r.to_text() for rrset in reply.answer for r in rrset] == ["10.96.0.1"]
        lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"clusterIP": "10.96.0.80", "selector": {"app": "web"},
                            "ports": [{"name": "http", "port": 80}]}})
        reply = _ask(server.port, "_http._tcp.web.default.svc.cluster.local", "SRV", tcp=True)
        srv = [r for rrset in reply.answer for r in rrset]
        assert [(r.port, r.target.to_text()) for r in srv] == [(80, "web.default.svc.cluster.local.")]
    finally:
        server.stop()


def test_kubelab_dns_serve_command(tmp_path):
    """Does `kubelab dns serve -f manifests.yaml --port 0` serve the cluster those manifests build?"""
    manifest = tmp_path / "svc.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: db}\n"
                        "spec: {clusterIP: 10.96.0.99, ports: [{port: 5432}]}\n")
    proc = subprocess.Popen([sys.executable, "-m", "kubelab.cli", "dns", "serve", "-f", str(manifest), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "serving cluster DNS" in line, line + proc.stderr.read()
        port = int(line.split("127.0.0.1:")[1].split()[0])
        reply = _ask(port, "db.default.svc.cluster.local")
        assert [r.to_text() for rrset in reply.answer for r in rrset] == ["10.96.0.99"]
        assert reply.rcode() == 0
        reply = _ask(port, "nope.default.svc.cluster.local")
        assert dns.rcode.to_text(reply.rcode()) == "NXDOMAIN"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cached_answers_never_outlive_a_cluster_change():
    """After a name was answered NXDOMAIN, does the same question get the new Service's address once it exists?"""
    lab = kubelab.connect()
    server = lab.serve_dns(port=0)
    try:
        name = "late.default.svc.cluster.local"
        assert dns.rcode.to_text(_ask(server.port, name).rcode()) == "NXDOMAIN"
        assert dns.rcode.to_text(_ask(server.port, name).rcode()) == "NXDOMAIN"   # now from the cache
        lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "late"},
                   "spec": {"clusterIP": "10.96.0.81", "ports": [{"port": 80}]}})
        reply = _ask(server.port, name)
        assert [r.to_text() for rrset in reply.answer for r in rrset] == ["10.96.0.81"]
    finally:
        server.stop()


def test_negative_answers_carry_the_zone_soa():
    """Do NXDOMAIN and NODATA replies carry the cluster zone's SOA in the authority section, as CoreDNS sends?"""
    lab = kubelab.connect()
    server = lab.serve_dns(port=0)
    try:
        for name, rtype, rcode in (("nope.default.svc.cluster.local", "A", "NXDOMAIN"),
                                   ("kubernetes.default.svc.cluster.local", "AAAA", "NOERROR")):
            reply = _ask(server.port, name, rtype)
            assert dns.rcode.to_text(reply.rcode()) == rcode and not reply.answer
            (soa,) = reply.authority
            assert soa.name.to_text() == "cluster.local." and soa.rdtype == dns.rdatatype.SOA
            assert soa[0].mname.to_text() == "ns.dns.cluster.local."
        assert not _ask(server.port, "kubernetes.default.svc.cluster.local").authority
    finally:
        server.stop()
