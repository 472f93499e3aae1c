// The Kubernetes validator must refuse what a cluster would refuse and what the deployment
// promises not to do; `./run lint` trusts it with deploy/k8s.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { expectedSecrets, policyProblems, schemaChecker, type K8sObject } from '../k8s/validate.ts'

function deployment (name: string, container: object, replicas = 2): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { 'app.kubernetes.io/name': name } }, template: { metadata: { labels: { 'app.kubernetes.io/name': name } }, spec: { containers: [structuredClone(container)] } } }
  }
}

const probed = {
  name: 'app',
  image: 'shortfeed/gateway:1',
  ports: [{ name: 'http', containerPort: 8080 }],
  readinessProbe: { httpGet: { path: '/health/ready', port: 'http' } },
  livenessProbe: { httpGet: { path: '/health/live', port: 'http' } },
  resources: { requests: { cpu: '250m', memory: '160Mi' }, limits: { memory: '256Mi' } },
  envFrom: [{ configMapRef: { name: 'shortfeed-config' } }, { secretRef: { name: 'gateway-secrets' } }]
}

/** A deployment that keeps every promise: the test takes one thing away at a time. */
function complete (): K8sObject[] {
  const hpa = (target: string): K8sObject => ({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: target },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, minReplicas: 2, maxReplicas: 6 }
  })
  const pdb = (target: string): K8sObject => ({
    apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: target }, spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': target } } }
  })
  return [
    deployment('gateway', probed),
    deployment('shortener', { ...probed, image: 'shortfeed/shortener:1' }),
    hpa('gateway'), hpa('shortener'), pdb('gateway'), pdb('shortener'),
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gateway' }, spec: { type: 'LoadBalancer', selector: { 'app.kubernetes.io/name': 'gateway' }, ports: [{ port: 80, targetPort: 'http' }] } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'shortfeed/shortener:1' }] } } } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shortfeed-config' }, data: { LOG_LEVEL: 'info' } }
  ]
}

describe('deployment promises', () => {
  test('a complete deployment has no problems, and says which Secrets it expects', () => {
    assert.deepEqual(policyProblems(complete()), [])
    assert.deepEqual(expectedSecrets(complete()), ['gateway-secrets'])
  })

  test('each promise broken is named', () => {
    const objects = complete()
    const gateway = objects[0]!.spec!['template'].spec.containers[0]
    delete gateway.readinessProbe
    delete gateway.resources.limits
    const without = (kind: string, name?: string) => (o: K8sObject) => !(o.kind === kind && (name === undefined || o.metadata.name === name))
    const broken = objects
      .filter(without('HorizontalPodAutoscaler', 'shortener'))
      .filter(without('PodDisruptionBudget', 'gateway'))
      .filter(without('NetworkPolicy'))
      .filter(without('Job'))
      .filter(without('ConfigMap'))
    broken.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'timeline' }, spec: { type: 'NodePort', ports: [{ port: 8082 }] } })
    assert.deepEqual(policyProblems(broken).sort(), [
      'ConfigMap shortfeed-config is referenced and not rendered',
      'Deployment/gateway container app: no readinessProbe',
      'Deployment/gateway container app: no resources.limits.memory',
      'Deployment/gateway: 2 replicas and no PodDisruptionBudget',
      'Service/timeline: type NodePort; only the gateway is reachable from outside',
      'no HorizontalPodAutoscaler for shortener',
      'no default-deny ingress NetworkPolicy',
      'no migrations Job'
    ])
  })
})

describe('schemas', () => {
  test('built-in kinds are checked against Kubernetes 1.34', async () => {
    const check = await schemaChecker()
    assert.equal(await check(deployment('gateway', probed)), null)
    const error = await check(deployment('gateway', { ...probed, ports: [{ containerPort: 'eighty' }] }))
    assert.match(error ?? '', /containerPort must be integer/)
  })

  test('CloudNativePG resources are checked against its CRDs', async () => {
    const check = await schemaChecker()
    const cluster = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'pg' }, spec: { instances: 3, storage: { size: '10Gi' } } }
    assert.equal(await check(cluster), null)
    assert.match(await check({ ...cluster, spec: { instances: 'three' } }) ?? '', /instances must be integer/)
  })

  test('Strimzi resources are checked against its CRDs, unknown fields included', { timeout: 600_000 }, async () => {
    const check = await schemaChecker()
    const pool = {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaNodePool',
      metadata: { name: 'brokers', labels: { 'strimzi.io/cluster': 'kafka' } },
      spec: { replicas: 3, roles: ['broker'], storage: { type: 'persistent-claim', size: '20Gi' } }
    }
    assert.equal(await check(pool), null)
    assert.match(await check({ ...pool, spec: { ...pool.spec, replicas: 'three' } }) ?? '', /replicas must be integer/)
    assert.match(await check({ ...pool, spec: { ...pool.spec, replica: 3 } }) ?? '', /additionalProperty":"replica"/)
  })

  test('a kind no schema covers is refused, not waved through', async () => {
    const check = await schemaChecker()
    assert.match(await check({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }) ?? '', /no schema for example.com\/v1\/Widget/)
  })
})
