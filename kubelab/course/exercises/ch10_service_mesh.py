"""Checks for lesson 10 · Service meshes: a canary, a header route, a fault that exposes a timeout bug and its
fix, STRICT mTLS with a legacy client, and an AuthorizationPolicy.

Every check builds a fresh Istio cluster with the exercise's sample apps, applies the learner's manifests and
probes with callers and requests the exercise does not show (other namespaces, other users, other paths).
"""
from __future__ import annotations

import re

from ...net.mesh.samples import HTTPBIN_IMAGE, sample_manifests
from . import exercise
from ._support import answer_docs, apply_answer

LESSON = "10-service-mesh"
INJECT = {"istio-injection": "enabled"}
SORRY = "Sorry, product reviews are currently unavailable for this book."
RATINGS_DOWN = "Ratings service is currently unavailable"

__all__ = ["mesh_lab", "pod_of", "bookinfo_lab", "shop_lab", "sign_in", "product_page", "BOOKINFO_SUBSETS",
           "JASON_ON_V2"]


# ---------------------------------------------------------------- scenarios (also used by the exercise notebook)
def _namespace(name: str, injected: bool = True) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, **({"labels": dict(INJECT)}
                                                                                   if injected else {})}}


def mesh_lab(ctx=None):
    """A fresh Istio cluster (the check's own lab when ctx is given)."""
    if ctx is not None:
        return ctx.lab(mesh="istio")
    import kubelab

    return kubelab.connect("simulated", mesh="istio", seed=0)


def pod_of(lab, namespace: str, app: str) -> str:
    """"namespace/name" of the first pod labelled app=<app>."""
    names = sorted(p["metadata"]["name"] for p in lab.list("Pod", namespace, selector=f"app={app}"))
    return f"{namespace}/{names[0]}"


def _curl_as(name: str, namespace: str) -> list:
    """A curl Deployment running as its own service account `name` (a caller with its own identity)."""
    docs = sample_manifests("curl", namespace)
    for doc in docs:
        doc["metadata"]["name"] = name
        if doc["kind"] == "Deployment":
            doc["metadata"]["labels"] = {"app": name}
            doc["spec"]["selector"]["matchLabels"] = {"app": name}
            doc["spec"]["template"]["metadata"]["labels"] = {"app": name}
            doc["spec"]["template"]["spec"]["serviceAccountName"] = name
        if doc["kind"] == "Service":
            doc["spec"]["selector"] = {"app": name}
    return docs


BOOKINFO_SUBSETS = "".join(f"""---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {service}}}
spec:
  host: {service}
  subsets:
""" + "".join(f"  - {{name: {v}, labels: {{version: {v}}}}}\n" for v in versions)
    for service, versions in (("productpage", ["v1"]), ("reviews", ["v1", "v2", "v3"]), ("ratings", ["v1"]),
                              ("details", ["v1"])))

JASON_ON_V2 = """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
"""


def bookinfo_lab(ctx=None, routes: str = ""):
    """Bookinfo and curl in namespace default (injected), the DestinationRules of every version, plus `routes`."""
    lab = mesh_lab(ctx)
    lab.apply([_namespace("default")])
    lab.apply(sample_manifests("bookinfo") + sample_manifests("curl"))
    lab.apply(BOOKINFO_SUBSETS + routes)
    return lab


def sign_in(lab, user: str | None, src: str) -> dict:
    """The Cookie header of a Bookinfo session for `user` ({} for an anonymous visitor)."""
    if user is None:
        return {}
    r = lab.http(f"http://productpage:9080/login?username={user}&passwd=password", src=src, method="POST")
    return {"Cookie": r.headers.get("Set-Cookie", "").split(";")[0]}


def product_page(lab, user: str | None = None):
    """GET /productpage from the curl pod as `user` (None: not signed in)."""
    src = pod_of(lab, "default", "curl")
    return lab.http("http://productpage:9080/productpage", src=src, headers=sign_in(lab, user, src))


def _reviews_version(page) -> str | None:
    found = re.search(r"Reviews served by:</dt><dd><u>reviews-(v\d)-", page.text or "")
    return found.group(1) if found else None


