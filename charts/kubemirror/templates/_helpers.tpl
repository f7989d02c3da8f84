{{- define "kubemirror.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kubemirror.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "kubemirror.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "kubemirror.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubemirror.labels" -}}
app.kubernetes.io/name: {{ include "kubemirror.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kubemirror.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubemirror.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubemirror.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kubemirror.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The port of a bind address such as ":8080" or "0.0.0.0:8080". */}}
{{- define "kubemirror.port" -}}
{{- regexReplaceAll "^.*:" . "" -}}
{{- end -}}

{{/*
The resource (plural) of a Kind.version[.group] item, by English plural rules; and its group.
*/}}
{{- define "kubemirror.plural" -}}
{{- $kind := lower (index (splitList "." .) 0) -}}
{{- if or (hasSuffix "s" $kind) (hasSuffix "x" $kind) (hasSuffix "ch" $kind) (hasSuffix "sh" $kind) -}}
{{- printf "%ses" $kind -}}
{{- else if and (hasSuffix "y" $kind) (not (regexMatch "[aeiou]y$" $kind)) -}}
{{- printf "%sies" (trimSuffix "y" $kind) -}}
{{- else -}}
{{- printf "%ss" $kind -}}
{{- end -}}
{{- end -}}

{{- define "kubemirror.group" -}}
{{- $parts := splitList "." . -}}
{{- if gt (len $parts) 2 -}}
{{- join "." (slice $parts 2) -}}
{{- end -}}
{{- end -}}

{{/* The Lease name: the earlier chart's controller.leaderElectionID wins over ours when set. */}}
{{- define "kubemirror.leaderElectionId" -}}
{{- .Values.controller.leaderElectionID | default .Values.controller.leaderElectionId -}}
{{- end -}}

{{/*
The kinds the ServiceAccount may mirror, as a JSON list: controller.resourceTypes when it names kinds
(the controller serves exactly those), else rbac.resourceTypes (the controller discovers every kind and
serves those it may).
*/}}
{{- define "kubemirror.rbacResourceTypes" -}}
{{- if .Values.controller.resourceTypes -}}
{{- toJson .Values.controller.resourceTypes -}}
{{- else -}}
{{- toJson .Values.rbac.resourceTypes -}}
{{- end -}}
{{- end -}}

{{/* Whether the server has ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, Kubernetes 1.30+). */}}
{{- define "kubemirror.admissionPolicySupported" -}}
{{- if and (semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version) (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1") -}}
true
{{- end -}}
{{- end -}}

{{/* The Service's metrics port: service.metricsPort (earlier chart), or the older metrics.service.port. */}}
{{- define "kubemirror.metricsServicePort" -}}
{{- .Values.metrics.service.port | default .Values.service.metricsPort -}}
{{- end -}}

{{/*
V8 flags from the container's memory limit: the JavaScript heap may use 40% of it, so garbage from large
objects is collected before the process nears the limit. The young generation keeps V8's 16 MB: a 1 MB one
(until 2026-12-01) promoted each write's request and answer to the old generation, and a fan-out cost a
third more CPU per mirror for 0-2 MiB less resident after it (docs/SCALING.md). --single-threaded was tried:
smaller idle, 25 MiB more after a 1,000-mirror fan-out. Measured with `deno task bench:memory`,
`deno task bench:scale` and `deno task bench:curve` (README, "Memory"). Empty when no limit is set in Mi,
Gi, M or G.
*/}}
{{- define "kubemirror.v8Flags" -}}
{{- $limit := toString (dig "limits" "memory" "" .Values.resources) -}}
{{- $mi := 0 -}}
{{- if hasSuffix "Mi" $limit -}}{{- $mi = int (trimSuffix "Mi" $limit) -}}
{{- else if hasSuffix "Gi" $limit -}}{{- $mi = mul (int (trimSuffix "Gi" $limit)) 1024 -}}
{{- else if hasSuffix "M" $limit -}}{{- $mi = div (mul (int (trimSuffix "M" $limit)) 1000000) 1048576 -}}
{{- else if hasSuffix "G" $limit -}}{{- $mi = div (mul (int (trimSuffix "G" $limit)) 1000000000) 1048576 -}}
{{- end -}}
{{- if gt $mi 0 -}}
--max-old-space-size={{ div (mul $mi 2) 5 }},--max-semi-space-size=16
{{- end -}}
{{- end -}}
