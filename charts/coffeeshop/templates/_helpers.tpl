{{/* Names and labels. Every object is named <release>-<part> (or just <part> when the
release is called "coffeeshop"), so two releases can share a namespace. */}}
{{- define "coffeeshop.prefix" -}}
{{- if eq .Release.Name "coffeeshop" -}}coffeeshop{{- else -}}{{ printf "%s-coffeeshop" .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "coffeeshop.fullname" -}}
{{- printf "%s-%s" (include "coffeeshop.prefix" .root) .part | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "coffeeshop.selector" -}}
app.kubernetes.io/name: coffeeshop
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .part }}
{{- end -}}

{{- define "coffeeshop.labels" -}}
{{ include "coffeeshop.selector" . }}
app.kubernetes.io/part-of: coffeeshop
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* The Dapr app id of a part: the same as in local Dapr mode (bff, order, identity,
order-worker, …), which the Dapr documents' scopes and targets name. One release per
namespace, then. */}}
{{- define "coffeeshop.appId" -}}
{{- default .part .appId -}}
{{- end -}}

{{- define "coffeeshop.image" -}}
{{- $v := .root.Values.image -}}
{{- $repo := printf "%s%s" $v.prefix .role -}}
{{- if $v.registry -}}{{- $repo = printf "%s/%s" $v.registry $repo -}}{{- end -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $v.tag) -}}
{{- end -}}

