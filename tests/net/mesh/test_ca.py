"""The simulated istiod CA: what it issues, that peers can verify it, and that it is reproducible."""
from __future__ import annotations

from kubelab.net.mesh.ca import MeshCA

ID = "spiffe://cluster.local/ns/foo/sa/httpbin"


def test_workload_certificate_carries_the_spiffe_id_and_a_day_of_validity():
    info = MeshCA.describe(MeshCA().issue(ID))
    assert info.uris == (ID,) and info.subject == "" and not info.is_ca
    assert (info.not_before, info.not_after) == ("2026-12-04T00:00:00+00:00", "2026-12-05T00:00:00+00:00")


def test_root_is_a_ca_for_the_trust_domain():
    ca = MeshCA("example.org")
    info = MeshCA.describe(ca.root)
    assert info.is_ca and info.subject == info.issuer == "O=example.org"


def test_peers_verify_against_their_own_root_only():
    ours, theirs = MeshCA(seed=0), MeshCA(seed=1)
    assert ours.verify(ours.issue(ID))
    assert not ours.verify(theirs.issue(ID))


def test_same_seed_same_certificate():
    assert MeshCA.der(MeshCA(seed=3).issue(ID)) == MeshCA.der(MeshCA(seed=3).issue(ID))
    assert MeshCA.der(MeshCA(seed=3).issue(ID)) != MeshCA.der(MeshCA(seed=4).issue(ID))
