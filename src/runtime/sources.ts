import {
  ApiException,
  createConfiguration,
  CustomObjectsApi,
  HttpMethod,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ServerConfiguration,
} from "@kubernetes/client-node";

/** Where an informer lists and watches one kind. */
export interface ResourceSource<T extends KubernetesObject> {
  /** The kind, for logs. */
  kind: string;
  /** The collection's path, which the watch uses, e.g. `/api/v1/namespaces/ns/secrets`. */
  path: string;
  list(labelSelector: string | undefined): Promise<KubernetesListObject<T>>;
}

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
}

/** A custom resource, listed through CustomObjectsApi (which returns the objects as sent). */
export function customResourceSource<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  ref: CustomResourceRef,
): ResourceSource<T> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version, plural, namespace } = ref;
  const scope = namespace === undefined ? "" : `/namespaces/${namespace}`;
  return {
    kind: ref.kind,
    path: `/apis/${group}/${version}${scope}/${plural}`,
    list: (labelSelector) =>
      (namespace === undefined
        ? api.listClusterCustomObject({ group, version, plural, labelSelector })
        : api.listNamespacedCustomObject({ group, version, namespace, plural, labelSelector })) as Promise<
        KubernetesListObject<T>
      >,
  };
}

export interface BuiltinResourceRef {
  /** `v1` for the core group, `group/version` otherwise. */
  apiVersion: string;
  plural: string;
  kind: string;
  namespace?: string;
}

/**
 * A built-in kind (Secrets, Leases, …). Its typed list call would turn timestamps into Date
 * objects while watch events carry them as strings, leaving the cache with two shapes of one
 * kind; listing over plain HTTP keeps every cached object exactly as the API server sent it, as
 * the zod schemas of src/api expect.
 */
export function builtinSource<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  ref: BuiltinResourceRef,
): ResourceSource<T> {
  const root = ref.apiVersion === "v1" ? "/api/v1" : `/apis/${ref.apiVersion}`;
  const scope = ref.namespace === undefined ? "" : `/namespaces/${ref.namespace}`;
  const path = `${root}${scope}/${ref.plural}`;
  return { kind: ref.kind, path, list: (labelSelector) => listAsSent<T>(kubeConfig, path, labelSelector) };
}

async function listAsSent<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  labelSelector: string | undefined,
): Promise<KubernetesListObject<T>> {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error("the kubeconfig has no current cluster");
  const request = new ServerConfiguration(cluster.server, {}).makeRequestContext(path, HttpMethod.GET);
  if (labelSelector !== undefined) request.setQueryParam("labelSelector", labelSelector);
  await kubeConfig.applySecurityAuthentication(request);
  const response = await createConfiguration().httpApi.send(request).toPromise();
  const body = await response.body.text();
  if (response.httpStatusCode !== 200) {
    throw new ApiException(response.httpStatusCode, `list ${path} failed`, body, response.headers);
  }
  return JSON.parse(body) as KubernetesListObject<T>;
}
