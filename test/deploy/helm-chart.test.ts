/**
 * The Helm chart (deploy/helm/crowdlens) rendered by a real helm (built from
 * the Go module proxy by scripts/fetch-helm.sh) for several value sets: the
 * objects it makes, and the config it renders is one the app itself accepts
 * (the ConfigMap + Secret fed through loadConfig, as the pods read them).
 * No cluster runs here: this is lint + template, not an install.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseAllDocuments, parseDocument } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@crowdlens/config';
import { FACE_CROPS_TOPIC } from '@crowdlens/contracts';
import { INFERENCE_GROUP } from '../../apps/inference/src/services/inference.service';
import { fetchHelm, run } from './deploy-tools';

const CHART = 'deploy/helm/crowdlens';
const BASE = [
  '--set',
  'kafka.brokers={kafka-0.kafka:9092,kafka-1.kafka:9092}',
  '--set',
  'postgres.url=postgres://cl:pw@db:5432/crowdlens',
];
const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';

interface K8sObject {
  kind: string;
  apiVersion: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered manifests, asserted field by field
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

let helm: string;

async function template(args: readonly string[]): Promise<K8sObject[]> {
  const r = await run(helm, ['template', 'cl', CHART, '--namespace', 'stores', ...BASE, ...args]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function one(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found, `${kind}/${name}`).toHaveLength(1);
  return found[0]!;
}

function container(workload: K8sObject) {
  return workload.spec.template.spec.containers[0];
}

function env(workload: K8sObject): Record<string, unknown> {
  return Object.fromEntries(
    (container(workload).env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  );
}

/** What a pod of this role reads: the ConfigMap's file and the Secret's file, through the app's own loader. */
function configAsPodSees(objects: readonly K8sObject[], role: string) {
  const dir = mkdtempSync(join(tmpdir(), 'crowdlens-helm-'));
  writeFileSync(join(dir, 'crowdlens.yaml'), one(objects, 'ConfigMap', 'cl-crowdlens-config').data!['crowdlens.yaml']!);
  writeFileSync(join(dir, 'secrets.yaml'), one(objects, 'Secret', 'cl-crowdlens-secrets').stringData!['secrets.yaml']!);
  return loadConfig({
    CROWDLENS_CONFIG: join(dir, 'crowdlens.yaml'),
    CROWDLENS_SECRETS_FILE: join(dir, 'secrets.yaml'),
    CROWDLENS_ROLE: role,
    CROWDLENS_HTTP_HOST: '0.0.0.0',
  });
}

