// keygate's custom resources written in TypeScript with the typed model classes, as a cdk8s app or
// a GitOps generator would. Prints the three example objects of examples/*.yaml as one YAML stream:
//   npx tsx examples/typescript/manifests.ts | kubectl apply -n my-team -f -
// Outside this repository, import the classes from the package:
//   import { AccessKey, MfaDevice, TemporaryCredential } from "keygate/models";
import { pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { AccessKey, MfaDevice, TemporaryCredential } from "../../src/models/index.js";

// validate() checks an object against the CRD's OpenAPI schema before it leaves the program; the
// API server still applies the CRD's CEL rules (immutability, CIDR syntax) on top.

/** A long-term access key; the pair lands in the Secret "ci-deployer-key-credentials". */
export function ciDeployerKey(): AccessKey {
  const key = new AccessKey({
    metadata: { name: "ci-deployer-key" },
    spec: {
      user: "ci-deployer",
      description: "deploys from CI",
      // Requests signed with this key are accepted only from these networks.
      allowedSourceCIDRs: ["10.0.0.0/8", "fd00::/8"],
    },
  });
  key.validate();
  return key;
}

/** A virtual MFA device (an authenticator app); bind it later with two consecutive codes. */
export function ciDeployerPhone(): MfaDevice {
  const device = new MfaDevice({
    metadata: { name: "ci-deployer-phone" },
    spec: { user: "ci-deployer", type: "Virtual", deviceName: "ci-deployer-phone" },
  });
  device.validate();
  return device;
}

/** A one-hour session: temporary key, secret and security token, deleted at the expiry. */
export function ciDeployerSession(): TemporaryCredential {
  const session = new TemporaryCredential({
    metadata: { name: "ci-deployer-session" },
    spec: { user: "ci-deployer", durationSeconds: 3600 },
  });
  session.validate();
  return session;
}

export function manifests(): [AccessKey, MfaDevice, TemporaryCredential] {
  return [ciDeployerKey(), ciDeployerPhone(), ciDeployerSession()];
}

/** One YAML stream, ready for `kubectl apply -f -` or a GitOps repository. */
export function toYaml(objects: readonly { toJSON(): unknown }[]): string {
  return objects.map((object) => stringify(object.toJSON())).join("---\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(toYaml(manifests()));
