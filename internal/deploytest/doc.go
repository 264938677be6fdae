// Package deploytest holds no code, only tests: they parse the Kubernetes
// manifests in deploy/kubernetes and check the fields that decide whether
// procview works on a node (no cluster is needed), and run the DaemonSet's
// node scripts against a temporary directory.
package deploytest
