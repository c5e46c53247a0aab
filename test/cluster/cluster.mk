# Local test cluster targets (included from the Makefile). See docs/test-cluster.md.
.PHONY: cluster-build cluster-up cluster-down sandbox integration cache-lock-test

cluster-build: ## build etcd, kube-apiserver and the KubeVirt/CDI CRDs into ~/.cache/virtwork (cold: slow)
	bash test/cluster/build.sh

cluster-up: ## start etcd + kube-apiserver + CRDs on loopback; kubeconfig in .cluster/kubeconfig
	bash test/cluster/cluster-up.sh

cluster-down: ## stop the local test cluster (no process left behind)
	bash test/cluster/cluster-down.sh

sandbox: $(DEPS_STAMP) ## cluster-up + the VMI simulator in the foreground: deploy with virtwork for real (first run builds the cluster: ~9 min quiet, ~30 min loaded)
	bash test/cluster/cluster-up.sh
	node --experimental-strip-types test/cluster/simulator/main.ts --kubeconfig .cluster/simulator.kubeconfig $(SANDBOX_ARGS)

integration: build ## integration tests against the local test cluster (starts and stops it)
	bash test/cluster/run-integration.sh

cache-lock-test: ## two cold cache builds at once into a fresh cache dir both succeed; an interrupted one leaves nothing
	bash test/cluster/test-cache-lock.sh
