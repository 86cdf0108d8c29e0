"""Manifests the API server tests apply with kubectl and the Python client."""

WEB_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
"""

WEB_SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""

CLIENT = """\
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  containers: [{name: client, image: busybox:1.36, command: [sleep, infinity]}]
"""

APP = "---\n".join((WEB_DEPLOYMENT, WEB_SERVICE, CLIENT))
# the lesson walkthroughs expose the Deployment themselves
WORKLOADS = "---\n".join((WEB_DEPLOYMENT, CLIENT))

HEADLESS = """\
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
"""

# agnhost netexec beside an nginx: two containers, each printing its own log
NETEXEC = """\
apiVersion: v1
kind: Pod
metadata: {name: net, labels: {app: net}}
spec:
  containers:
  - name: netexec
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: [netexec, --http-port=8080]
    ports: [{containerPort: 8080}]
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80}]
"""

DENY_WEB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-web}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
"""

BAD_NODEPORT = """\
apiVersion: v1
kind: Service
metadata: {name: bad}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, nodePort: 80}]
"""

GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [shop.example]
  rules: [{backendRefs: [{name: web, port: 80}]}]
"""
