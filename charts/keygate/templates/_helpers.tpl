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
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
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

{{/* Flags shared by `keygate operator` and `keygate verifier` for the verification API. */}}
{{- define "keygate.verifierArgs" -}}
- --last-used-interval={{ .Values.verifier.lastUsedInterval }}
{{- with .Values.verifier.trustedProxies }}
- --trusted-proxies={{ join "," . }}
{{- end }}
{{- with .Values.verifier.trustedCallers }}
- --trusted-callers={{ join "," . }}
{{- end }}
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
{{- end -}}
