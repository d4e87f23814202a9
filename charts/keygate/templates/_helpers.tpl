{{/* The chart name, or nameOverride. */}}
{{- define "keygate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every resource name: fullnameOverride, the release name if it contains the chart name, else "<release>-<chart>". */}}
{{- define "keygate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels that select one component's pods; they never change after install. */}}
{{- define "keygate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keygate.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of every object of a component. No chart version or Helm marker: the kustomize base is
rendered from these templates and must not claim to be Helm-managed. */}}
{{- define "keygate.labels" -}}
{{ include "keygate.selectorLabels" . }}
app.kubernetes.io/part-of: keygate
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end -}}

{{/* The container image: repository@digest, or repository:tag (default appVersion). */}}
{{- define "keygate.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (toString (default .Chart.AppVersion .Values.image.tag)) -}}
{{- end -}}
{{- end -}}

{{/* Pod-level securityContext of the "restricted" Pod Security Standard. */}}
{{- define "keygate.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level securityContext of the "restricted" Pod Security Standard, read-only root filesystem. */}}
{{- define "keygate.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Prefer one replica per node, unless the values give an affinity. */}}
{{- define "keygate.affinity" -}}
{{- if .affinity -}}
{{- toYaml .affinity -}}
{{- else -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "keygate.selectorLabels" . | nindent 12 }}
{{- end -}}
{{- end -}}

{{/* Processes serving the verification API: every operator replica, and the verifiers (at most as many as the HPA may run). */}}
{{- define "keygate.verificationReplicas" -}}
{{- $verifiers := 0 -}}
{{- if .Values.verifier.enabled -}}
{{- $verifiers = ternary .Values.verifier.autoscaling.maxReplicas .Values.verifier.replicas .Values.verifier.autoscaling.enabled -}}
{{- end -}}
{{- add .Values.operator.replicas $verifiers -}}
{{- end -}}

{{/* The --replay-store of every process: an external Redis, the bundled one, or memory, which only a single process may use. */}}
{{- define "keygate.replayStore" -}}
{{- $url := .Values.replayStore.url -}}
{{- if and $url .Values.replayStore.bundled.enabled -}}
{{- fail "replayStore: set url (an external Redis) or bundled.enabled, not both" -}}
{{- else if $url -}}
{{- if not (regexMatch "^rediss?://[^/]" $url) -}}
{{- fail "replayStore.url must be a redis:// or rediss:// URL" -}}
{{- end -}}
{{- if regexMatch "^rediss?://[^/@]*:[^/@]*@" $url -}}
{{- fail "replayStore.url must not carry a password: put it in a Secret and name it in replayStore.passwordSecret" -}}
{{- end -}}
{{- $url -}}
{{- else if .Values.replayStore.bundled.enabled -}}
{{- printf "redis://%s-redis.%s.svc:6379" (include "keygate.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- $replicas := include "keygate.verificationReplicas" . | int -}}
{{- if gt $replicas 1 -}}
{{- fail (printf "replayStore: %d processes serve the verification API (operator.replicas, plus verifier.replicas or verifier.autoscaling.maxReplicas), and a replay store in memory is per process: an ACS3 request refused as a replay by one would be allowed by another. Set replayStore.bundled.enabled=true, or replayStore.url to a Redis they all reach, or run one process (operator.replicas=1, verifier.enabled=false)." $replicas) -}}
{{- end -}}
memory
{{- end -}}
{{- end -}}

{{/* Flags shared by `keygate operator` and `keygate verifier` for the verification API. */}}
{{- define "keygate.verifierArgs" -}}
{{- if not (has .Values.verifier.ownerLookupScope (list "cluster" "namespace")) }}{{ fail "verifier.ownerLookupScope must be cluster or namespace" }}{{ end -}}
- --last-used-interval={{ .Values.verifier.lastUsedInterval }}
- --owner-lookup-scope={{ .Values.verifier.ownerLookupScope }}
- {{ printf "--replay-store=%s" (include "keygate.replayStore" .) | quote }}
- --replay-store-key-prefix={{ .Values.replayStore.keyPrefix }}
{{- if .Values.replayStore.caSecret.name }}
- --replay-store-ca-file=/var/run/keygate/replay-store-ca/{{ .Values.replayStore.caSecret.key }}
{{- end }}
{{- with .Values.verifier.trustedProxies }}
- --trusted-proxies={{ join "," . }}
{{- end }}
{{- with .Values.verifier.trustedCallers }}
- --trusted-callers={{ join "," . }}
{{- end }}
- --webauthn-rp-id={{ .Values.webauthn.rpId }}
- {{ printf "--webauthn-rp-name=%s" .Values.webauthn.rpName | quote }}
- {{ printf "--webauthn-origins=%s" (join "," .Values.webauthn.origins) | quote }}
{{- end -}}

{{/* The pod's namespace and name: the operator's namespace (KEK, keystore, Lease) and its leader-election identity. */}}
{{- define "keygate.podEnv" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: KEYGATE_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.replayStore.passwordSecret.name }}
- name: KEYGATE_REPLAY_STORE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.replayStore.passwordSecret.key }}
{{- end }}
{{- end -}}

{{/* The replay store's CA bundle, mounted where --replay-store-ca-file points. */}}
{{- define "keygate.replayStoreVolumeMounts" -}}
{{- if .Values.replayStore.caSecret.name }}
- name: replay-store-ca
  mountPath: /var/run/keygate/replay-store-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "keygate.replayStoreVolumes" -}}
{{- with .Values.replayStore.caSecret.name }}
- name: replay-store-ca
  secret:
    secretName: {{ . }}
{{- end }}
{{- end -}}

{{/* The bundled Redis image: repository@digest, or repository:tag. */}}
{{- define "keygate.redisImage" -}}
{{- if .Values.replayStore.bundled.image.digest -}}
{{- printf "%s@%s" .Values.replayStore.bundled.image.repository .Values.replayStore.bundled.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.replayStore.bundled.image.repository (toString .Values.replayStore.bundled.image.tag) -}}
{{- end -}}
{{- end -}}
