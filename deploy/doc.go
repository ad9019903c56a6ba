// Package deploy holds the deployment files (kubernetes/: kustomize base,
// overlays and a native-sidecar example; helm/: values for the official
// fluent-bit chart) and, in its tests, their validation: kustomize build
// and helm template/lint through their Go libraries, every object decoded
// strictly into the typed Kubernetes API (unknown fields, wrong types),
// and checks that the workloads match conf/ (variables, Grace, probes,
// storage, IRSA, Secrets). The heavy modules (helm, kustomize, k8s.io/*)
// are linked only into this package's test binary.
package deploy
