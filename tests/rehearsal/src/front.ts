// The nginx front: one server per Ingress host, a location per Ingress path, the proxy settings the
// ingress-nginx annotations ask for, TLS from a certificate generated for the host.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { K8sObject } from './manifests.js';

export interface FrontSettings {
  host: string;
  paths: { path: string; upstream: string }[];
  clientMaxBodySize: string;
  readTimeout: string;
  sendTimeout: string;
  buffering: boolean;
  requestBuffering: boolean;
  httpVersion: string;
}

/** What the rendered Ingress says, with each backend Service mapped to the port it listens on here. */
export function frontFromIngress(
  objects: K8sObject[],
  upstreamFor: (service: string, port: number) => string,
): FrontSettings {
  const ingress = objects.find((obj) => obj.kind === 'Ingress');
  if (!ingress) throw new Error('the rendered chart has no Ingress: the rehearsal needs ingress.enabled');
  const a = ingress.metadata.annotations ?? {};
  const rule = (
    ingress.spec as {
      rules: {
        host: string;
        http: { paths: { path: string; backend: { service: { name: string; port: { number: number } } } }[] };
      }[];
    }
  ).rules[0];
  if (!rule) throw new Error('the Ingress has no rules');
  const seconds = (value: string | undefined, fallback: string) => `${value ?? fallback}s`;
  return {
    host: rule.host,
    paths: rule.http.paths.map((p) => ({
      path: p.path,
      upstream: upstreamFor(p.backend.service.name, p.backend.service.port.number),
    })),
    clientMaxBodySize: a['nginx.ingress.kubernetes.io/proxy-body-size'] ?? '1m', // ingress-nginx's default
    readTimeout: seconds(a['nginx.ingress.kubernetes.io/proxy-read-timeout'], '60'),
    sendTimeout: seconds(a['nginx.ingress.kubernetes.io/proxy-send-timeout'], '60'),
    buffering: a['nginx.ingress.kubernetes.io/proxy-buffering'] !== 'off',
    requestBuffering: a['nginx.ingress.kubernetes.io/proxy-request-buffering'] !== 'off',
    httpVersion: a['nginx.ingress.kubernetes.io/proxy-http-version'] ?? '1.1',
  };
}

export function nginxConf(f: FrontSettings, dir: string, port: number): string {
  // Longest prefix wins, as with ingress-nginx's Prefix paths.
  const locations = [...f.paths]
    .sort((a, b) => b.path.length - a.path.length)
    .map(
      (p) => `    location ${p.path === '/' ? '/' : `^~ ${p.path}`} {
      proxy_pass http://${p.upstream};
    }`,
    )
    .join('\n');
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${f.host};
    ssl_certificate ${dir}/tls.crt;
    ssl_certificate_key ${dir}/tls.key;
    client_max_body_size ${f.clientMaxBodySize};
    proxy_http_version ${f.httpVersion};
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto https;
    proxy_set_header X-Forwarded-Host $host;
    proxy_set_header Connection "";
    proxy_read_timeout ${f.readTimeout};
    proxy_send_timeout ${f.sendTimeout};
    proxy_buffering ${f.buffering ? 'on' : 'off'};
    proxy_request_buffering ${f.requestBuffering ? 'on' : 'off'};
${locations}
  }
}
`;
}

/** A self-signed certificate for the Ingress host (what cert-manager would put in the TLS Secret). */
export function generateCertificate(dir: string, host: string): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${host}`,
      '-addext',
      `subjectAltName=DNS:${host}`,
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.crt'),
    ],
    { stdio: 'ignore' },
  );
  return join(dir, 'tls.crt');
}

export function startNginx(f: FrontSettings, dir: string, port: number): ChildProcess {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    mkdirSync(join(dir, 'tmp', sub), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o777);
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(f, dir, port));
  execFileSync('nginx', ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'pipe' });
  return spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
}
