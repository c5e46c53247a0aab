// Command cdi-crdgen prints the DataVolume CRD exactly as CDI's operator installs it
// (resources.CDICRDs["datavolume"], used unmodified by cluster.NewDataVolumeCrd), as JSON.
// Built by test/cluster/gen-crds.sh in a throw-away module outside the repository.
package main

import (
	"fmt"
	"os"

	"kubevirt.io/containerized-data-importer/pkg/operator/resources"
	"sigs.k8s.io/yaml"
)

func main() {
	src, ok := resources.CDICRDs["datavolume"]
	if !ok {
		fmt.Fprintln(os.Stderr, "CDI has no datavolume CRD")
		os.Exit(1)
	}
	js, err := yaml.YAMLToJSON([]byte(src))
	if err != nil {
		panic(err)
	}
	fmt.Printf("[%s]\n", js)
}