def shop_lab(ctx=None):
    """Namespace shop (injected) with httpbin and reports (an httpbin too); namespace web (injected) with the
    callers frontend and analytics; namespace legacy (not injected) with the plaintext client batch."""
    lab = mesh_lab(ctx)
    lab.apply([_namespace("shop"), _namespace("web"), _namespace("legacy", injected=False)])
    reports = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reports", "namespace": "shop"}},
               {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reports", "namespace": "shop"},
                "spec": {"selector": {"app": "reports"}, "ports": [{"name": "http", "port": 8000,
                                                                    "targetPort": 8080}]}},
               {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "reports", "namespace": "shop"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "reports"}},
                         "template": {"metadata": {"labels": {"app": "reports"}},
                                      "spec": {"serviceAccountName": "reports",
                                               "containers": [{"name": "reports", "image": HTTPBIN_IMAGE,
                                                               "ports": [{"containerPort": 8080}]}]}}}}]
    lab.apply(sample_manifests("httpbin", "shop") + reports + _curl_as("frontend", "web")
              + _curl_as("analytics", "web") + _curl_as("batch", "legacy"))
    return lab


def _extra_callers(lab, *callers: tuple[str, str, bool]) -> None:
    """Callers the learner never saw: (namespace, service account, injected)."""
    for namespace, account, injected in callers:
        if not lab.list("Namespace", selector=f"kubernetes.io/metadata.name={namespace}"):
            lab.apply([_namespace(namespace, injected)])
        lab.apply(_curl_as(account, namespace))


# ---------------------------------------------------------------- mistakes shared by the checks
def _answer_refs(docs: list[dict]) -> set[str]:
    return {f"{d.get('kind')} {(d.get('metadata') or {}).get('namespace', 'default')}/"
            f"{(d.get('metadata') or {}).get('name')}" for d in docs}


def _lint_mistakes(ctx, lab, docs: list[dict], codes: dict[str, str]) -> None:
    """Name the mistakes lab.lint() finds in the learner's own objects (codes: lint code -> mistake name)."""
    mine = _answer_refs(docs)
    seen = set()
    for finding in lab.lint():
        name = codes.get(finding.code)
        if name and finding.policy in mine and name not in seen:
            seen.add(name)
            ctx.mistake(name, True, f"{finding.policy} {finding.field}: {finding.message}")


ROUTING_LINT = {"subset-not-defined": "subset without a DestinationRule",
                "route-unreachable": "a catch-all route first",
                "retries-non-idempotent": "retries on non-idempotent calls"}


# ---------------------------------------------------------------- 10-canary
def _share_of_v2(lab, src: str, n: int = 2000) -> tuple[float, int]:
    """(share of answers from helloworld v2, number of non-200 answers) over n requests from src."""
    v2 = errors = 0
    for _ in range(n):
        r = lab.http("http://helloworld.default:5000/hello", src=src)
        errors += r.status != 200
        v2 += r.status == 200 and "version: v2" in (r.text or "")
    return v2 / n, errors


@exercise("10-canary", title="Send 10 % of helloworld's traffic to v2", lesson=LESSON,
          scored=("every request from curl is answered 200", "about 10 % of curl's requests reach v2 (8 to 12 %)",
                  "a caller in another namespace gets the same 10 % split", "v1 keeps the other 90 %"))
def canary(answer, ctx):
    """helloworld v1/v2: 10 % (+-2 points) of requests from any meshed caller reach v2, the rest v1, no errors."""
    docs = answer_docs(answer)
    lab = mesh_lab(ctx)
    lab.apply([_namespace("default"), _namespace("team")])
    lab.apply(sample_manifests("helloworld") + sample_manifests("curl"))
    _extra_callers(lab, ("team", "tester", True))
    if not apply_answer(ctx, lab, answer):
        return
    share, errors = _share_of_v2(lab, pod_of(lab, "default", "curl"))
    ctx.expect("every request from curl is answered 200", errors == 0,
               "a 503 from the client's proxy often means a route names a subset nobody defined")
    ctx.expect("about 10 % of curl's requests reach v2 (8 to 12 %)", errors == 0 and 0.08 <= share <= 0.12,
               f"v2 answered {share:.1%} of 2000 requests: print Counter(r.text for r in ...) to see the split")
    other, other_errors = _share_of_v2(lab, pod_of(lab, "team", "tester"))
    ctx.expect("a caller in another namespace gets the same 10 % split", other_errors == 0
               and 0.08 <= other <= 0.12, "the VirtualService applies to every meshed client of the host "
               "(name the host helloworld, or its full name helloworld.default.svc.cluster.local)")
    ctx.expect("v1 keeps the other 90 %", errors == 0 and 0.88 <= 1 - share <= 0.92,
               "both versions need a destination in the same route, with their weights")
    _lint_mistakes(ctx, lab, docs, ROUTING_LINT)
    weights = [d.get("weight") for vs in docs if vs.get("kind") == "VirtualService"
               for route in (vs.get("spec") or {}).get("http") or [] for d in route.get("route") or []]
    ctx.mistake("weights read as percentages", errors == 0 and not 0.08 <= share <= 0.12
                and sum(w or 0 for w in weights) != 100,
                "weights are relative (each destination gets weight / sum of weights), and a single destination "
                "gets all the traffic whatever its weight: give v1 and v2 weights that add up to 100")


