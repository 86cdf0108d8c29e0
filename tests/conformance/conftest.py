def pytest_configure(config):
    config.addinivalue_line("markers", "implementation_specific: expectation outside what Kubernetes defines")
