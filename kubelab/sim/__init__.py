"""The simulated cluster: object store, API-server admission, controllers, scheduler and IPAM."""