{{- define "coffeeshop.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}{{ include "coffeeshop.fullname" (dict "root" .root "part" .site) }}{{- else -}}default{{- end -}}
{{- end -}}

{{/* The environment of a container of site .site (devstack/sites.py site_env, for a
cluster). No secret here: the sites read theirs from Vault. */}}
{{- define "coffeeshop.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $site := .site -}}
{{- $mesh := default $v.mesh .mesh -}}
- name: DJANGO_SETTINGS_MODULE
  value: {{ printf "%s_site.config.settings.production" $site }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s@%s:%v/%s?sslmode=%s" (index $v.postgres.users $site) $v.postgres.host $v.postgres.port (index $v.postgres.databases $site) $v.postgres.sslmode | quote }}
- name: REDIS_URL
  value: {{ $v.redis.url | quote }}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ $v.kafka.bootstrapServers | quote }}
- name: VAULT_ADDR
  value: {{ $v.vault.address | quote }}
- name: VAULT_AUTH
  value: {{ $v.vault.auth | quote }}
{{- if eq $v.vault.auth "kubernetes" }}
- name: VAULT_KUBERNETES_ROLE
  value: {{ index $v.vault.kubernetes.roles $site | quote }}
- name: VAULT_KUBERNETES_MOUNT
  value: {{ $v.vault.kubernetes.mountPath | quote }}
- name: VAULT_KUBERNETES_TOKEN_FILE
  value: /var/run/secrets/vault/token
{{- else }}
- name: VAULT_ROLE_ID_FILE
  value: {{ printf "/var/run/secrets/coffeeshop/%s-role-id" $site }}
- name: VAULT_SECRET_ID_FILE
  value: {{ printf "/var/run/secrets/coffeeshop/%s-secret-id" $site }}
{{- end }}
- name: EMAIL_URL
  value: {{ $v.email.url | quote }}
- name: OTEL_EXPORTER_ZIPKIN_ENDPOINT
  value: {{ $v.tracing.zipkinEndpoint | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $v.tracing.samplingRate | quote }}
- name: DJANGO_STATIC_ROOT
  value: /app/static
- name: DJANGO_ALLOWED_HOSTS
  value: {{ include "coffeeshop.allowedHosts" (dict "root" $root "site" $site) | quote }}
- name: DJANGO_CSRF_TRUSTED_ORIGINS
  value: {{ printf "%s,%s" $v.publicUrl $v.identityPublicUrl | quote }}
- name: CELERY_BEAT_SCHEDULE_FILENAME
  value: /tmp/celery-beat-schedule
- name: TRUSTED_PROXIES
  value: {{ $v.trustedProxies | quote }}
- name: MESH
  value: {{ $mesh | quote }}
{{- if and $v.dapr.enabled (eq $mesh "dapr") }}
# The tokens between app and sidecar, as files (shared/mesh.py).
- name: DAPR_API_TOKEN_FILE
  value: /var/run/secrets/dapr-tokens/api/token
- name: APP_API_TOKEN_FILE
  value: /var/run/secrets/dapr-tokens/app/token
{{- end }}
{{- range $other := list "identity" "order" "bff" }}
- name: {{ printf "%s_URL" (upper $other) }}
  value: {{ include "coffeeshop.siteUrl" (dict "root" $root "site" $other) | quote }}
{{- end }}
- name: BFF_PUBLIC_URL
  value: {{ $v.publicUrl | quote }}
- name: IDENTITY_PUBLIC_URL
  value: {{ $v.identityPublicUrl | quote }}
{{- if eq $site "identity" }}
- name: OIDC_ISSUER
  value: {{ printf "%s/o" $v.identityPublicUrl | quote }}
{{- end }}
{{- if eq $site "order" }}
- name: PAYMENT_PROVIDER_URL
  value: {{ $v.paymentProvider.url | quote }}
{{- end }}
{{- if eq $site "bff" }}
- name: PAYMENT_PROVIDER_PUBLIC_URL
  value: {{ $v.paymentProvider.publicUrl | quote }}
{{- end }}
{{- range $name, $value := $v.extraEnv }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- range $name, $value := (index $v.sites $site).env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Hosts Django accepts: the public one, the Service names, and localhost (the
probes send Host: localhost; daprd calls the app on loopback). */}}
{{- define "coffeeshop.allowedHosts" -}}
{{- $root := .root -}}
{{- $svc := include "coffeeshop.fullname" (dict "root" $root "part" .site) -}}
{{- $hosts := list "localhost" "127.0.0.1" $svc (printf "%s.%s.svc" $svc $root.Release.Namespace) -}}
{{- if eq .site "bff" }}{{ $hosts = append $hosts (urlParse $root.Values.publicUrl).hostname }}{{ end -}}
{{- if eq .site "identity" }}{{ $hosts = append $hosts (urlParse $root.Values.identityPublicUrl).hostname }}{{ end -}}
{{- join "," $hosts -}}
{{- end -}}

{{- define "coffeeshop.siteUrl" -}}
{{- $root := .root -}}
{{- if $root.Values.hostNetwork -}}
{{- printf "http://127.0.0.1:%v" (index $root.Values.sites .site).port -}}
{{- else -}}
{{- printf "http://%s:%v" (include "coffeeshop.fullname" (dict "root" $root "part" .site)) (index $root.Values.sites .site).port -}}
{{- end -}}
{{- end -}}

{{/* The Dapr sidecar annotations of a part; .port is empty for workers (no app port). */}}
{{- define "coffeeshop.daprAnnotations" -}}
{{- $v := .root.Values -}}
{{- if $v.dapr.enabled }}
dapr.io/enabled: "true"
dapr.io/app-id: {{ include "coffeeshop.appId" . | quote }}
{{- if .port }}
dapr.io/app-port: {{ .port | quote }}
dapr.io/app-protocol: http
dapr.io/app-health-check-path: /healthz
dapr.io/enable-app-health-check: "true"
{{- end }}
dapr.io/config: {{ $v.dapr.config | quote }}
dapr.io/app-token-secret: {{ $v.dapr.appTokenSecret | quote }}
dapr.io/api-token-secret: {{ $v.dapr.apiTokenSecret | quote }}
dapr.io/log-level: {{ $v.dapr.logLevel | quote }}
dapr.io/log-as-json: "true"
dapr.io/sidecar-cpu-request: {{ $v.dapr.sidecar.cpuRequest | quote }}
dapr.io/sidecar-memory-request: {{ $v.dapr.sidecar.memoryRequest | quote }}
dapr.io/sidecar-cpu-limit: {{ $v.dapr.sidecar.cpuLimit | quote }}
dapr.io/sidecar-memory-limit: {{ $v.dapr.sidecar.memoryLimit | quote }}
dapr.io/sidecar-seccomp-profile-type: RuntimeDefault
dapr.io/volume-mounts: {{ printf "dapr-vault-token:%s" (dir $v.dapr.vaultTokenPath) | quote }}
{{- end }}
{{- end -}}

{{/* Volumes every pod has: a memory-backed /tmp, and the site's Vault login: the
AppRole files, or (vault.auth=kubernetes) the pod's ServiceAccount token for Vault's
audience, short-lived and renewed by the kubelet. */}}
{{- define "coffeeshop.volumes" -}}
{{- $vault := .root.Values.vault -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: {{ .root.Values.tmpSizeLimit }}
- name: static
  emptyDir: {}
{{- if eq $vault.auth "kubernetes" }}
- name: vault-token
  projected:
    defaultMode: 0440
    sources:
      - serviceAccountToken:
          audience: {{ $vault.kubernetes.audience | quote }}
          expirationSeconds: {{ $vault.kubernetes.tokenExpirationSeconds }}
          path: token
{{- else }}
- name: approle
  secret:
    secretName: {{ $vault.appRoleSecret }}
    defaultMode: 0440
    items:
      - {key: {{ printf "%s-role-id" .site }}, path: {{ printf "%s-role-id" .site }}}
      - {key: {{ printf "%s-secret-id" .site }}, path: {{ printf "%s-secret-id" .site }}}
{{- end }}
{{- if .root.Values.dapr.enabled }}
- name: dapr-api-token
  secret:
    secretName: {{ .root.Values.dapr.apiTokenSecret }}
    defaultMode: 0440
- name: dapr-app-token
  secret:
    secretName: {{ .root.Values.dapr.appTokenSecret }}
    defaultMode: 0440
{{- if .appId }}
# Mounted into the sidecar only (dapr.io/volume-mounts): its secret store's Vault token.
- name: dapr-vault-token
  secret:
    secretName: {{ printf "%s%s" .root.Values.dapr.vaultTokenSecretPrefix .appId }}
    defaultMode: 0440
    items:
      - {key: token, path: {{ base .root.Values.dapr.vaultTokenPath }}}
{{- end }}
{{- end }}
{{- end -}}

{{- define "coffeeshop.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: static
  mountPath: /app/static
{{- if eq .Values.vault.auth "kubernetes" }}
- name: vault-token
  mountPath: /var/run/secrets/vault
  readOnly: true
{{- else }}
- name: approle
  mountPath: /var/run/secrets/coffeeshop
  readOnly: true
{{- end }}
{{- if .Values.dapr.enabled }}
- name: dapr-api-token
  mountPath: /var/run/secrets/dapr-tokens/api
  readOnly: true
- name: dapr-app-token
  mountPath: /var/run/secrets/dapr-tokens/app
  readOnly: true
{{- end }}
{{- end -}}

{{/* The pod settings every part shares. */}}
{{- define "coffeeshop.podCommon" -}}
{{- $v := .root.Values -}}
serviceAccountName: {{ include "coffeeshop.serviceAccountName" (dict "root" .root "site" .site) }}
automountServiceAccountToken: {{ $v.dapr.enabled }}
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- if $v.hostNetwork }}
hostNetwork: true
dnsPolicy: ClusterFirstWithHostNet
{{- end }}
{{- with $v.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
enableServiceLinks: false
{{- end -}}
