"""`kubelab serve`: applies the given manifests, writes the kubeconfig, prints the export line."""
import os
import subprocess
import sys

import yaml
from kubernetes import client, config

from .manifests import APP


def test_kubelab_serve_with_manifests_and_tls(tmp_path):
    """Does `kubelab serve -f app.yaml --tls` serve https with the manifests applied, trusted via the kubeconfig?"""
    (tmp_path / "app.yaml").write_text(APP)
    kubeconfig = tmp_path / "kubeconfig"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "kubelab.cli", "serve", "-f", str(tmp_path / "app.yaml"),
                             "--kubeconfig", str(kubeconfig), "--tls"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert first.startswith("kubelab: serving the simulated cluster at https://127.0.0.1:")
        assert second.strip() == f"export KUBECONFIG={kubeconfig}"
        cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
        assert "certificate-authority-data" in cluster and "insecure-skip-tls-verify" not in cluster
        v1 = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
        assert v1.read_namespaced_pod("client", "default").status.phase == "Running"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_kubelab_course_serves_a_cluster_for_jupyterlabs_terminals(tmp_path, monkeypatch, capsys):
    """Does `kubelab course` start JupyterLab with KUBECONFIG pointing at a served cluster, and stop it after?"""
    from kubelab import cli

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00-welcome.ipynb").write_text("{}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KUBECONFIG", "/original/kubeconfig")
    seen = []

    def fake_jupyterlab(command, env=None):
        path = env["KUBECONFIG"]
        v1 = client.CoreV1Api(config.new_client_from_config(config_file=path))
        seen.append(sorted(n.metadata.name for n in v1.list_node().items))
        return 0
    monkeypatch.setattr(cli, "run_forwarding_signals", fake_jupyterlab)
    assert cli.main(["course", "--no-browser"]) == 0
    assert seen == [["node-1", "node-2", "node-3"]]
    assert os.environ["KUBECONFIG"] == "/original/kubeconfig"
    assert "the course's cluster is served at http://127.0.0.1:" in capsys.readouterr().out