# ---------------------------------------------------------------- 10-header-route
@exercise("10-header-route", title="Send the test user to reviews v2", lesson=LESSON,
          scored=("tester's product page shows reviews from v2", "a visitor who is not signed in sees reviews v1",
                  "other users (even ones whose name starts or ends like tester's) see v1",
                  "any meshed caller sending end-user: tester to reviews reaches v2, without it v1"))
def header_route(answer, ctx):
    """Requests carrying end-user: tester reach reviews v2; everyone else, and every other user, reaches v1."""
    docs = answer_docs(answer)
    lab = mesh_lab(ctx)
    lab.apply([_namespace("default")])
    lab.apply(sample_manifests("bookinfo") + sample_manifests("curl"))
    if not apply_answer(ctx, lab, answer):
        return
    tester = product_page(lab, "tester")
    ctx.expect("tester's product page shows reviews from v2", tester.status == 200
               and _reviews_version(tester) == "v2", "sign in as tester and look at 'Reviews served by'; "
               "productpage forwards the signed-in user as the end-user header")
    pages = {user: _reviews_version(product_page(lab, user)) for user in (None, "jason", "testers", "test")}
    ctx.expect("a visitor who is not signed in sees reviews v1", pages[None] == "v1",
               "the requests without the header need a route of their own, to v1")
    ctx.expect("other users (even ones whose name starts or ends like tester's) see v1",
               all(pages[u] == "v1" for u in ("jason", "testers", "test")),
               "match the header's exact value: a prefix or regex match also catches other users")
    src = pod_of(lab, "default", "curl")
    direct = [_reviews_version_json(lab.http("http://reviews:9080/reviews/0", src=src, headers=h))
              for h in ({"end-user": "tester"}, {})]
    ctx.expect("any meshed caller sending end-user: tester to reviews reaches v2, without it v1",
               direct == ["v2", "v1"], "the route belongs to the reviews host, whoever calls it")
    _lint_mistakes(ctx, lab, docs, ROUTING_LINT)


def _reviews_version_json(response) -> str | None:
    found = re.search(r'"podname": "reviews-(v\d)-', response.text or "")
    return found.group(1) if found and response.status == 200 else None


# ---------------------------------------------------------------- 10-timeout-bug
def _fault_docs(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d.get("kind") == "VirtualService"
            and any("ratings" in str(h) for h in (d.get("spec") or {}).get("hosts") or [])]


@exercise("10-timeout-bug", title="Expose Bookinfo's timeout bug with a delay, then fix jason's page", lesson=LESSON,
          scored=("with your fault alone, jason's page shows the bug: reviews unavailable after about 6 s",
                  "the fault touches no one else: other users' pages and ratings calls are answered at once",
                  "with your fix, jason gets his reviews again while ratings is still delayed",
                  "the fault is still in place: jason's page says ratings are unavailable",
                  "once ratings is healthy again, jason's reviews show star ratings",
                  "everyone else still sees reviews v1"))
