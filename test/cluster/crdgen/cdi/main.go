// Command cdi-crdgen prints every CRD CDI's operator installs (resources.CDICRDs: DataVolume,
// CDI, CDIConfig, StorageProfile, DataSource, ...), as a JSON array in name order. KubeVirt's
// virt-controller waits for the CDI kinds it watches once the DataVolume CRD exists.
// Built by test/cluster/gen-crds.sh in a throw-away module outside the repository.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"kubevirt.io/containerized-data-importer/pkg/operator/resources"
	"sigs.k8s.io/yaml"
)

func main() {
	if _, ok := resources.CDICRDs["datavolume"]; !ok {
		fmt.Fprintln(os.Stderr, "CDI has no datavolume CRD")
		os.Exit(1)
	}
	names := make([]string, 0, len(resources.CDICRDs))
	for n := range resources.CDICRDs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []json.RawMessage{}
	for _, n := range names {
		js, err := yaml.YAMLToJSON([]byte(resources.CDICRDs[n]))
		if err != nil {
			panic(err)
		}
		out = append(out, js)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
