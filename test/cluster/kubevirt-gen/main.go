// Command kubevirt-installgen prints, as one JSON object, what KubeVirt's virt-operator installs
// at this module's tag, taken from virt-operator's own install strategy
// (install.GenerateCurrentInstallStrategy): every CRD (and the KubeVirt CRD from virt-operator's manifest), the virt-api admission webhooks, the
// virt-api / virt-controller Deployments (their real arguments), and the PrometheusRule with
// KubeVirt's alerts. test/cluster/start-kubevirt.sh installs the CRDs and webhooks from it.
// Built by test/cluster/build-kubevirt.sh in a throw-away module outside the repository.
package main

import (
	"encoding/json"
	"os"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1 "kubevirt.io/api/core/v1"
	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/components"
	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/install"
	operatorutil "kubevirt.io/kubevirt/pkg/virt-operator/util"
)

func main() {
	ns := os.Getenv("KUBEVIRT_NAMESPACE")
	if ns == "" {
		ns = "kubevirt"
	}
	kv := &v1.KubeVirt{ObjectMeta: metav1.ObjectMeta{Name: "kubevirt", Namespace: ns}}
	config := operatorutil.GetTargetConfigFromKV(kv)
	// "monitoring": a non-empty monitor namespace makes the strategy render the PrometheusRule.
	strategy, err := install.GenerateCurrentInstallStrategy(config, "monitoring", ns)
	if err != nil {
		panic(err)
	}
	// The KubeVirt CRD itself ships with virt-operator's own manifest, not in the strategy.
	kvCrd, err := components.NewKubeVirtCrd()
	if err != nil {
		panic(err)
	}
	crds := append([]*extv1.CustomResourceDefinition{kvCrd}, strategy.CRDs()...)
	for _, crd := range crds {
		crd.Status = extv1.CustomResourceDefinitionStatus{}
	}
	out := map[string]any{
		"crds":                            crds,
		"mutatingWebhookConfigurations":   strategy.MutatingWebhookConfigurations(),
		"validatingWebhookConfigurations": strategy.ValidatingWebhookConfigurations(),
		"deployments":                     strategy.Deployments(),
		"prometheusRules":                 strategy.PrometheusRules(),
		"apiServices":                     strategy.APIServices(),
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