def timeout_bug(answer, ctx):
    """A 7 s delay on ratings for jason exposes productpage's 6 s budget; routing jason to v3 fixes his page."""
    docs = answer_docs(answer)
    fault = _fault_docs(docs)
    ctx.mistake("fault percentage left out", any(
        "fault" in route and "percentage" not in ((route["fault"].get("delay") or {}))
        for vs in fault for route in (vs.get("spec") or {}).get("http") or []),
        "a delay without percentage is injected into no request: write percentage: {value: 100}")
    lab = bookinfo_lab(ctx, JASON_ON_V2)
    if not apply_answer(ctx, lab, answer):
        return
    # Part 1: the fault alone, on the lesson's routes (jason on reviews v2), must expose the bug.
    exposed = bookinfo_lab(ctx, JASON_ON_V2)
    if fault:
        exposed.apply(fault)
    jason = product_page(exposed, "jason")
    ctx.expect("with your fault alone, jason's page shows the bug: reviews unavailable after about 6 s",
               SORRY in (jason.text or "") and jason.elapsed_ms >= 6000,
               "delay the ratings service (reviews v2 calls it) for requests whose end-user is jason, by more "
               "than productpage's 6 s (3 s timeout + 1 retry)" if fault
               else "write a VirtualService for host ratings that carries the fault")
    others = [product_page(exposed, user) for user in (None, "alice")]
    curl = pod_of(exposed, "default", "curl")
    others += [exposed.http("http://ratings:9080/ratings/0", src=curl, headers=h) for h in ({}, {"end-user": "alice"})]
    ctx.expect("the fault touches no one else: other users' pages and ratings calls are answered at once",
               all(p.status == 200 and SORRY not in (p.text or "") and p.elapsed_ms < 1000 for p in others),
               "match the end-user header so only jason's requests are delayed")
    # Part 2: the whole answer (fault + fix) on the same routes.
    fixed = product_page(lab, "jason")
    ctx.expect("with your fix, jason gets his reviews again while ratings is still delayed",
               fixed.status == 200 and SORRY not in (fixed.text or "") and fixed.elapsed_ms < 3000,
               "reviews v3 gives up on ratings after 2.5 s, inside productpage's 3 s timeout; v2 waits 10 s")
    ctx.expect("the fault is still in place: jason's page says ratings are unavailable",
               RATINGS_DOWN in (fixed.text or ""), "keep the ratings delay: the fix must survive the fault")
    for vs in fault:   # ratings healthy again
        lab.delete("VirtualService", vs["metadata"]["name"], vs["metadata"].get("namespace", "default"))
    healthy = product_page(lab, "jason")
    ctx.expect("once ratings is healthy again, jason's reviews show star ratings",
               healthy.status == 200 and "glyphicon-star" in (healthy.text or "") and RATINGS_DOWN not in healthy.text,
               "reviews v1 never calls ratings: send jason to a version that shows stars")
    ctx.expect("everyone else still sees reviews v1", _reviews_version(product_page(lab, "alice")) == "v1"
               and _reviews_version(product_page(lab, None)) == "v1", "keep the catch-all route to v1 last")
    ctx.mistake("retries to fix a timeout", any("retries" in r for d in docs if d.get("kind") == "VirtualService"
                                                for r in (d.get("spec") or {}).get("http") or []),
                "every retry meets the same delay, so retries add latency and fix nothing here")
    _lint_mistakes(ctx, lab, docs, ROUTING_LINT)


# ---------------------------------------------------------------- 10-strict-mtls
def _plaintext_ok(lab, src: str, host: str) -> bool:
    return lab.http(f"http://{host}.shop:8000/get", src=src).status == 200


@exercise("10-strict-mtls", title="STRICT mTLS for shop, with the legacy batch job still served", lesson=LESSON,
          scored=("plaintext to httpbin is refused (a client without a sidecar)",
                  "a workload started later in shop is STRICT too",
                  "batch, the legacy client, still gets answers from reports",
                  "meshed callers reach httpbin and reports over mTLS",
                  "nothing outside shop changes: plaintext still reaches httpbin in namespace web"))
def strict_mtls(answer, ctx):
    """Namespace shop refuses plaintext except on reports, which batch (no sidecar) still calls; mTLS works."""
    docs = answer_docs(answer)
    pas = [d for d in docs if d.get("kind") == "PeerAuthentication"]
    ctx.mistake("PeerAuthentication in the wrong namespace",
                any((d.get("metadata") or {}).get("namespace", "default") not in ("shop", "istio-system")
                    for d in pas),
                "a PeerAuthentication applies to the workloads of its own namespace (istio-system: the whole mesh); "
                "put it in namespace shop")
    lab = shop_lab(ctx)
    _extra_callers(lab, ("ops", "cron", False), ("ops2", "viewer", True))
    lab.apply(sample_manifests("httpbin", "web"))
    if not apply_answer(ctx, lab, answer):
        return
    new_app = _curl_as("audit", "shop")
    for doc in new_app:   # a workload started later in shop serves too
        if doc["kind"] == "Deployment":
            c = doc["spec"]["template"]["spec"]["containers"][0]
            c.update(image=HTTPBIN_IMAGE, ports=[{"containerPort": 8080}])
            c.pop("command", None)
        if doc["kind"] == "Service":
            doc["spec"]["ports"] = [{"name": "http", "port": 8000, "targetPort": 8080}]
    lab.apply(new_app)
    batch, cron = pod_of(lab, "legacy", "batch"), pod_of(lab, "ops", "cron")
    ctx.expect("plaintext to httpbin is refused (a client without a sidecar)", not _plaintext_ok(lab, cron, "httpbin"),
               "with STRICT the server's proxy resets connections that are not mTLS")
    ctx.expect("a workload started later in shop is STRICT too", not _plaintext_ok(lab, cron, "audit"),
               "a policy for the whole namespace has no selector")
    ctx.expect("batch, the legacy client, still gets answers from reports", _plaintext_ok(lab, batch, "reports"),
               "keep reports PERMISSIVE with a workload-level PeerAuthentication (selector app: reports)")
    meshed = [lab.http(f"http://{h}.shop:8000/get", src=pod_of(lab, "ops2", "viewer")) for h in ("httpbin", "reports")]
    ctx.expect("meshed callers reach httpbin and reports over mTLS", all(r.status == 200 and r.mtls for r in meshed),
               "DISABLE would turn mTLS off for meshed callers too")
    ctx.expect("nothing outside shop changes: plaintext still reaches httpbin in namespace web",
               lab.http("http://httpbin.web:8000/get", src=cron).status == 200,
               "a PeerAuthentication in istio-system without a selector is mesh-wide: keep the policy in shop")
    _lint_mistakes(ctx, lab, docs, {"peer-authentication-selects-nothing": "PeerAuthentication selects nothing"})


