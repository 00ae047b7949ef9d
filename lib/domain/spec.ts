// Validation of an AccessRequest's intent beyond what the CRD can express. Pure: the admission webhook calls it
// under the cluster's policy, and the plugin and web UI call it (syntax only) as the user types, so every rule lives
// here once and every error names the field it is about, in the path syntax users see in `kubectl explain`
// (`spec.cidrs[0]`).
import {
  CIDRS_MAX,
  PORTS_MAX,
  REASON_MAX_LENGTH,
  UNLIMITED_DURATION,
  type AccessRequestSpec,
  type Protocol,
} from '../api/accessrequest.ts';
import { schemaLength } from '../api/length.ts';
import { isDns1035Label, isDns1123Label } from '../api/names.ts';
import { formatNetwork, parseCidr } from './cidr.ts';
import { cidrPolicyErrors, type CidrPolicy, type RequestedCidr } from './cidr-policy.ts';
import { parseDuration } from './duration.ts';
import type { FieldError } from './field-error.ts';


/** The cluster's rules on what a spec may ask for (the webhook's configuration holds them). */
export interface SpecPolicy extends CidrPolicy {
  /** Longest duration a request may ask for, e.g. `24h`. */
  maxDuration: string;
  /** Whether `duration: unlimited` (access that never expires) is accepted. */
  allowUnlimited: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// The spec

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const DIRECTIONS = ['ingress', 'egress', 'both'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkNamespace(v: unknown, field: string, errors: FieldError[]): void {
  if (typeof v !== 'string' || v.length === 0) errors.push({ field, message: 'is required: the namespace name' });
  else if (!isDns1123Label(v)) {
    errors.push({ field, message: 'must be a namespace name: lower-case letters, digits and "-", at most 63 characters' });
  }
}

function checkServiceName(v: unknown, field: string, errors: FieldError[]): void {
  if (typeof v !== 'string' || v.length === 0) errors.push({ field, message: 'is required: the Service name' });
  else if (!isDns1035Label(v)) {
    errors.push({
      field,
      message: 'must be a Service name: lower-case letters, digits and "-", starting with a letter, at most 63 characters',
    });
  }
}

function checkServiceRef(v: unknown, field: string, nameKey: 'service' | 'name', errors: FieldError[]): void {
  if (!isRecord(v)) {
    errors.push({ field, message: `is required: {namespace, ${nameKey}}` });
    return;
  }
  checkNamespace(v.namespace, `${field}.namespace`, errors);
  checkServiceName(v[nameKey], `${field}.${nameKey}`, errors);
}

function forbid(spec: Record<string, unknown>, keys: string[], type: string, errors: FieldError[]): void {
  for (const key of keys) {
    if (spec[key] !== undefined) errors.push({ field: `spec.${key}`, message: `is not allowed for type ${type}` });
  }
}

/**
 * Everything wrong with a spec under the cluster's policy, each with its field path; empty when valid. Accepts
 * partial input (a form being typed) and reports what is missing. `spec.requester` is not checked: the webhook
 * writes it.
 */
export function validateSpec(spec: unknown, policy: SpecPolicy): FieldError[] {
  return checkSpec(spec, policy);
}

/**
 * What validateSpec reports that does not depend on the cluster's policy: for clients (the plugin, the web UI),
 * which do not know the maximum duration or the CIDR policy and leave them to the webhook, whose message names
 * the field.
 */
export function validateSpecSyntax(spec: unknown): FieldError[] {
  return checkSpec(spec, null);
}

function checkSpec(spec: unknown, policy: SpecPolicy | null): FieldError[] {
  const errors: FieldError[] = [];
  if (!isRecord(spec)) return [{ field: 'spec', message: 'is required' }];

  switch (spec.type) {
    case 'Service': {
      checkServiceRef(spec.source, 'spec.source', 'service', errors);
      checkServiceRef(spec.target, 'spec.target', 'service', errors);
      forbid(spec, ['service', 'cidrs', 'direction'], 'Service', errors);
      const s = spec.source;
      const t = spec.target;
      if (isRecord(s) && isRecord(t) && s.namespace === t.namespace && s.service === t.service && typeof s.service === 'string') {
        errors.push({ field: 'spec.target', message: 'must differ from spec.source: a Service can already reach itself' });
      }
      break;
    }
    case 'External': {
      checkServiceRef(spec.service, 'spec.service', 'name', errors);
      forbid(spec, ['source', 'target'], 'External', errors);
      checkCidrs(spec.cidrs, policy, errors);
      if (!DIRECTIONS.includes(spec.direction as (typeof DIRECTIONS)[number])) {
        errors.push({ field: 'spec.direction', message: 'must be ingress, egress or both' });
      }
      break;
    }
    default:
      errors.push({ field: 'spec.type', message: 'must be Service or External' });
      break;
  }

  checkPorts(spec.ports, errors);
  checkDuration(spec.duration, policy, errors);

  if (typeof spec.reason !== 'string' || spec.reason.trim().length === 0) {
    errors.push({ field: 'spec.reason', message: 'is required: say why the access is needed' });
  } else if (schemaLength(spec.reason) > REASON_MAX_LENGTH) {
    errors.push({ field: 'spec.reason', message: `must be at most ${REASON_MAX_LENGTH} characters` });
  }
  return errors;
}

function checkCidrs(cidrs: unknown, policy: SpecPolicy | null, errors: FieldError[]): void {
  if (!Array.isArray(cidrs) || cidrs.length === 0) {
    errors.push({ field: 'spec.cidrs', message: 'is required: at least one CIDR, e.g. 203.0.113.7/32' });
    return;
  }
  if (cidrs.length > CIDRS_MAX) errors.push({ field: 'spec.cidrs', message: `must have at most ${CIDRS_MAX} entries` });
  const seen = new Map<string, number>();
  const requested: RequestedCidr[] = [];
  cidrs.forEach((cidr: unknown, i) => {
    const field = `spec.cidrs[${i}]`;
    const network = typeof cidr === 'string' ? parseCidr(cidr) : null;
    if (typeof cidr !== 'string' || network === null) {
      errors.push({ field, message: 'must be a CIDR with a prefix, e.g. 203.0.113.7/32' });
      return;
    }
    const canonical = formatNetwork(network);
    if (canonical !== cidr) {
      errors.push({ field, message: `must be written canonically (no host bits after the prefix): ${canonical}` });
      return;
    }
    const first = seen.get(canonical);
    if (first !== undefined) {
      errors.push({ field, message: `duplicates spec.cidrs[${first}]` });
      return;
    }
    seen.set(canonical, i);
    requested.push({ index: i, cidr: canonical, network });
  });
  // Judged on the valid entries only: every refusal of a subset (an overlap, a covered network, a count above the
  // limit) holds for the whole list too, since the union only grows.
  if (policy) errors.push(...cidrPolicyErrors(requested, policy));
}

function checkPorts(ports: unknown, errors: FieldError[]): void {
  if (ports === undefined) return;
  if (!Array.isArray(ports)) {
    errors.push({ field: 'spec.ports', message: 'must be a list of {port, protocol}' });
    return;
  }
  if (ports.length > PORTS_MAX) errors.push({ field: 'spec.ports', message: `must have at most ${PORTS_MAX} entries` });
  const seen = new Map<string, number>();
  ports.forEach((p: unknown, i) => {
    const field = `spec.ports[${i}]`;
    if (!isRecord(p)) {
      errors.push({ field, message: 'must be {port, protocol}' });
      return;
    }
    const { port } = p;
    const protocol = p.protocol ?? 'TCP';
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      errors.push({ field: `${field}.port`, message: 'must be a port number from 1 to 65535' });
    }
    if (!PROTOCOLS.includes(protocol as Protocol)) {
      errors.push({ field: `${field}.protocol`, message: 'must be TCP, UDP or SCTP' });
    }
    const key = `${JSON.stringify(port)}/${JSON.stringify(protocol).replaceAll('"', '')}`;
    const first = seen.get(key);
    if (first !== undefined) errors.push({ field, message: `duplicates spec.ports[${first}] (${key})` });
    else seen.set(key, i);
  });
}

function checkDuration(duration: unknown, policy: SpecPolicy | null, errors: FieldError[]): void {
  const field = 'spec.duration';
  const max = policy?.maxDuration;
  const atMost = max ? `; at most ${max}` : '';
  if (typeof duration !== 'string' || duration.length === 0) {
    errors.push({ field, message: `is required: e.g. 30m, 2h or 1h30m${max ? ` (at most ${max})` : ''}` });
    return;
  }
  const ms = parseDuration(duration);
  if (ms === null) {
    errors.push({ field, message: `must be a duration such as 30m, 2h or 1h30m (hours, minutes, seconds${atMost})` });
  } else if (ms === UNLIMITED_DURATION) {
    if (policy && !policy.allowUnlimited) {
      errors.push({ field, message: `"${UNLIMITED_DURATION}" is not allowed on this cluster; ask for at most ${policy.maxDuration}` });
    }
  } else if (ms <= 0) {
    errors.push({ field, message: 'must be longer than 0s' });
  } else if (max) {
    const maxMs = parseDuration(max);
    if (typeof maxMs === 'number' && ms > maxMs) errors.push({ field, message: `must be at most ${max} on this cluster` });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Referenced Services (facts read from the cluster, judged here)

/** What validation needs to know about a Service that a spec references. */
export interface ServiceFacts {
  type: string;
  /** Whether the Service has a non-empty selector (selector-less Services select no pods netwatch can isolate). */
  hasSelector: boolean;
  ports: { port: number; protocol: Protocol; name?: string }[];
  /** The Service's labels (AccessPolicy rules may select Services by label). */
  labels?: Record<string, string>;
}

/** A Service a spec references, with the field that references it and the role it plays. */
export interface ServiceReference {
  field: string;
  namespace: string;
  name: string;
  role: 'source' | 'target';
}

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The Services a (structurally valid) spec references; the target is last. */
export function serviceReferencesOf(spec: Pick<AccessRequestSpec, 'type' | 'source' | 'target' | 'service'>): ServiceReference[] {
  switch (spec.type) {
    case 'Service': {
      const out: ServiceReference[] = [];
      if (spec.source) out.push({ field: 'spec.source', namespace: spec.source.namespace, name: spec.source.service, role: 'source' });
      if (spec.target) out.push({ field: 'spec.target', namespace: spec.target.namespace, name: spec.target.service, role: 'target' });
      return out;
    }
    case 'External':
      return spec.service
        ? [{ field: 'spec.service', namespace: spec.service.namespace, name: spec.service.name, role: 'target' }]
        : [];
    default:
      // Only the types above exist, but the mutating webhook sees a spec before the API server checks it.
      return [];
  }
}

const REFUSED_SERVICE_TYPES = ['LoadBalancer', 'NodePort', 'ExternalName'];

/**
 * Checks the referenced Services against what the cluster holds: they exist, select pods, are plain ClusterIP
 * (or headless) Services, and the target has every requested port. `services` maps `namespace/name` to the
 * Service's facts, or to null when it does not exist.
 */
export function validateServices(
  spec: Pick<AccessRequestSpec, 'type' | 'source' | 'target' | 'service' | 'ports'>,
  services: ReadonlyMap<string, ServiceFacts | null>,
): FieldError[] {
  const errors: FieldError[] = [];
  for (const ref of serviceReferencesOf(spec)) {
    const nameField = `${ref.field}.${spec.type === 'External' ? 'name' : 'service'}`;
    const facts = services.get(serviceKey(ref.namespace, ref.name));
    if (!facts) {
      errors.push({ field: nameField, message: `Service ${ref.namespace}/${ref.name} does not exist` });
      continue;
    }
    if (REFUSED_SERVICE_TYPES.includes(facts.type)) {
      errors.push({
        field: nameField,
        message: `Service ${ref.namespace}/${ref.name} is of type ${facts.type}; only ClusterIP (or headless) Services with a selector are allowed`,
      });
    } else if (!facts.hasSelector) {
      errors.push({
        field: nameField,
        message: `Service ${ref.namespace}/${ref.name} has no selector; only Services that select pods are allowed`,
      });
    }
    if (ref.role === 'target' && spec.ports) {
      spec.ports.forEach((p, i) => {
        const protocol = p.protocol ?? 'TCP';
        if (!facts.ports.some((sp) => sp.port === p.port && sp.protocol === protocol)) {
          const offered = facts.ports.map((sp) => `${sp.port}/${sp.protocol}`).join(', ') || 'none';
          errors.push({
            field: `spec.ports[${i}]`,
            message: `${p.port}/${protocol} is not a port of Service ${ref.namespace}/${ref.name}; it has: ${offered}`,
          });
        }
      });
    }
  }
  return errors;
}
