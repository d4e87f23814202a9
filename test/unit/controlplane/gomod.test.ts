import { describe, expect, it } from "vitest";
import { kubernetesLdflags, kubernetesWrapperGoMod, stagingModules } from "../../../src/controlplane/gomod.js";
import { stagingModuleVersion } from "../../../src/controlplane/versions.js";

const KUBERNETES_GO_MOD_EXCERPT = `module k8s.io/kubernetes

require (
\tgithub.com/spf13/cobra v1.10.2
\tk8s.io/api v0.0.0
\tk8s.io/kubectl v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/kubectl => ./staging/src/k8s.io/kubectl
\tk8s.io/api => ./staging/src/k8s.io/api
)

replace github.com/example/fork => github.com/example/fork v1.2.3
`;

describe("the wrapper module for k8s.io/kubernetes", () => {
  it("derives the staging modules from the replace directives that point into ./staging", () => {
    expect(stagingModules(KUBERNETES_GO_MOD_EXCERPT)).toEqual(["k8s.io/api", "k8s.io/kubectl"]);
  });

  it("replaces every staging module with its published v0 twin", () => {
    const goMod = kubernetesWrapperGoMod("1.36.3", ["k8s.io/api", "k8s.io/kubectl"]);
    expect(goMod).toContain("require k8s.io/kubernetes v1.36.3");
    expect(goMod).toContain("\tk8s.io/api => k8s.io/api v0.36.3");
    expect(goMod).toContain("\tk8s.io/kubectl => k8s.io/kubectl v0.36.3");
  });

  it("refuses to write a wrapper when no staging module was found", () => {
    expect(() => kubernetesWrapperGoMod("1.36.3", [])).toThrow(/no staging replacements/);
  });

  it("maps 1.<minor>.<patch> to v0.<minor>.<patch> and rejects anything else", () => {
    expect(stagingModuleVersion("1.36.3")).toBe("v0.36.3");
    expect(() => stagingModuleVersion("2.0.0")).toThrow(/unsupported/);
  });

  it("stamps the real version into both version packages", () => {
    const flags = kubernetesLdflags("1.36.3");
    for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
      expect(flags).toContain(`-X ${pkg}.gitVersion=v1.36.3`);
      expect(flags).toContain(`-X ${pkg}.gitMajor=1`);
      expect(flags).toContain(`-X ${pkg}.gitMinor=36`);
    }
    expect(flags).toMatch(/^-s -w /);
  });
});
