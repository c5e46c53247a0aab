// Command cdi-install prints, as one JSON object, what CDI's operator would install for the
// local test cluster's cdi-controller, rendered by the operator's own factories:
//
//	crds        every CRD the operator installs: the CDI CR's own (operator.NewCdiCrd) and the
//	            "crd-resources" group of cluster.CreateStaticResourceGroup (DataVolume, CDIConfig,
//	            StorageProfile, DataSource, DataImportCron, ObjectTransfer, the populator sources, ...)
//	controller  the cdi-deployment Deployment from namespaced.CreateResourceGroup("controller"),
//	            whose container args and env are what test/cluster/start-cdi.sh runs the binary with
//
// RBAC, Services and the other components (apiserver, uploadproxy, cronjob) are left out: the
// controller runs as system:masters and nothing else of CDI runs here.
// Built by test/cluster/build-cdi.sh in a throw-away module outside the repository.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"kubevirt.io/containerized-data-importer/pkg/operator/resources/cluster"
	"kubevirt.io/containerized-data-importer/pkg/operator/resources/namespaced"
	cdioperator "kubevirt.io/containerized-data-importer/pkg/operator/resources/operator"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cdi-install: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	namespace := flag.String("namespace", "cdi", "namespace CDI is installed in")
	repo := flag.String("repo", "kubevirt", "image repository the image names are rendered with (never pulled here)")
	version := flag.String("version", "", "CDI version (image tag, OperatorVersion)")
	verbosity := flag.String("verbosity", "1", "controller -v level, as the CDI CR's default")
	flag.Parse()
	if *version == "" {
		fail("-version is required")
	}
	image := func(name string) string { return fmt.Sprintf("%s/%s:%s", *repo, name, *version) }

	crds := []*extv1.CustomResourceDefinition{cdioperator.NewCdiCrd()}
	objs, err := cluster.CreateStaticResourceGroup("crd-resources", &cluster.FactoryArgs{Namespace: *namespace})
	if err != nil {
		fail("crd-resources: %v", err)
	}
	for _, o := range objs {
		crd, ok := o.(*extv1.CustomResourceDefinition)
		if !ok {
			fail("crd-resources holds a %T", o)
		}
		crds = append(crds, crd)
	}
	for _, crd := range crds {
		if crd.Name == "" {
			fail("a CRD without a name (CDI's embedded YAML did not decode)")
		}
		crd.APIVersion, crd.Kind = "apiextensions.k8s.io/v1", "CustomResourceDefinition"
	}

	// The same arguments cdi-operator reads from its own Deployment's environment.
	args := &namespaced.FactoryArgs{
		OperatorVersion:        *version,
		ControllerImage:        image("cdi-controller"),
		DeployClusterResources: "true",
		ImporterImage:          image("cdi-importer"),
		ClonerImage:            image("cdi-cloner"),
		OvirtPopulatorImage:    image("ovirt-populator"),
		APIServerImage:         image("cdi-apiserver"),
		UploadProxyImage:       image("cdi-uploadproxy"),
		UploadServerImage:      image("cdi-uploadserver"),
		Verbosity:              *verbosity,
		PullPolicy:             "IfNotPresent",
		Namespace:              *namespace,
	}
	objs, err = namespaced.CreateResourceGroup("controller", args)
	if err != nil {
		fail("controller: %v", err)
	}
	var deployment *appsv1.Deployment
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			deployment = d
		}
	}
	if deployment == nil || len(deployment.Spec.Template.Spec.Containers) != 1 {
		fail("the controller group has no single-container Deployment")
	}
	deployment.APIVersion, deployment.Kind = "apps/v1", "Deployment"

	out := struct {
		Version    string                            `json:"version"`
		Namespace  string                            `json:"namespace"`
		CRDs       []*extv1.CustomResourceDefinition `json:"crds"`
		Controller client.Object                     `json:"controller"`
	}{*version, *namespace, crds, deployment}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fail("%v", err)
	}
}
