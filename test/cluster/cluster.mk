# Local test cluster targets (included from the Makefile). See docs/test-cluster.md.
.PHONY: cluster-build cluster-up cluster-down sandbox integration cache-lock-test

cluster-build: ## build etcd, kube-apiserver/-scheduler/-controller-manager, KubeVirt's virt-api/virt-controller, CDI's cdi-controller and the CRDs into ~/.cache/virtwork (cold: ~25 min)
	bash test/cluster/build.sh

cluster-up: $(DEPS_STAMP) ## start etcd, kube-apiserver, KubeVirt's and CDI's controllers and fake nodes on loopback; kubeconfig in .cluster/kubeconfig
	bash test/cluster/cluster-up.sh

cluster-down: ## stop the local test cluster (no process left behind)
	bash test/cluster/cluster-down.sh

sandbox: $(DEPS_STAMP) ## cluster-up + the node simulator (kubelet, virt-handler, storage) in the foreground: deploy with virtwork for real (first run builds the cluster: ~25 min)
	bash test/cluster/cluster-up.sh
	node --experimental-strip-types test/cluster/simulator/main.ts --kubeconfig .cluster/simulator.kubeconfig $(SANDBOX_ARGS)

integration: build ## integration tests against the local test cluster (starts and stops it)
	bash test/cluster/run-integration.sh

cache-lock-test: ## two cold cache builds at once into a fresh cache dir both succeed; an interrupted one leaves nothing
	bash test/cluster/test-cache-lock.sh
