export interface ControlPlaneInfo {
  apiServerUrl: string;
  kubeconfigPath: string;
  unprivilegedKubeconfigPath: string;
  binDir: string;
  binarySource: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}
