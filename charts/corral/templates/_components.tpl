{{/*
The four Corral services: component name, values key, port, Postgres schema (empty = no database)
and whether they use Redis. One list drives Deployments, Services, PDBs and the helm test.
*/}}
{{- define "corral.components" -}}
- { component: auth, key: auth, port: 5001, schema: auth, redis: true }
- { component: chat-api, key: chatApi, port: 5002, schema: chat, redis: true }
- { component: inference-gateway, key: inferenceGateway, port: 5003, schema: "", redis: true }
- { component: web, key: web, port: 3000, schema: "", redis: false }
{{- end -}}

{{/*
Which keys of the app Secret (corral.appSecretName) each component mounts at /var/run/secrets/corral
and reads through NAME_FILE: each gets only what it uses.
*/}}
{{- define "corral.appSecretKeys" -}}
auth: [signing-key-secret, internal-service-token]
chat-api: [internal-service-token, gateway-service-token]
inference-gateway: [gateway-service-token, internal-service-token]
{{- end -}}

{{- define "corral.secretFileEnv" -}}
- name: SIGNING_KEY_SECRET_FILE
  value: /var/run/secrets/corral/signing-key-secret
- name: INTERNAL_SERVICE_TOKEN_FILE
  value: /var/run/secrets/corral/internal-service-token
{{- end -}}

{{/* The gateway's service token: the gateway requires it (production), chat-api sends it. */}}
{{- define "corral.gatewayTokenFileEnv" -}}
- name: GATEWAY_SERVICE_TOKEN_FILE
  value: /var/run/secrets/corral/gateway-service-token
{{- end -}}

{{- define "corral.authUrl" -}}
{{- printf "http://%s:5001" (include "corral.componentName" (dict "root" . "component" "auth")) -}}
{{- end -}}

{{/* Env of the auth service (services/auth/src/config.ts). */}}
{{- define "corral.env.auth" -}}
{{ include "corral.secretFileEnv" . }}
- name: JWT_ISSUER
  value: {{ .Values.config.jwtIssuer | quote }}
- name: JWT_AUDIENCE
  value: {{ .Values.config.jwtAudience | quote }}
{{- with include "corral.publicUrl" . }}
- name: PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- $reg := .Values.auth.registration }}
- name: ENABLE_REGISTRATION
  value: {{ ne $reg.mode "closed" | quote }}
- name: DEFAULT_USER_STATUS
  value: {{ ternary "active" "pending" (eq $reg.mode "open") | quote }}
- name: REQUIRE_REGISTRATION_CODE
  value: {{ $reg.requireCode | quote }}
{{- if $reg.existingSecret }}
- name: REGISTRATION_CODE
  valueFrom:
    secretKeyRef:
      name: {{ $reg.existingSecret | quote }}
      key: {{ $reg.existingSecretKey | quote }}
{{- end }}
- name: PASSWORD_LOGIN_ENABLED
  value: {{ .Values.auth.passwordLogin | quote }}
{{- with .Values.auth.oidc }}
{{- if .enabled }}
- name: OIDC_ISSUER_URL
  value: {{ .issuerUrl | quote }}
- name: OIDC_CLIENT_ID
  value: {{ .clientId | quote }}
{{- if .existingSecret }}
- name: OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret | quote }}
      key: {{ .existingSecretKey | quote }}
{{- end }}
- name: OIDC_SCOPES
  value: {{ .scopes | quote }}
- name: OIDC_GROUPS_CLAIM
  value: {{ .groupsClaim | quote }}
- name: OIDC_ADMIN_GROUPS
  value: {{ join "," .adminGroups | quote }}
- name: OIDC_ALLOWED_GROUPS
  value: {{ join "," .allowedGroups | quote }}
- name: OIDC_BUTTON_LABEL
  value: {{ .buttonLabel | quote }}
{{- end }}
{{- end }}
- name: ACCESS_TOKEN_TTL_SECONDS
  value: {{ .Values.auth.accessTokenTtlSeconds | int | quote }}
- name: REFRESH_TOKEN_TTL_SECONDS
  value: {{ .Values.auth.refreshTokenTtlSeconds | int | quote }}
- name: SIGNING_KEY_ROTATION_DAYS
  value: {{ .Values.auth.signingKeyRotationDays | int | quote }}
- name: COOKIE_SECURE
  value: {{ .Values.auth.cookieSecure | quote }}
- name: AUTO_MIGRATE
  value: "false"
- name: DATABASE_POOL_MAX
  value: {{ .Values.auth.databasePoolMax | int | quote }}
{{- end -}}

