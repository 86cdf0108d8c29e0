"""Lesson 00's check: 00-first-pod (a labelled pod that listens on 8080)."""
from kubelab.course.exercises import check

from .helpers import failed, mistakes

HELLO = """
apiVersion: v1
kind: Pod
metadata:
  name: hello
  labels:
    app: hello
spec:
  containers:
  - name: hello
    image: nginxinc/nginx-unprivileged
    ports:
    - containerPort: 8080
"""


def test_reference_answer_passes_every_sub_check():
    """Does the lesson's answer pass all four sub-checks?"""
    result = check("00-first-pod", HELLO)
    assert bool(result) and result.total == 4
    assert mistakes(result) == []


def test_declared_port_the_image_does_not_listen_on_is_named():
    """Is nginx (which listens on 80) declaring containerPort 8080 refused on 8080, with the image named?"""
    result = check("00-first-pod", HELLO.replace("image: nginxinc/nginx-unprivileged", "image: nginx"))
    assert failed(result) == ["another pod reaches it on port 8080"]
    assert mistakes(result) == ["the image listens on another port"]
    hint = result.checks[[c.name for c in result.checks].index("another pod reaches it on port 8080")].hint
    assert "nginx listens on 80/TCP" in hint and "does not enforce containerPort" in hint


def test_wrong_declared_port_is_named():
    """Does a pod that listens on 8080 but declares 80 fail only the declaration, with the port mistake named?"""
    result = check("00-first-pod", HELLO.replace("containerPort: 8080", "containerPort: 80"))
    assert failed(result) == ["its container declares containerPort 8080"]
    assert mistakes(result) == ["declares another port"]


def test_undeclared_port_still_listens():
    """Does a pod without any ports section still answer on 8080 (Kubernetes does not enforce containerPort)?"""
    result = check("00-first-pod", HELLO.replace("    ports:\n    - containerPort: 8080\n", ""))
    assert failed(result) == ["its container declares containerPort 8080"]
    assert mistakes(result) == []


def test_unknown_image_listens_where_it_declares():
    """Does an image kubelab does not know pass by the simulator convention (it listens on its containerPorts)?"""
    result = check("00-first-pod", HELLO.replace("image: nginxinc/nginx-unprivileged", "image: example/hello:1.0"))
    assert bool(result) and result.passed == 4


def test_missing_label_fails_only_the_selector_check():
    """Does a pod without app=hello fail the selector sub-check and keep the others?"""
    result = check("00-first-pod", HELLO.replace("  labels:\n    app: hello\n", ""))
    assert failed(result) == ["the selector app=hello finds it"]
    assert result.passed == 3


def test_labels_under_spec_fail_with_the_field_named():
    """Are labels written under spec reported as an apply error naming spec.labels, without a traceback?"""
    answer = HELLO.replace("  labels:\n    app: hello\nspec:\n", "spec:\n  labels:\n    app: hello\n")
    result = check("00-first-pod", answer)
    assert failed(result) == ["the manifest applies"]
    assert "spec.labels" in result.checks[0].hint


def test_bad_yaml_fails_cleanly():
    """Does YAML that does not parse give one failed sub-check naming the YAML error?"""
    result = check("00-first-pod", "kind: Pod\nmetadata: {name: hello\n")
    assert [(c.name, c.kind) for c in result.checks] == [("the manifest applies", "check")]
    assert "not valid YAML" in result.checks[0].hint and result.score == 0


def test_another_name_fails():
    """Is a correct pod under another name failed with a hint about metadata.name?"""
    result = check("00-first-pod", HELLO.replace("name: hello\n", "name: hi\n", 1))
    assert failed(result) == ["a Pod named hello exists in namespace default"]
    assert "metadata.name" in result.checks[-1].hint
