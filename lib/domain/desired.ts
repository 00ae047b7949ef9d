// What netwatch materializes for a request, object by object: the halves (one clone and one maxtac object each),
// their deterministic names and places, and the exact objects to create. Pure, and shared by the controller's
// planner and the plugin's dry run, so a preview cannot drift from what the controller really creates. Also the
// test of ownership: which existing objects netwatch may adopt or delete.
import type { AccessRequest, ObjectRef, PartName, Port } from '../api/accessrequest.ts';
import {
  ANNOTATION_ORIGIN,
  ANNOTATION_REQUEST_NAME,
  LABEL_GENERATION,
  LABEL_MANAGED_BY,
  LABEL_REQUEST_ID,
  LABEL_ROLE,
  MANAGED_BY,
  MAXTAC_FINALIZER,
} from '../api/markers.ts';
import type { KubeObject, LabelSelector, MaxtacDirection, MaxtacKind, MaxtacObject, Service, ServicePort } from '../kube/types.ts';
import { MAXTAC_API_VERSION } from '../kube/types.ts';
import { objectName } from './names.ts';
import { partsOf } from './parts.ts';
import { grantedExtensions } from './actions.ts';
import { Reason } from './phase.ts';

export function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export type HalfRole = 'source' | 'target';

/** One end of the traffic that gets its own clone and maxtac object. A part has one or two halves. */
export interface Half {
  role: HalfRole;
  /** Extensions granted when this half was made (0: none); part of its names, labels and selector. */
  generation: number;
  part: PartName;
  namespace: string;
  kind: MaxtacKind;
  maxtacName: string;
  cloneName: string;
  /** The user's Service this half clones. */
  original: { namespace: string; name: string };
  /** Direction as requested, in maxtac's words. */
  direction: MaxtacDirection;
  targets?: { serviceName: string; namespace: string }[];
  targetCIDRs?: string[];
}

/** The generation a request's grant is materialized as now: the number of extensions granted. */
export function generationOf(request: AccessRequest): number {
  return grantedExtensions(request).length;
}

/** The halves of every generation up to the current one, oldest first: where a request's objects can be. */
export function allHalvesOf(request: AccessRequest): Half[] {
  const current = generationOf(request);
  const out: Half[] = [];
  for (let g = 0; g <= current; g++) out.push(...halvesOf(request, g));
  return out;
}

/**
 * The halves of a request (of `generation`, by default the current one): Service type has a source half (egress) and
 * a target half (ingress); External has one.
 */
