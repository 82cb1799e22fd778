{{/*
A component's image: "repository:tag", the tag defaulting to the chart's appVersion, or "repository@digest" when a
digest is set. Called with (list $ .Values.<component>.image).
*/}}
{{- define "dovetail.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- if $image.digest -}}
{{ $image.repository }}@{{ $image.digest }}
{{- else -}}
{{ $image.repository }}:{{ $image.tag | default $root.Chart.AppVersion }}
{{- end -}}
{{- end -}}
