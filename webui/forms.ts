// Form fields → AccessRequest spec, with errors named by field so the form can show them next to the input.
// The API server (CRD schema + CEL) and the webhook remain the authority; this catches typos early.
import { isValidCidr } from '../lib/domain/cidr.ts';
import { schemaLength } from '../lib/api/length.ts';
import { DNS1035_LABEL, DNS1123_LABEL } from '../lib/api/names.ts';
import { CIDRS_MAX, PORTS_MAX, REASON_MAX_LENGTH, type AccessRequestSpec, type Direction, type Port, type Protocol } from '../lib/api/accessrequest.ts';

export type FormValues = Record<string, string | undefined>;
export type FieldErrors = Record<string, string>;
export type ParseResult = { ok: true; spec: AccessRequestSpec } | { ok: false; errors: FieldErrors };

const NAMESPACE = DNS1123_LABEL;
const SERVICE = DNS1035_LABEL;
const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];
export const DIRECTIONS: Direction[] = ['ingress', 'egress', 'both'];

export function parsePorts(text: string): { ports: Port[] } | { error: string } {
  const ports: Port[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(raw);
    const port = m ? Number(m[1]) : NaN;
    if (!m || port < 1 || port > 65535) return { error: `"${raw}" is not a port such as 5432 or 53/UDP` };
    const protocol = (m[2]?.toUpperCase() ?? 'TCP') as Protocol;
    if (!PROTOCOLS.includes(protocol)) return { error: `unknown protocol in "${raw}"` };
    const key = `${port}/${protocol}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ports.push({ port, protocol });
  }
  if (ports.length > PORTS_MAX) return { error: `at most ${PORTS_MAX} ports` };
  return { ports };
}

function required(v: FormValues, field: string, pattern: RegExp, what: string, errors: FieldErrors): string {
  const value = (v[field] ?? '').trim();
  if (!value) errors[field] = `${what} is required`;
  else if (value.length > 63 || !pattern.test(value)) errors[field] = `${what} must be a lower-case DNS label (a-z, 0-9, -)`;
  return value;
}

function common(v: FormValues, durations: string[], errors: FieldErrors): { duration: string; reason: string; ports: Port[] } {
  const duration = v['duration'] ?? '';
  if (!durations.includes(duration)) errors['duration'] = 'choose one of the offered durations';
  const reason = (v['reason'] ?? '').trim();
  if (!reason) errors['reason'] = 'a reason is required';
  else if (schemaLength(reason) > REASON_MAX_LENGTH) errors['reason'] = `at most ${REASON_MAX_LENGTH} characters`;
  const p = parsePorts(v['ports'] ?? '');
  if ('error' in p) errors['ports'] = p.error;
  return { duration, reason, ports: 'ports' in p ? p.ports : [] };
}

export function parseServiceForm(v: FormValues, durations: string[]): ParseResult {
  const errors: FieldErrors = {};
  const source = { namespace: required(v, 'sourceNamespace', NAMESPACE, 'Source namespace', errors), service: required(v, 'sourceService', SERVICE, 'Source service', errors) };
  const target = { namespace: required(v, 'targetNamespace', NAMESPACE, 'Target namespace', errors), service: required(v, 'targetService', SERVICE, 'Target service', errors) };
  const c = common(v, durations, errors);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const spec: AccessRequestSpec = { type: 'Service', source, target, duration: c.duration, reason: c.reason };
  if (c.ports.length > 0) spec.ports = c.ports;
  return { ok: true, spec };
}

export function parseExternalForm(v: FormValues, durations: string[]): ParseResult {
  const errors: FieldErrors = {};
  const service = { namespace: required(v, 'namespace', NAMESPACE, 'Namespace', errors), name: required(v, 'service', SERVICE, 'Service', errors) };
  const cidrs = [...new Set((v['cidrs'] ?? '').split(/[\s,]+/).filter(Boolean))];
  if (cidrs.length === 0) errors['cidrs'] = 'at least one CIDR is required';
  else if (cidrs.length > CIDRS_MAX) errors['cidrs'] = `at most ${CIDRS_MAX} CIDRs`;
  else {
    const bad = cidrs.find((c) => !isValidCidr(c));
    if (bad) errors['cidrs'] = `"${bad}" is not a CIDR such as 203.0.113.7/32`;
  }
  const direction = v['direction'] as Direction;
  if (!DIRECTIONS.includes(direction)) errors['direction'] = 'choose ingress, egress or both';
  const c = common(v, durations, errors);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const spec: AccessRequestSpec = { type: 'External', service, cidrs, direction, duration: c.duration, reason: c.reason };
  if (c.ports.length > 0) spec.ports = c.ports;
  return { ok: true, spec };
}
