{{/* Chart name, overridable. */}}
{{- define "corral.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name: release name, plus the chart name unless the release already contains it. */}}
{{- define "corral.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: <fullname>-<component>, within 63 characters. */}}
{{- define "corral.componentName" -}}
{{- printf "%s-%s" (include "corral.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "corral.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels: name + instance (immutable, so nothing that changes between releases), plus the
component when one is given (call with (dict "root" $ "component" "auth")).
*/}}
{{- define "corral.selectorLabels" -}}
{{- $root := .root | default . -}}
app.kubernetes.io/name: {{ include "corral.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{/* Common labels; same calling convention as corral.selectorLabels. */}}
{{- define "corral.labels" -}}
{{- $root := .root | default . -}}
helm.sh/chart: {{ include "corral.chart" $root }}
{{ include "corral.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: corral
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "corral.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "corral.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The gateway's own ServiceAccount: it alone may read EndpointSlices. */}}
{{- define "corral.gatewayServiceAccountName" -}}
{{- include "corral.componentName" (dict "root" . "component" "inference-gateway") -}}
{{- end -}}

{{/* Image of a Corral service: (dict "root" $ "component" "auth" "values" .Values.auth). */}}
{{- define "corral.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := .values.image.repository | default (printf "%s/%s/%s" $img.registry $img.repository .component) -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (.values.image.tag | default $img.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* Secret names. */}}
{{- define "corral.appSecretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "corral.fullname" .)) -}}
{{- end -}}
{{- define "corral.adminSecretName" -}}
{{- .Values.auth.bootstrapAdmin.existingSecret | default (printf "%s-bootstrap-admin" (include "corral.fullname" .)) -}}
{{- end -}}
{{- define "corral.postgresql.fullname" -}}
{{- include "corral.componentName" (dict "root" . "component" "postgresql") -}}
{{- end -}}
{{- define "corral.postgresql.secretName" -}}
{{- .Values.postgresql.existingSecret | default (include "corral.postgresql.fullname" .) -}}
{{- end -}}
{{- define "corral.redis.fullname" -}}
{{- include "corral.componentName" (dict "root" . "component" "redis") -}}
{{- end -}}
{{- define "corral.redis.secretName" -}}
{{- .Values.redis.existingSecret | default (include "corral.redis.fullname" .) -}}
{{- end -}}
{{- define "corral.externalDatabase.secretName" -}}
{{- .Values.externalDatabase.existingSecret | default (printf "%s-external-db" (include "corral.fullname" .)) -}}
{{- end -}}
{{- define "corral.externalRedis.secretName" -}}
{{- .Values.externalRedis.existingSecret | default (printf "%s-external-redis" (include "corral.fullname" .)) -}}
{{- end -}}

{{/*
A secret value generated once: the value already in the cluster when there is one (lookup), else a
new random string. Call with (dict "root" $ "name" <secret> "key" <key> "length" 48); returns base64.
*/}}
{{- define "corral.persistentSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .name -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key -}}
{{- else -}}
{{- randAlphaNum (.length | int) | b64enc -}}
{{- end -}}
{{- end -}}

{{/*
Env that builds DATABASE_URL for one Postgres schema: (dict "root" $ "schema" "auth").
Kubernetes expands $(VAR) from earlier entries, so the password never appears in the pod spec.
*/}}
{{- define "corral.databaseEnv" -}}
{{- $root := .root -}}
{{- if $root.Values.postgresql.enabled }}
{{- /* The password travels as PGPASSWORD (node-postgres and libpq read it), never inside the URL:
any character works, nothing needs URL-encoding, and it never appears in the pod spec. */}}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "corral.postgresql.secretName" $root }}
      key: password
- name: DATABASE_URL
  value: {{ printf "postgresql://%s@%s:5432/%s?schema=%s" ($root.Values.postgresql.username | urlquery) (include "corral.postgresql.fullname" $root) $root.Values.postgresql.database .schema | quote }}
{{- else }}
- name: CORRAL_DB_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "corral.externalDatabase.secretName" $root }}
      key: {{ $root.Values.externalDatabase.existingSecretKey }}
{{- $sep := "?" -}}
{{- if or $root.Values.externalDatabase.urlHasQuery (and (not $root.Values.externalDatabase.existingSecret) (contains "?" $root.Values.externalDatabase.url)) -}}
{{- $sep = "&" -}}
{{- end }}
- name: DATABASE_URL
  value: {{ printf "$(CORRAL_DB_URL)%sschema=%s" $sep .schema | quote }}
{{- end }}
{{- end -}}

{{/* URL pg_dump uses (no schema parameter: libpq would refuse it). */}}
{{- define "corral.backupDatabaseEnv" -}}
{{- if .Values.postgresql.enabled }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "corral.postgresql.secretName" . }}
      key: password
- name: BACKUP_DATABASE_URL
  value: {{ printf "postgresql://%s@%s:5432/%s" (.Values.postgresql.username | urlquery) (include "corral.postgresql.fullname" .) .Values.postgresql.database | quote }}
{{- else }}
- name: BACKUP_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "corral.externalDatabase.secretName" . }}
      key: {{ .Values.externalDatabase.existingSecretKey }}
{{- end }}
{{- end -}}

{{/* The environment of `corral backup` / `corral backup verify` in the backup CronJobs. */}}
{{- define "corral.backupCliEnv" -}}
{{ include "corral.backupDatabaseEnv" .root | trim }}
- name: DATABASE_URL
  value: $(BACKUP_DATABASE_URL)
- name: BACKUP_DIR
  value: /backups
- name: HOME
  value: /tmp
{{- if .encrypted }}
- name: BACKUP_ENCRYPTION_KEY_FILE
  value: /var/run/secrets/corral-backup/key
{{- end }}
{{- end -}}

{{/* REDIS_URL, from the bundled Redis's password or the external URL. */}}
{{- define "corral.redisEnv" -}}
{{- if .Values.redis.enabled }}
- name: CORRAL_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "corral.redis.secretName" . }}
      key: password
- name: REDIS_URL
  value: {{ printf "redis://:$(CORRAL_REDIS_PASSWORD)@%s:6379/0" (include "corral.redis.fullname" .) | quote }}
{{- else if or .Values.externalRedis.url .Values.externalRedis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "corral.externalRedis.secretName" . }}
      key: {{ .Values.externalRedis.existingSecretKey }}
{{- end }}
{{- end -}}

{{/* Env every Corral service reads (service-kit baseEnvShape). */}}
{{- define "corral.baseEnv" -}}
- name: NODE_ENV
  value: {{ .Values.config.nodeEnv | quote }}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: HOST
  value: "0.0.0.0"
- name: TRUST_PROXY
  value: {{ .Values.config.trustProxy | quote }}
- name: CORS_ALLOW_ORIGIN
  value: {{ .Values.config.corsAllowOrigin | quote }}
- name: SHUTDOWN_GRACE_MS
  value: {{ .Values.config.shutdownGraceMs | int | quote }}
- name: SHUTDOWN_DELAY_MS
  value: {{ .Values.config.shutdownDelayMs | int | quote }}
- name: NODE_OPTIONS
  value: {{ .Values.config.nodeOptions | quote }}
{{- with .Values.config.mallocMmapThreshold }}
- name: MALLOC_MMAP_THRESHOLD_
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.otelExporterOtlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Public base URL: config.publicUrl, else from the ingress host. */}}
{{- define "corral.publicUrl" -}}
{{- if .Values.config.publicUrl -}}
{{- .Values.config.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* Termination grace: SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS + 10 s for the process to exit. */}}
{{- define "corral.terminationGracePeriodSeconds" -}}
{{- add (div (add .Values.config.shutdownGraceMs .Values.config.shutdownDelayMs) 1000) 10 -}}
{{- end -}}

{{/* Pod-level topology spread for one component. */}}
{{- define "corral.topologySpread" -}}
{{- if .root.Values.topologySpread.enabled }}
topologySpreadConstraints:
{{- range list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
  - maxSkew: 1
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $.root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "corral.selectorLabels" (dict "root" $.root "component" $.component) | nindent 8 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Restricted-profile security context for containers of the data stores and jobs. */}}
{{- define "corral.restrictedContainerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* NetworkPolicy peer: pods of this release with one of the given components. */}}
{{- define "corral.np.fromComponents" -}}
- podSelector:
    matchExpressions:
      - key: app.kubernetes.io/instance
        operator: In
        values: [{{ .root.Release.Name | quote }}]
      - key: app.kubernetes.io/component
        operator: In
        values: [{{ join ", " .components }}]
{{- end -}}
