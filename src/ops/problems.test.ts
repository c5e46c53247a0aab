import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dataVolumeProblem, noDefaultClassProblem, vmiProblem, vmProblem } from "./problems.ts";

describe("what KubeVirt reports on a VM", () => {
  it("image pull failures fail at once, naming the image option", () => {
    for (const printableStatus of ["ErrImagePull", "ImagePullBackOff"]) {
      const p = vmProblem({
        status: {
          printableStatus,
          conditions: [
            {
              type: "Ready",
              status: "False",
              reason: printableStatus,
              message: 'Back-off pulling image "q/x"',
            },
          ],
        },
      });
      assert.equal(p?.after, "now");
      assert.match(
        p?.cause ?? "",
        new RegExp(`cannot be pulled \\(${printableStatus}: Back-off pulling image "q/x"\\)`),
      );
      assert.match(p?.fix ?? "", /--container-disk-image/);
    }
  });

  it("a virt-launcher pod refused by Pod Security fails at once, naming the label to set", () => {
    const p = vmiProblem({
      status: {
        phase: "Pending",
        conditions: [
          {
            type: "Synchronized",
            status: "False",
            reason: "FailedCreate",
            message:
              'failed to create pod for vmi ns/vm, it needs a privileged namespace to run: pods "virt-launcher-vm-x" is forbidden: violates PodSecurity "restricted:latest": seccompProfile',
          },
        ],
      },
    });
    assert.equal(p?.after, "now");
    assert.match(p?.cause ?? "", /virt-launcher pod was refused: .*violates PodSecurity/);
    assert.match(p?.fix ?? "", /pod-security\.kubernetes\.io\/enforce=privileged/);
  });

  it("unschedulable names the scheduler's message from the VM's PodScheduled condition", () => {
    const p = vmProblem({
      status: {
        printableStatus: "ErrorUnschedulable",
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "GuestNotRunning",
            message: "Guest VM is not reported as running",
          },
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message: "0/2 nodes are available: 2 Insufficient cpu.",
          },
        ],
      },
    });
    assert.match(p?.cause ?? "", /ErrorUnschedulable: 0\/2 nodes are available: 2 Insufficient cpu\./);
  });

  it("unschedulable waits for its grace; CrashLoopBackOff and DataVolumeError do not", () => {
    assert.equal(
      vmProblem({ status: { printableStatus: "ErrorUnschedulable" } })?.after,
      "unschedulable-grace",
    );
    assert.equal(vmProblem({ status: { printableStatus: "CrashLoopBackOff" } })?.after, "now");
    assert.equal(vmProblem({ status: { printableStatus: "DataVolumeError" } })?.after, "now");
    assert.equal(vmProblem({ status: { printableStatus: "ErrorDataVolumeNotFound" } })?.after, "short-grace");
  });

  it("normal progress is no problem", () => {
    for (const printableStatus of [
      "Provisioning",
      "Starting",
      "WaitingForVolumeBinding",
      "Running",
      undefined,
    ])
      assert.equal(vmProblem({ status: { ...(printableStatus ? { printableStatus } : {}) } }), undefined);
  });

  it("a quota refusal of the VMI's pod fails at once with the quota fix", () => {
    const p = vmiProblem({
      status: {
        phase: "Pending",
        conditions: [
          {
            type: "Synchronized",
            status: "False",
            reason: "FailedCreate",
            message:
              'pods "virt-launcher-x" is forbidden: exceeded quota: vms, requested: requests.memory=2Gi',
          },
        ],
      },
    });
    assert.equal(p?.after, "now");
    assert.match(p?.cause ?? "", /exceeded quota: vms/);
    assert.match(p?.fix ?? "", /ResourceQuota/);
  });

  it("a failed VMI fails at once with its reason; PodScheduled=False waits", () => {
    assert.match(vmiProblem({ status: { phase: "Failed", reason: "boom" } })?.cause ?? "", /failed: boom/);
    assert.equal(
      vmiProblem({
        status: {
          phase: "Scheduling",
          conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }],
        },
      })?.after,
      "unschedulable-grace",
    );
    assert.equal(vmiProblem({ status: { phase: "Scheduled" } }), undefined);
  });
});

describe("what CDI reports on a DataVolume", () => {
  it("WaitForFirstConsumer and imports in progress are normal", () => {
    for (const phase of ["WaitForFirstConsumer", "PendingPopulation", "ImportScheduled", "ImportInProgress"])
      assert.equal(dataVolumeProblem({ metadata: { name: "d" }, status: { phase } }), undefined, phase);
  });

  it("a missing class, a provisioning failure and a failed DataVolume fail at once", () => {
    const missing = dataVolumeProblem({
      metadata: { name: "d" },
      status: {
        phase: "Pending",
        conditions: [
          { type: "Bound", status: "False", message: 'storageclass.storage.k8s.io "x" not found' },
        ],
      },
    });
    assert.match(missing?.cause ?? "", /DataVolume d cannot bind: storageclass.storage.k8s.io "x" not found/);
    assert.match(missing?.fix ?? "", /--storage-class/);
    const prov = dataVolumeProblem({
      metadata: { name: "d" },
      status: {
        phase: "Pending",
        conditions: [{ type: "Bound", status: "False", reason: "ProvisioningFailed", message: "no space" }],
      },
    });
    assert.equal(prov?.after, "now");
    assert.equal(dataVolumeProblem({ metadata: { name: "d" }, status: { phase: "Failed" } })?.after, "now");
  });

  it("no default StorageClass: names the classes there are, or says there are none", () => {
    const dv = { metadata: { name: "d" } };
    assert.match(noDefaultClassProblem(dv, [])?.fix ?? "", /no StorageClass at all/);
    assert.match(noDefaultClassProblem(dv, [{ metadata: { name: "slow" } }])?.fix ?? "", /has: slow/);
    const def = {
      metadata: { name: "std", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    };
    assert.equal(noDefaultClassProblem(dv, [def]), undefined);
    const virt = {
      metadata: { name: "v", annotations: { "storageclass.kubevirt.io/is-default-virt-class": "true" } },
    };
    assert.equal(noDefaultClassProblem(dv, [virt]), undefined);
  });
});