{{/* Env of chat-api (services/chat-api/src/config.ts). */}}
{{- define "corral.env.chat-api" -}}
- name: INTERNAL_SERVICE_TOKEN_FILE
  value: /var/run/secrets/corral/internal-service-token
{{ include "corral.gatewayTokenFileEnv" . }}
- name: AUTH_URL
  value: {{ include "corral.authUrl" . | quote }}
- name: GATEWAY_URL
  value: {{ printf "http://%s:5003" (include "corral.componentName" (dict "root" . "component" "inference-gateway")) | quote }}
- name: JWT_ISSUER
  value: {{ .Values.config.jwtIssuer | quote }}
- name: JWT_AUDIENCE
  value: {{ .Values.config.jwtAudience | quote }}
- name: RATE_LIMIT_PER_MINUTE
  value: {{ .Values.chatApi.rateLimitPerMinute | int | quote }}
- name: READ_RATE_LIMIT_PER_MINUTE
  value: {{ .Values.chatApi.readRateLimitPerMinute | int | quote }}
- name: CHAT_RETENTION_DAYS
  value: {{ .Values.chatApi.retentionDays | int | quote }}
- name: DATABASE_POOL_MAX
  value: {{ .Values.chatApi.databasePoolMax | int | quote }}
{{- with include "corral.defaultModel" . }}
- name: DEFAULT_MODEL
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* chatApi.defaultModel, else the first model the Ollama pods pull (so it is always present). */}}
{{- define "corral.defaultModel" -}}
{{- if .Values.chatApi.defaultModel -}}
{{- .Values.chatApi.defaultModel -}}
{{- else if and .Values.ollama.enabled .Values.ollama.models -}}
{{- first .Values.ollama.models -}}
{{- end -}}
{{- end -}}

{{/* Env of the inference-gateway (services/inference-gateway/src/config.ts). */}}
{{- define "corral.env.inference-gateway" -}}
{{ include "corral.gatewayTokenFileEnv" . }}
{{- /* Admins' access tokens (via chat-api's /api/admin relay) open /admin/* too. */}}
- name: AUTH_URL
  value: {{ include "corral.authUrl" . | quote }}
- name: JWT_ISSUER
  value: {{ .Values.config.jwtIssuer | quote }}
- name: JWT_AUDIENCE
  value: {{ .Values.config.jwtAudience | quote }}
{{- /* Polls auth's revocation feed: a signed-out or demoted admin's token stops opening /admin/*. */}}
- name: INTERNAL_SERVICE_TOKEN_FILE
  value: /var/run/secrets/corral/internal-service-token
{{- if .Values.ollama.enabled }}
- name: OLLAMA_DISCOVERY
  value: kubernetes
- name: OLLAMA_K8S_NAMESPACE
  value: {{ .Release.Namespace | quote }}
- name: OLLAMA_K8S_SERVICE
  value: {{ include "corral.componentName" (dict "root" . "component" "ollama") | quote }}
- name: OLLAMA_K8S_PORT
  value: "11434"
{{- else }}
- name: OLLAMA_DISCOVERY
  value: static
- name: OLLAMA_URLS
  value: {{ join "," .Values.inferenceGateway.ollamaUrls | quote }}
{{- end }}
- name: BACKEND_MAX_PARALLEL
  value: {{ .Values.ollama.numParallel | int | quote }}
- name: ROUTING_STRATEGY
  value: {{ .Values.inferenceGateway.routingStrategy | quote }}
- name: QUEUE_MAX
  value: {{ .Values.inferenceGateway.queueMax | int | quote }}
- name: QUEUE_TIMEOUT_MS
  value: {{ .Values.inferenceGateway.queueTimeoutMs | int | quote }}
{{- end -}}

{{/* "true" when web proxies /api, /v1 and /.well-known to the in-cluster services (web.proxy.enabled; auto = no Ingress). */}}
{{- define "corral.web.proxyEnabled" -}}
{{- $p := .Values.web.proxy.enabled -}}
{{- if or (eq (toString $p) "true") (and (eq (toString $p) "auto") (not .Values.ingress.enabled)) -}}true{{- end -}}
{{- end -}}

{{/*
Env of web (services/web/server/config.ts). Behind the Ingress it proxies nothing. With the proxy on
(no Ingress: `kubectl port-forward svc/<release>-web`), it routes /api/auth and /.well-known to auth
and /api and /v1 to chat-api, as the Ingress would; the gateway stays private (admins reach the pool
through chat-api's /api/admin relay), so no GATEWAY_URL. It reads no PUBLIC_URL.
*/}}
{{- define "corral.env.web" -}}
{{- if include "corral.web.proxyEnabled" . -}}
- name: AUTH_URL
  value: {{ include "corral.authUrl" . | quote }}
- name: CHAT_API_URL
  value: {{ printf "http://%s:5002" (include "corral.componentName" (dict "root" . "component" "chat-api")) | quote }}
{{- end }}
{{- end -}}