export function halvesOf(request: AccessRequest, generation = generationOf(request)): Half[] {
  const uid = request.metadata.uid ?? '';
  const g = generation;
  const spec = request.spec;
  const parts = partsOf(spec);
  if (spec.type === 'Service' && spec.source && spec.target) {
    const sourcePart = parts.find((p) => p.namespace === spec.source?.namespace)?.name ?? 'source';
    return [
      {
        role: 'source',
        generation: g,
        part: sourcePart,
        namespace: spec.source.namespace,
        kind: 'Access',
        maxtacName: objectName(uid, 'sourceMaxtac', g),
        cloneName: objectName(uid, 'sourceClone', g),
        original: { namespace: spec.source.namespace, name: spec.source.service },
        direction: 'egress',
        targets: [{ serviceName: objectName(uid, 'targetClone', g), namespace: spec.target.namespace }],
      },
      {
        role: 'target',
        generation: g,
        part: 'target',
        namespace: spec.target.namespace,
        kind: 'Access',
        maxtacName: objectName(uid, 'targetMaxtac', g),
        cloneName: objectName(uid, 'targetClone', g),
        original: { namespace: spec.target.namespace, name: spec.target.service },
        direction: 'ingress',
        targets: [{ serviceName: objectName(uid, 'sourceClone', g), namespace: spec.source.namespace }],
      },
    ];
  }
  if (spec.type === 'External' && spec.service && spec.cidrs && spec.direction) {
    return [
      {
        role: 'target',
        generation: g,
        part: 'target',
        namespace: spec.service.namespace,
        kind: 'ExternalAccess',
        maxtacName: objectName(uid, 'targetMaxtac', g),
        cloneName: objectName(uid, 'targetClone', g),
        original: { namespace: spec.service.namespace, name: spec.service.name },
        direction: spec.direction === 'both' ? 'all' : spec.direction,
        targetCIDRs: [...spec.cidrs],
      },
    ];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------------
// Ownership. Only the controller may write netwatch's markers (the markers admission), so they are evidence that
// netwatch made an object; being at the deterministic name of one of the request's halves, in that half's
// namespace, completes the proof. A marked object anywhere else (markers written before that admission existed,
// or by someone who got past it) is left alone. A uid recorded in status.objects is proof on its own: only the
// controller writes it, and a uid names one incarnation.

export type Piece = 'clone' | 'maxtac';

/** Whether an object carries the markers of this request: its request-id label and netwatch's managed-by. */
export function isMarkedFor(obj: KubeObject, requestUid: string): boolean {
  const labels = obj.metadata.labels;
  return requestUid !== '' && labels?.[LABEL_REQUEST_ID] === requestUid && labels[LABEL_MANAGED_BY] === MANAGED_BY;
}

/** Whether an object carries netwatch's markers for some request. */
export function isMarked(obj: KubeObject): boolean {
  return isMarkedFor(obj, obj.metadata.labels?.[LABEL_REQUEST_ID] ?? '');
}

/** The half whose clone (or maxtac object) lives exactly where this object is, if any. */
function halfAt(halves: readonly Half[], obj: KubeObject, piece: Piece): Half | undefined {
  const { namespace, name } = obj.metadata;
  return halves.find(
    (h) =>
      h.namespace === namespace &&
      (piece === 'clone' ? h.cloneName === name : h.maxtacName === name && (obj.kind === undefined || obj.kind === h.kind)),
  );
}

/** Whether a uid recorded in status.objects names this very object. */
function isRecorded(refs: readonly ObjectRef[], obj: KubeObject, piece: Piece): boolean {
  const uid = obj.metadata.uid;
  if (!uid) return false;
  return refs.some(
    (r) => r.uid === uid && r.namespace === obj.metadata.namespace && r.name === obj.metadata.name && (piece === 'clone') === (r.kind === 'Service'),
  );
}

/** Whether netwatch may adopt or delete this object on behalf of the request: marked and in place, or recorded. */
export function isOwnedBy(request: AccessRequest, halves: readonly Half[], obj: KubeObject, piece: Piece): boolean {
  if (isRecorded(request.status?.objects ?? [], obj, piece)) return true;
  return isMarkedFor(obj, request.metadata.uid ?? '') && halfAt(halves, obj, piece) !== undefined;
}

/**
 * The name netwatch gives an object marked with these request-id and role labels, or undefined when the labels
 * name no request or no role. Without the request (gone, or not yet seen) the namespace cannot be checked: the
 * name is what is left to tell netwatch's objects from look-alikes.
 */
export function deterministicNameFor(labels: Record<string, string> | undefined, piece: Piece): string | undefined {
  const uid = labels?.[LABEL_REQUEST_ID];
  const role = labels?.[LABEL_ROLE];
  if (!uid || (role !== 'source' && role !== 'target')) return undefined;
  const generation = labels[LABEL_GENERATION];
  if (generation !== undefined && !/^[1-9][0-9]?$/.test(generation)) return undefined;
  return objectName(uid, piece === 'clone' ? `${role}Clone` : `${role}Maxtac`, generation === undefined ? 0 : Number(generation));
}

// ---------------------------------------------------------------------------------------------------------------
// The desired objects

/** Resolves the requested ports against the target Service: each keeps that Service's name and targetPort. */
export function resolvePorts(target: Service, requested: Port[] | undefined): { ports: ServicePort[] } | { error: string } {
  const available = target.spec?.ports ?? [];
  const where = key(target.metadata.namespace ?? '', target.metadata.name ?? '');
  if (available.length === 0) return { error: `Service ${where} has no ports` };
  const copy = (p: ServicePort): ServicePort => {
    const out: ServicePort = { port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port };
    if (p.name) out.name = p.name;
    if (p.appProtocol) out.appProtocol = p.appProtocol;
    return out;
  };
  if (!requested || requested.length === 0) return { ports: available.map(copy) };
  const out: ServicePort[] = [];
  const missing: string[] = [];
  for (const r of requested) {
    const protocol = r.protocol ?? 'TCP';
    const found = available.find((p) => p.port === r.port && (p.protocol ?? 'TCP') === protocol);
    if (found) out.push(copy(found));
    else missing.push(`${r.port}/${protocol}`);
  }
  if (missing.length > 0) {
    const has = available.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ');
    return { error: `port ${missing.join(', ')} is not a port of Service ${where} (it has ${has})` };
  }
  // Several ports need distinct names on a Service; a single one may be unnamed.
  if (out.length > 1) out.forEach((p, i) => (p.name ??= `p${i}-${p.port}-${(p.protocol ?? 'TCP').toLowerCase()}`));
  return { ports: out };
}

export interface Problem {
  reason: string;
  message: string;
}

/**
 * The ports of every clone: the requested ports of the target half's Service. maxtac takes a policy's ports from
 * the Service its object selects, so both clones of a Service request carry the same ports.
 */
export function clonePorts(request: AccessRequest, halves: readonly Half[], originals: ReadonlyMap<string, Service | null>): { ports: ServicePort[] } | Problem {
  const target = halves.find((h) => h.role === 'target');
  if (!target) return { reason: Reason.InvalidSpec, message: 'the spec names no Service to grant' };
  const where = key(target.original.namespace, target.original.name);
  const original = originals.get(where) ?? null;
  if (!original) return { reason: Reason.ServiceNotFound, message: `Service ${where} does not exist` };
  const resolved = resolvePorts(original, request.spec.ports);
  return 'error' in resolved ? { reason: Reason.PortNotFound, message: resolved.error } : resolved;
}

function generationLabel(generation: number): Record<string, string> {
  return generation > 0 ? { [LABEL_GENERATION]: String(generation) } : {};
}

function labelsFor(uid: string, half: Pick<Half, 'role' | 'generation'>): Record<string, string> {
  return { [LABEL_REQUEST_ID]: uid, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ROLE]: half.role, ...generationLabel(half.generation) };
}

// Generation 0's selector (no generation label) also matches the clones of later generations: while both exist,
// maxtac writes the old object a policy for the new clone too, granting the same pods the same peer, and deletes
// it with the old object. A later generation selects only its own clones.
function selectorFor(uid: string, half: Pick<Half, 'role' | 'generation'>): LabelSelector {
  return { matchLabels: { [LABEL_REQUEST_ID]: uid, [LABEL_ROLE]: half.role, ...generationLabel(half.generation) } };
}

export function desiredMaxtac(request: AccessRequest, half: Half, direction: MaxtacDirection, durationSeconds: number | null): MaxtacObject {
  const uid = request.metadata.uid ?? '';
  const spec: MaxtacObject['spec'] = { serviceSelector: selectorFor(uid, half), direction };
  if (half.targets) spec.targets = half.targets.map((t) => ({ ...t }));
  if (half.targetCIDRs) spec.targetCIDRs = [...half.targetCIDRs];
  if (durationSeconds !== null) spec.duration = `${durationSeconds}s`;
  return {
    apiVersion: MAXTAC_API_VERSION,
    kind: half.kind,
    metadata: {
      name: half.maxtacName,
      namespace: half.namespace,
      labels: labelsFor(uid, half),
      annotations: { [ANNOTATION_REQUEST_NAME]: request.metadata.name ?? '' },
      finalizers: [MAXTAC_FINALIZER],
    },
    spec,
  };
}

export function desiredClone(request: AccessRequest, half: Half, original: Service, ports: ServicePort[]): Service {
  const uid = request.metadata.uid ?? '';
  const headless = original.spec?.clusterIP === 'None';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: half.cloneName,
      namespace: half.namespace,
      labels: labelsFor(uid, half),
      // Only our annotations: maxtac reads targets/direction from Service annotations before the Access spec,
      // so copying the original's annotations could redirect the grant.
      annotations: {
        [ANNOTATION_REQUEST_NAME]: request.metadata.name ?? '',
        [ANNOTATION_ORIGIN]: key(half.original.namespace, half.original.name),
      },
    },
    spec: {
      type: 'ClusterIP',
      ...(headless ? { clusterIP: 'None' } : {}),
      selector: { ...(original.spec?.selector ?? {}) },
      ports: ports.map((p) => ({ ...p })),
    },
  };
}