# ---------------------------------------------------------------- 10-authz
@exercise("10-authz", title="Let only web's frontend read from httpbin", lesson=LESSON,
          scored=("frontend's GET /get is answered 200", "frontend's GET on other paths is answered too",
                  "frontend's POST is denied (403)", "other identities in namespace web are denied (403)",
                  "a service account called frontend in another namespace is denied (403)",
                  "a plaintext caller without identity is denied (403)",
                  "reports, outside the policy's target, still answers everyone"))
def authz(answer, ctx):
    """httpbin in shop answers GET from identity web/frontend only; every other caller and method gets 403."""
    docs = answer_docs(answer)
    principals = [p for d in docs if d.get("kind") == "AuthorizationPolicy"
                  for r in (d.get("spec") or {}).get("rules") or [] for f in (r or {}).get("from") or []
                  for p in ((f or {}).get("source") or {}).get("principals") or []]
    ctx.mistake("spiffe:// in a principal", any(str(p).startswith("spiffe://") for p in principals),
                "Istio's principals leave the scheme out: cluster.local/ns/web/sa/frontend")
    lab = shop_lab(ctx)
    _extra_callers(lab, ("evil", "frontend", True), ("web", "search", True))
    if not apply_answer(ctx, lab, answer):
        return
    frontend = pod_of(lab, "web", "frontend")

    def status(src, path="/get", method="GET"):
        return lab.http(f"http://httpbin.shop:8000{path}", src=src, method=method).status

    ctx.expect("frontend's GET /get is answered 200", status(frontend) == 200,
               "allow the source principal cluster.local/ns/web/sa/frontend, on method GET")
    ctx.expect("frontend's GET on other paths is answered too", status(frontend, "/headers") == 200
               and status(frontend, "/ip") == 200, "do not restrict paths: the brief allows every GET")
    ctx.expect("frontend's POST is denied (403)", status(frontend, "/post", "POST") == 403,
               "name the method in the rule's to.operation.methods")
    denied = {who: status(pod_of(lab, ns, app)) for who, ns, app in
              (("web/analytics", "web", "analytics"), ("web/search", "web", "search"),
               ("evil/frontend", "evil", "frontend"), ("legacy/batch", "legacy", "batch"))}
    ctx.expect("other identities in namespace web are denied (403)",
               denied["web/analytics"] == 403 and denied["web/search"] == 403,
               "namespaces: [web] lets every service account of web in; match the principal")
    ctx.expect("a service account called frontend in another namespace is denied (403)",
               denied["evil/frontend"] == 403, "a principal names the namespace too: .../ns/web/sa/frontend")
    ctx.expect("a plaintext caller without identity is denied (403)", denied["legacy/batch"] == 403,
               "a request without mTLS has no principal, so only an allow-all rule lets it in")
    ctx.expect("reports, outside the policy's target, still answers everyone",
               lab.http("http://reports.shop:8000/get", src=pod_of(lab, "web", "analytics")).status == 200,
               "select httpbin's pods (selector app: httpbin) or the policy covers the whole namespace")
    _lint_mistakes(ctx, lab, docs, {"principal-without-mtls": "a principal without mTLS"})
