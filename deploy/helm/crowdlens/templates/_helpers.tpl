{{- define "crowdlens.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "crowdlens.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one role: (dict "ctx" $ "role" "ingest") */}}
{{- define "crowdlens.selector" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "crowdlens.image" -}}
{{- $img := .ctx.Values.image -}}
{{- $override := .override | default dict -}}
{{- printf "%s:%s" ($override.repository | default $img.repository) ($override.tag | default $img.tag | default .ctx.Chart.AppVersion) -}}
{{- end -}}

{{- define "crowdlens.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "crowdlens.fullname" .)) -}}
{{- end -}}

{{/* The ConfigMap's crowdlens.yaml: config with bus from `kafka` (no secrets). */}}
{{- define "crowdlens.configYaml" -}}
{{- if not .Values.kafka.brokers -}}
{{- fail "kafka.brokers is required: the chart runs ingest, inference and analytics around your Kafka" -}}
{{- end -}}
{{- $bus := dict "type" "kafka" "brokers" .Values.kafka.brokers "partitions" (int .Values.kafka.partitions) -}}
{{- if .Values.kafka.ssl -}}{{- $_ := set $bus "ssl" .Values.kafka.ssl -}}{{- end -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $_ := set $cfg "bus" (mergeOverwrite (get $cfg "bus" | default dict) $bus) -}}
{{- $_ := set $cfg "dataDir" "/data" -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The Secret's secrets.yaml: auth, the database URL, cameras with credentials. */}}
{{- define "crowdlens.secretsYaml" -}}
{{- $auth := dict "users" .Values.secrets.users -}}
{{- $keys := list -}}
{{- range .Values.secrets.apiKeys }}{{ $keys = append $keys . }}{{ end -}}
{{- with .Values.metrics.serviceMonitor.apiKey -}}
{{- $keys = append $keys (dict "name" "prometheus" "role" "operator" "keySha256" (sha256sum .)) -}}
{{- end -}}
{{- $_ := set $auth "apiKeys" $keys -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "crowdlens.secretName" .) -}}
{{- $token := .Values.secrets.tokenSecret -}}
{{- if and (not $token) $existing (index $existing.data "token-secret") -}}
{{- $token = index $existing.data "token-secret" | b64dec -}}
{{- end -}}
{{- $_ := set $auth "tokenSecret" ($token | default (randAlphaNum 48)) -}}
{{- $out := dict "auth" $auth -}}
{{- if .Values.postgres.url -}}
{{- $_ := set $out "store" (dict "type" "postgres" "url" .Values.postgres.url) -}}
{{- end -}}
{{- with .Values.secrets.cameras -}}
{{- $_ := set $out "cameras" . -}}
{{- end -}}
{{- with .Values.secrets.webhookSecrets -}}
{{- $_ := set $out "alerts" (dict "webhookSecrets" .) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Environment every role shares: (dict "ctx" $ "role" "ingest") */}}
{{- define "crowdlens.env" -}}
{{- $ := .ctx -}}
- name: CROWDLENS_ROLE
  value: {{ .role }}
- name: CROWDLENS_CONFIG
  value: /etc/crowdlens/crowdlens.yaml
- name: CROWDLENS_SECRETS_FILE
  value: /etc/crowdlens/secrets/secrets.yaml
- name: CROWDLENS_HTTP_HOST
  value: 0.0.0.0
- name: PORT
  value: "3000"
{{- if and (eq .role "analytics") $.Values.postgres.existingSecret }}
- name: CROWDLENS_POSTGRES_URL
  valueFrom:
    secretKeyRef: { name: {{ $.Values.postgres.existingSecret }}, key: {{ $.Values.postgres.existingSecretKey }} }
{{- end }}
{{- if $.Values.kafka.sasl.enabled }}
- name: CROWDLENS_KAFKA_SASL_MECHANISM
  value: {{ $.Values.kafka.sasl.mechanism }}
- name: CROWDLENS_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef: { name: {{ include "crowdlens.kafkaSaslSecret" $ }}, key: kafka-sasl-username }
- name: CROWDLENS_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ include "crowdlens.kafkaSaslSecret" $ }}, key: kafka-sasl-password }
{{- end }}
{{- end -}}

{{- define "crowdlens.kafkaSaslSecret" -}}
{{- .Values.kafka.sasl.existingSecret | default (printf "%s-secrets" (include "crowdlens.fullname" .)) -}}
{{- end -}}

{{/* Container ports, probes, mounts: (dict "ctx" $ "role" "ingest") */}}
{{- define "crowdlens.containerCommon" -}}
{{- $ := .ctx -}}
ports:
  - { name: http, containerPort: 3000, protocol: TCP }
startupProbe:
  httpGet: { path: /health, port: http }
  {{- toYaml $.Values.probes.startup | nindent 2 }}
livenessProbe:
  httpGet: { path: /health, port: http }
  {{- toYaml $.Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet: { path: /ready, port: http }
  {{- toYaml $.Values.probes.readiness | nindent 2 }}
securityContext:
  {{- toYaml $.Values.securityContext | nindent 2 }}
volumeMounts:
  - { name: config, mountPath: /etc/crowdlens/crowdlens.yaml, subPath: crowdlens.yaml, readOnly: true }
  - { name: secrets, mountPath: /etc/crowdlens/secrets, readOnly: true }
  - { name: data, mountPath: /data }
  - { name: tmp, mountPath: /tmp }
{{- end -}}

{{/* Pod-level volumes (data is a volumeClaimTemplate for a persistent ingest). */}}
{{- define "crowdlens.volumes" -}}
{{- $ := .ctx -}}
- name: config
  configMap: { name: {{ include "crowdlens.fullname" $ }}-config }
- name: secrets
  secret:
    secretName: {{ include "crowdlens.secretName" $ }}
    items: [{ key: secrets.yaml, path: secrets.yaml }]
- name: tmp
  emptyDir: { sizeLimit: 256Mi }
{{- if not .persistent }}
- name: data
  emptyDir: {}
{{- end }}
{{- end -}}

{{- define "crowdlens.podSettings" -}}
{{- $ := .ctx -}}
{{- with $.Values.imagePullSecrets }}
imagePullSecrets: {{ toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $.Values.podSecurityContext | nindent 2 }}
{{- with .values.nodeSelector }}
nodeSelector: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity: {{ toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Restart pods when the config or secrets they read change. */}}
{{- define "crowdlens.podAnnotations" -}}
checksum/config: {{ include "crowdlens.configYaml" . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secrets: {{ omit .Values.secrets "tokenSecret" | toYaml | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* keda | hpa | none: mode auto picks KEDA when the cluster serves its API. */}}
{{- define "crowdlens.autoscaler" -}}
{{- $mode := .Values.inference.autoscaling.mode -}}
{{- if eq $mode "auto" -}}
{{- if .Capabilities.APIVersions.Has "keda.sh/v1alpha1/ScaledObject" -}}keda{{- else -}}hpa{{- end -}}
{{- else if has $mode (list "keda" "hpa" "none") -}}
{{- $mode -}}
{{- else -}}
{{- fail (printf "inference.autoscaling.mode must be auto, keda, hpa or none, not %q" $mode) -}}
{{- end -}}
{{- end -}}
