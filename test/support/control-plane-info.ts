export interface ControlPlaneInfo {
  apiServerUrl: string;
  kubeconfigPath: string;
  unprivilegedKubeconfigPath: string;
  /** The cluster CA's files: a client certificate it signs is any identity a test needs. */
  caFiles: { certFile: string; keyFile: string };
  binDir: string;
  binarySource: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}