describe('helm chart deploy/helm/crowdlens', () => {
  beforeAll(() => {
    helm = fetchHelm();
  }, 1_800_000);

  it('passes helm lint with the required values', async () => {
    const r = await run(helm, ['lint', CHART, '--strict', ...BASE]);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.code).toBe(0);
  });

  it('refuses to render without brokers or a database, naming the value', async () => {
    const noKafka = await run(helm, ['template', 'cl', CHART, '--set', 'postgres.url=postgres://db/x']);
    expect(noKafka.code).not.toBe(0);
    expect(noKafka.stderr).toContain('kafka.brokers is required');
    const noDb = await run(helm, ['template', 'cl', CHART, '--set', 'kafka.brokers={k:9092}']);
    expect(noDb.code).not.toBe(0);
    expect(noDb.stderr).toContain('set postgres.url or postgres.existingSecret');
    const badMode = await run(helm, [
      'template',
      'cl',
      CHART,
      ...BASE,
      '--set',
      'inference.autoscaling.mode=sometimes',
    ]);
    expect(badMode.stderr).toContain('inference.autoscaling.mode must be auto, keda, hpa or none');
  });

  it('CPU defaults: ingest StatefulSet with shard env, inference + analytics Deployments, probes, PDBs, HPA without KEDA', async () => {
    const objects = await template(['--set', 'ingest.replicas=3']);
    const ingest = one(objects, 'StatefulSet', 'cl-crowdlens-ingest');
    expect(ingest.spec.replicas).toBe(3);
    expect(ingest.spec.serviceName).toBe('cl-crowdlens-ingest');
    expect(one(objects, 'Service', 'cl-crowdlens-ingest').spec.clusterIP).toBe('None');
    expect(env(ingest)).toMatchObject({
      CROWDLENS_ROLE: 'ingest',
      CROWDLENS_INGEST_REPLICAS: '3',
      CROWDLENS_POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
    });

    const inference = one(objects, 'Deployment', 'cl-crowdlens-inference');
    const analytics = one(objects, 'Deployment', 'cl-crowdlens-analytics');
    for (const w of [ingest, inference, analytics]) {
      const c = container(w);
      expect(c.livenessProbe.httpGet.path).toBe('/health');
      expect(c.readinessProbe.httpGet.path).toBe('/ready');
      expect(c.startupProbe.httpGet.path).toBe('/health');
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits['nvidia.com/gpu']).toBeUndefined();
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(w.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
      expect(w.spec.template.metadata.annotations['checksum/config']).toMatch(/^[a-f0-9]{64}$/);
    }
    expect(container(ingest).resources.requests.cpu).toBe('1600m');
    expect(env(analytics).CROWDLENS_ROLE).toBe('analytics');

    // No KEDA API in a plain `helm template`: the CPU HPA scales inference, which then has no fixed replicas.
    const hpa = one(objects, 'HorizontalPodAutoscaler', 'cl-crowdlens-inference');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'cl-crowdlens-inference',
    });
    expect(hpa.spec.metrics[0].resource).toMatchObject({ name: 'cpu', target: { averageUtilization: 70 } });
    expect(inference.spec.replicas).toBeUndefined();
    expect(objects.filter((o) => o.kind === 'ScaledObject')).toHaveLength(0);

    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name);
    expect(pdbs.sort()).toEqual(['cl-crowdlens-analytics', 'cl-crowdlens-inference', 'cl-crowdlens-ingest']);
    expect(objects.filter((o) => o.kind === 'Ingress' || o.kind === 'ServiceMonitor')).toHaveLength(0);
  });

  it('renders a config every role accepts: Kafka from values, PostgreSQL URL and a generated token secret from the Secret', async () => {
    const objects = await template([
      '--set-json',
      `secrets.users=[{"username":"ops","role":"operator","passwordHash":"${HASH}"}]`,
    ]);
    const configMap = one(objects, 'ConfigMap', 'cl-crowdlens-config').data!['crowdlens.yaml']!;
    expect(configMap).not.toContain('pw@db');
    for (const role of ['ingest', 'inference', 'analytics']) {
      const cfg = configAsPodSees(objects, role);
      expect(cfg.role).toBe(role);
      expect(cfg.bus).toMatchObject({
        type: 'kafka',
        brokers: ['kafka-0.kafka:9092', 'kafka-1.kafka:9092'],
        partitions: 6,
      });
      expect(cfg.store).toEqual({ type: 'postgres', url: 'postgres://cl:pw@db:5432/crowdlens' });
      expect(cfg.auth.users).toEqual([{ username: 'ops', role: 'operator', passwordHash: HASH }]);
      expect(cfg.auth.tokenSecret).toMatch(/^[A-Za-z0-9]{48}$/);
      expect(cfg.dataDir).toBe('/data');
    }
  });

  it('GPU inference: nvidia.com/gpu limit, node selector, tolerations and its own image', async () => {
    const objects = await template([
      '--set',
      'inference.gpu.enabled=true',
      '--set',
      'inference.gpu.count=2',
      '--set',
      'inference.image.repository=crowdlens-gpu',
      '--set-json',
      'inference.nodeSelector={"nvidia.com/gpu.present":"true"}',
      '--set-json',
      'inference.tolerations=[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]',
    ]);
    const inference = one(objects, 'Deployment', 'cl-crowdlens-inference');
    const c = container(inference);
    expect(c.resources.limits).toEqual({ memory: '2Gi', 'nvidia.com/gpu': 2 });
    expect(c.image).toBe('crowdlens-gpu:0.1.0');
    expect(inference.spec.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(inference.spec.template.spec.tolerations[0]).toMatchObject({ key: 'nvidia.com/gpu', effect: 'NoSchedule' });
    // Only inference asks for the GPU.
    expect(
      container(one(objects, 'StatefulSet', 'cl-crowdlens-ingest')).resources.limits['nvidia.com/gpu'],
    ).toBeUndefined();
    expect(container(one(objects, 'StatefulSet', 'cl-crowdlens-ingest')).image).toBe('crowdlens:0.1.0');
  });

  it('with KEDA in the cluster: a ScaledObject on the inference group lag of the face-crops topic, SASL through a TriggerAuthentication', async () => {
    const objects = await template([
      '--api-versions',
      'keda.sh/v1alpha1/ScaledObject',
      '--set',
      'kafka.sasl.enabled=true',
      '--set',
      'kafka.sasl.username=crowdlens',
      '--set',
      'kafka.sasl.password=s3cret-pw',
    ]);
    const scaled = one(objects, 'ScaledObject', 'cl-crowdlens-inference');
    expect(scaled.spec.scaleTargetRef.name).toBe('cl-crowdlens-inference');
    const trigger = scaled.spec.triggers[0];
    expect(trigger.type).toBe('kafka');
    // The names the app really uses, imported from the code, so the chart cannot drift from them.
    expect(trigger.metadata).toMatchObject({
      topic: FACE_CROPS_TOPIC.name,
      consumerGroup: INFERENCE_GROUP,
      bootstrapServers: 'kafka-0.kafka:9092,kafka-1.kafka:9092',
      lagThreshold: '200',
      sasl: 'scram_sha512',
    });
    expect(trigger.authenticationRef.name).toBe('cl-crowdlens-inference-kafka');
    expect(one(objects, 'TriggerAuthentication', 'cl-crowdlens-inference-kafka').spec.secretTargetRef).toHaveLength(2);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toHaveLength(0);
    expect(one(objects, 'Deployment', 'cl-crowdlens-inference').spec.replicas).toBeUndefined();

    // The SASL password reaches the pods from the Secret, never the ConfigMap.
    const secret = one(objects, 'Secret', 'cl-crowdlens-secrets');
    expect(secret.stringData!['kafka-sasl-password']).toBe('s3cret-pw');
    expect(one(objects, 'ConfigMap', 'cl-crowdlens-config').data!['crowdlens.yaml']).not.toContain('s3cret-pw');
    expect(env(one(objects, 'Deployment', 'cl-crowdlens-inference')).CROWDLENS_KAFKA_SASL_PASSWORD).toEqual({
      secretKeyRef: { name: 'cl-crowdlens-secrets', key: 'kafka-sasl-password' },
    });
    const cfg = configAsPodSees(objects, 'inference');
    expect(cfg.bus.type).toBe('kafka');
  });

  it('autoscaling off: a fixed replica count and no autoscaler', async () => {
    const objects = await template(['--set', 'inference.autoscaling.mode=none', '--set', 'inference.replicas=4']);
    expect(one(objects, 'Deployment', 'cl-crowdlens-inference').spec.replicas).toBe(4);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject')).toHaveLength(0);
  });

  it('Ingress, ServiceMonitor with its own API key, persistent ingest, existing secrets', async () => {
    const objects = await template([
      '--set',
      'analytics.ingress.enabled=true',
      '--set',
      'analytics.ingress.host=counts.shop.example',
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.serviceMonitor.apiKey=prom-key-123',
      '--set',
      'ingest.persistence.enabled=true',
    ]);
    const ingress = one(objects, 'Ingress', 'cl-crowdlens-analytics');
    expect(ingress.spec.rules[0].host).toBe('counts.shop.example');
    expect(ingress.spec.rules[0].http.paths[0].backend.service.name).toBe('cl-crowdlens-analytics');

    const monitor = one(objects, 'ServiceMonitor', 'cl-crowdlens');
    expect(monitor.spec.endpoints[0]).toMatchObject({
      path: '/metrics',
      port: 'http',
      authorization: { type: 'Bearer' },
    });
    // Prometheus's key is an operator key of the app: its sha256 is in auth.apiKeys.
    const cfg = configAsPodSees(objects, 'analytics');
    const sha = createHash('sha256').update('prom-key-123').digest('hex');
    expect(cfg.auth.apiKeys).toEqual([{ name: 'prometheus', role: 'operator', keySha256: sha }]);

    const ingest = one(objects, 'StatefulSet', 'cl-crowdlens-ingest');
    expect(ingest.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(ingest.spec.template.spec.volumes.map((v: { name: string }) => v.name)).not.toContain('data');

    const existing = await template([
      '--set',
      'secrets.existingSecret=my-crowdlens',
      '--set',
      'postgres.url=',
      '--set',
      'postgres.existingSecret=my-db',
    ]);
    expect(existing.filter((o) => o.kind === 'Secret')).toHaveLength(0);
    const analytics = one(existing, 'Deployment', 'cl-crowdlens-analytics');
    expect(
      analytics.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'secrets').secret.secretName,
    ).toBe('my-crowdlens');
    expect(env(analytics).CROWDLENS_POSTGRES_URL).toEqual({ secretKeyRef: { name: 'my-db', key: 'postgres-url' } });
    expect(env(one(existing, 'Deployment', 'cl-crowdlens-inference')).CROWDLENS_POSTGRES_URL).toBeUndefined();
  });

  it('alert webhooks: rules and webhooks in the ConfigMap, their HMAC keys only in the Secret', async () => {
    const objects = await template([
      '--set',
      'config.alerts.rules[0].type=camera-down',
      '--set',
      'config.alerts.rules[0].name=door-down',
      '--set',
      'config.alerts.webhooks[0].name=ops',
      '--set',
      'config.alerts.webhooks[0].url=https://hooks.example.com/crowdlens',
      '--set',
      'secrets.webhookSecrets.ops=hmac-key-0123456789abcdef',
    ]);
    expect(one(objects, 'ConfigMap', 'cl-crowdlens-config').data!['crowdlens.yaml']).not.toContain('hmac-key');
    const cfg = configAsPodSees(objects, 'analytics');
    expect(cfg.alerts.webhooks).toMatchObject([
      { name: 'ops', url: 'https://hooks.example.com/crowdlens', secret: 'hmac-key-0123456789abcdef' },
    ]);
    expect(cfg.alerts.rules.map((r) => r.name)).toEqual(['door-down']);
  });

  it('PrometheusRule: off by default; on, it carries every rule of deploy/prometheus/alerts.yml, labels added', async () => {
    expect((await template([])).filter((o) => o.kind === 'PrometheusRule')).toHaveLength(0);
    const objects = await template([
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.prometheusRule.labels.release=prometheus',
    ]);
    const rule = one(objects, 'PrometheusRule', 'cl-crowdlens');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.labels?.release).toBe('prometheus');
    // The very file promtool checks and unit-tests (test/deploy/prometheus-rules.test.ts), group by group.
    const file = parseDocument(readFileSync('deploy/prometheus/alerts.yml', 'utf8')).toJS() as { groups: unknown[] };
    expect(rule.spec.groups).toEqual(file.groups);
    const alerts = (rule.spec.groups as Array<{ rules: Array<{ alert: string }> }>).flatMap((g) =>
      g.rules.map((r) => r.alert),
    );
    expect(alerts).toContain('CrowdLensFramesDropped');
    expect(alerts).toContain('CrowdLensCameraNotStreaming');
  });
});
