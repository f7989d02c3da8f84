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
