// Command kubevirt-crdgen prints the VirtualMachine and VirtualMachineInstance CRDs exactly as
// KubeVirt's virt-operator installs them, by calling virt-operator's own generators.
// Built by test/cluster/gen-crds.sh in a throw-away module outside the repository.
package main

import (
	"encoding/json"
	"os"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/components"
)

func main() {
	gens := []func() (*extv1.CustomResourceDefinition, error){
		components.NewVirtualMachineCrd,
		components.NewVirtualMachineInstanceCrd,
	}
	out := []*extv1.CustomResourceDefinition{}
	for _, g := range gens {
		crd, err := g()
		if err != nil {
			panic(err)
		}
		crd.Status = extv1.CustomResourceDefinitionStatus{}
		out = append(out, crd)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
