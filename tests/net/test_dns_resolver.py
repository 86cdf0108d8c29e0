"""The pod's stub resolver: search list, ndots and nameserver order as glibc applies them."""
from __future__ import annotations

from hypothesis import given, strategies as st

from kubelab.net.dns import Record, parse_resolv_conf, resolve

CONF = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"


def world(answers: dict, log: list | None = None):
    """A lookup that knows ``answers`` {name: rcode or [values]} and records each (server, name)."""
    def lookup(server, name, rtype):
        if log is not None:
            log.append((server, name))
        got = answers.get(name, "NXDOMAIN")
        if isinstance(got, str):
            return got, []
        return "NOERROR", [Record(name, rtype, 5, v) for v in got]
    return lookup


def test_relative_name_tries_search_list_then_as_is():
    """With fewer dots than ndots, are the search suffixes tried in order before the bare name?"""
    ans = resolve("example.com", "A", CONF, world({"example.com": ["192.0.2.1"]}))
    assert ans.queries == ("example.com.default.svc.cluster.local", "example.com.svc.cluster.local",
                           "example.com.cluster.local", "example.com")
    assert ans.name == "example.com" and ans.addresses == ["192.0.2.1"]


def test_first_search_hit_wins():
    """Does the first candidate with records end the walk?"""
    ans = resolve("web", "A", CONF, world({"web.default.svc.cluster.local": ["10.96.0.50"],
                                           "web.svc.cluster.local": ["1.1.1.1"]}))
    assert ans.queries == ("web.default.svc.cluster.local",) and ans.name == "web.default.svc.cluster.local"


def test_trailing_dot_is_only_tried_as_is():
    """Is an absolute name sent once, without the search list?"""
    ans = resolve("web.", "A", CONF, world({}))
    assert ans.queries == ("web",) and ans.rcode == "NXDOMAIN"


def test_enough_dots_tries_as_is_first():
    """With dots >= ndots, is the name tried as is first and then with the search suffixes?"""
    conf = CONF.replace("ndots:5", "ndots:2")
    ans = resolve("a.b.example", "A", conf, world({}))
    assert ans.queries[0] == "a.b.example" and len(ans.queries) == 4
    assert ans.name == "a.b.example" and ans.rcode == "NXDOMAIN"


def test_nodata_keeps_searching_and_is_reported():
    """Does NODATA on a search candidate move on (glibc) and is NODATA reported when nothing answers?"""
    ans = resolve("prod", "A", CONF, world({"prod.svc.cluster.local": "NOERROR"}))
    assert len(ans.queries) == 4
    assert ans.rcode == "NOERROR" and not ans and ans.name == "prod.svc.cluster.local"


def test_refused_stops_the_search_list_but_tries_as_is():
    """Does an answer other than NXDOMAIN/NODATA/SERVFAIL end the search walk (then the bare name)?"""
    ans = resolve("x", "A", CONF, world({"x.default.svc.cluster.local": "REFUSED"}))
    assert ans.queries == ("x.default.svc.cluster.local", "x")


def test_next_nameserver_after_servfail():
    """Does the resolver ask the second nameserver when the first says SERVFAIL?"""
    log = []

    def lookup(server, name, rtype):
        log.append(server)
        return ("SERVFAIL", []) if server == "10.0.0.1" else ("NOERROR", [Record(name, "A", 5, "192.0.2.9")])
    ans = resolve("host.example.", "A", "nameserver 10.0.0.1\nnameserver 10.0.0.2\n", lookup)
    assert log == ["10.0.0.1", "10.0.0.2"] and ans.server == "10.0.0.2" and ans


def test_no_resolv_conf_sends_name_as_is():
    """Without a resolv.conf, is the name sent once, verbatim, to the given server?"""
    log = []
    ans = resolve("web", "A", None, world({}, log), server="10.96.0.10")
    assert log == [("10.96.0.10", "web")] and ans.queries == ("web",)


def test_cname_chain_is_split_from_records():
    """Are CNAMEs reported in cname_chain and only final-type records in records?"""
    def lookup(server, name, rtype):
        return "NOERROR", [Record(name, "CNAME", 5, "target.example.com"), Record("target.example.com", "A", 5, "192.0.2.20")]
    ans = resolve("alias.example.com.", "A", CONF, lookup)
    assert ans.cname_chain == ("target.example.com",) and ans.addresses == ["192.0.2.20"]


def test_parse_resolv_conf_rules():
    """Does parsing keep three nameservers, the last search/domain line and cap ndots at 15?"""
    conf = parse_resolv_conf("nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\n"
                             "search a.example b.example\ndomain c.example\noptions ndots:30 timeout:2\n# x\n")
    assert conf.nameservers == ("1.1.1.1", "2.2.2.2", "3.3.3.3")
    assert conf.search == ("c.example",) and conf.ndots == 15


def test_str_and_html_are_deterministic():
    """Is the answer's text stable and does it show the records like dig?"""
    ans = resolve("web", "A", CONF, world({"web.default.svc.cluster.local": ["10.96.0.50"]}))
    assert str(ans) == str(resolve("web", "A", CONF, world({"web.default.svc.cluster.local": ["10.96.0.50"]})))
    assert "web.default.svc.cluster.local.\t5\tIN\tA\t10.96.0.50" in str(ans)
    assert "NOERROR" in ans._repr_html_()


labels = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)


@given(st.lists(labels, min_size=1, max_size=6), st.integers(min_value=1, max_value=6))
def test_candidate_order_property(parts, ndots):
    """For any name, is the candidate order 'as is first' exactly when dots >= ndots?"""
    name = ".".join(parts)
    search = ["ns.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    conf = f"search {' '.join(search)}\nnameserver 10.96.0.10\noptions ndots:{ndots}\n"
    ans = resolve(name, "A", conf, world({}))
    suffixed = [f"{name}.{s}" for s in search]
    expected = [name] + suffixed if name.count(".") >= ndots else suffixed + [name]
    assert list(ans.queries) == expected and ans.rcode == "NXDOMAIN"


def test_external_name_answer_is_the_cname_then_the_targets_records():
    """Does lab.resolve answer as the wire does: the CNAME record first, then the target's A record?"""
    import kubelab

    lab = kubelab.connect(external_dns={"my.database.example.com": {"A": ["192.0.2.20"]}})
    lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
               "spec": {"type": "ExternalName", "externalName": "my.database.example.com"}})
    answer = lab.resolve("db.default.svc.cluster.local", "A")
    assert [(r.type, r.value) for r in answer.records] == [("CNAME", "my.database.example.com"), ("A", "192.0.2.20")]
    assert answer.addresses == ["192.0.2.20"] and answer.cname_chain == ("my.database.example.com",)
    only_alias = lab.resolve("db.default.svc.cluster.local", "AAAA")
    assert [r.type for r in only_alias.records] == ["CNAME"] and not only_alias


def test_srv_records_carry_their_fields():
    """SRV records expose .priority .weight .port .target and value "priority weight port target"."""
    import kubelab

    lab = kubelab.connect()
    lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    (srv,) = lab.resolve("_http._tcp.web.default.svc.cluster.local", "SRV").records
    assert (srv.priority, srv.weight, srv.port, srv.target) == (0, 100, 80, "web.default.svc.cluster.local")
    assert srv.value == "0 100 80 web.default.svc.cluster.local"
