// Admission of Services and maxtac objects that carry netwatch's markers (or a name netwatch reserves). netwatch
// finds, selects and cleans up what it materialized by these labels and annotations, and maxtac widens a grant to
// every Service its object selects, reading targets and direction from the Service's own annotations. So a marker
// written by anyone else would let them widen a grant (a labelled Service of theirs joins an approved Access) or
// make netwatch adopt or delete what it never made. Only the controller may create, change or delete such objects;
// the few identities Kubernetes and maxtac clean up with may delete them. Pure: the HTTP shell decodes and encodes.
import { isDeepStrictEqual } from 'node:util';
import {
  LABEL_MANAGED_BY,
  MANAGED_BY,
  MARKER_PREFIX,
  MAXTAC_ANNOTATION_PREFIXES,
} from '../lib/api/markers.ts';
import { isUser, type UserInfo } from './identity.ts';

/** The resources the markers webhook is registered for. */
export const MARKED_RESOURCES = [
  { group: '', resource: 'services', kind: 'Service' },
  { group: 'maxtac.vtk.io', resource: 'accesses', kind: 'Access' },
  { group: 'maxtac.vtk.io', resource: 'externalaccesses', kind: 'ExternalAccess' },
] as const;

/**
 * Names netwatch derives from a request uid (lib/domain/names.ts): a prefix and 52 base32 characters. Nobody else
 * may take one, or a request could be made to fail with NameConflict by whoever read its uid first.
 */
export const RESERVED_NAME = /^nw(s|t|as|at)-[a-z2-7]{52}(-[1-9][0-9]?)?$/;

export interface MarkersConfig {
  controllerUsername: string;
  /**
   * Who besides the controller may delete a marked object: maxtac (it deletes its object at expiry), Kubernetes'
   * garbage collector (a clone whose owner is gone) and namespace controller (a namespace being deleted).
   */
  markerDeleters: readonly string[];
  /**
   * Groups whose members may delete a marked object: by default `system:masters`, whom no RBAC or webhook can stop
   * for long anyway (they may remove the webhook configuration), so that an administrator can clean up by hand
   * (netwatch then reports the request ObjectDeleted).
   */
  markerDeleterGroups: readonly string[];
}

export interface MarkedObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  [key: string]: unknown;
}

export interface MarkedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: MarkedObjectMeta;
  [key: string]: unknown;
}

export interface MarkersInput {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: UserInfo;
  /** The kind of the object (Service, Access, ExternalAccess). */
  kind: string;
  oldObject: MarkedObject | null;
  object: MarkedObject | null;
  config: MarkersConfig;
}

export interface MarkersResult {
  allowed: boolean;
  code?: number;
  message?: string;
}

const isNetwatchKey = (key: string) => key.startsWith(MARKER_PREFIX);

/** The markers an object carries, as the field paths a user would read them at (labels, then annotations, by key). */
export function markersOf(obj: MarkedObject | null): string[] {
  const meta = obj?.metadata;
  if (!meta) return [];
  const labels = Object.entries(meta.labels ?? {})
    .filter(([key, value]) => isNetwatchKey(key) || (key === LABEL_MANAGED_BY && value === MANAGED_BY))
    .map(([key]) => key);
  const annotations = Object.keys(meta.annotations ?? {}).filter(isNetwatchKey);
  return [...labels.sort().map((k) => `metadata.labels[${k}]`), ...annotations.sort().map((k) => `metadata.annotations[${k}]`)];
}

function reservedName(obj: MarkedObject | null): string | undefined {
  const name = obj?.metadata?.name;
  return name !== undefined && RESERVED_NAME.test(name) ? name : undefined;
}

function describe(obj: MarkedObject | null, kind: string): string {
  const m = obj?.metadata;
  return `${kind} ${m?.namespace ? `${m.namespace}/` : ''}${m?.name ?? ''}`;
}

const allow = (): MarkersResult => ({ allowed: true });
const deny = (message: string, code = 403): MarkersResult => ({ allowed: false, code, message });

const ONLY_CONTROLLER =
  'only the netwatch controller may write objects that carry netwatch markers (labels and annotations under netwatch.vtk.io/, the label app.kubernetes.io/managed-by=netwatch) or a name netwatch reserves';
const HOW_TO_END = 'to end a grant, revoke its AccessRequest (kubectl netwatch revoke NAME)';

/**
 * The metadata fields a marked object may see changed by someone other than the controller: what the API server
 * itself maintains, and finalizers that are not netwatch's (another controller's bookkeeping).
 */
const SERVER_MANAGED = new Set(['resourceVersion', 'generation', 'managedFields', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'uid', 'selfLink']);

/** A cleanup identity (maxtac, Kubernetes' garbage collector, an administrator) may delete, strip finalizers, orphan. */
function mayCleanUp(user: UserInfo, config: MarkersConfig): boolean {
  return (
    config.markerDeleters.some((u) => u !== '' && u === user.username) ||
    config.markerDeleterGroups.some((g) => g !== '' && (user.groups ?? []).includes(g))
  );
}

/** Field paths of `before` → `after` that only the controller may change, for a user who is not the controller. */
function forbiddenChanges(before: MarkedObject, after: MarkedObject, cleanup: boolean): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (key === 'metadata' || key === 'status') continue;
    if (!isDeepStrictEqual(before[key], after[key])) out.push(key);
  }
  const b = before.metadata ?? {};
  const a = after.metadata ?? {};
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (SERVER_MANAGED.has(key) || isDeepStrictEqual(b[key], a[key])) continue;
    // A force-delete strips finalizers; the garbage collector orphans by dropping ownerReferences.
    if ((key === 'ownerReferences' || key === 'finalizers') && cleanup) continue;
    if (key === 'finalizers') {
      const ours = (list: unknown) => (Array.isArray(list) ? (list as string[]).filter(isNetwatchKey).sort() : []);
      if (isDeepStrictEqual(ours(b.finalizers), ours(a.finalizers))) continue;
    }
    out.push(`metadata.${key}`);
  }
  return out.sort();
}

/**
 * The ordered checks. Each returns a refusal or nothing; the first refusal wins, and an object that passes them
 * all is admitted.
 */
const checks: { name: string; check: (input: MarkersInput) => MarkersResult | undefined }[] = [
  {
    // maxtac reads `maxtac.vtk.io.access/targets`, `.../direction` (and the externalaccess ones) from every Service
    // its object selects, ahead of the object's spec: on a clone they would redirect or widen the approved grant.
    // The controller never writes them, so nobody may.
    name: 'NoMaxtacAnnotationsOnClones',
    check: ({ kind, object }) => {
      if (kind !== 'Service' || markersOf(object).length === 0) return undefined;
      const found = Object.keys(object?.metadata?.annotations ?? {})
        .filter((k) => MAXTAC_ANNOTATION_PREFIXES.some((p) => k.startsWith(p)))
        .sort();
      if (found.length === 0) return undefined;
      return deny(
        `${found.map((k) => `metadata.annotations[${k}]`).join(', ')}: not allowed on ${describe(object, kind)}, a netwatch clone: maxtac would take the grant's targets or direction from it instead of the approved request`,
      );
    },
  },
  {
    name: 'ControllerMayWrite',
    check: ({ userInfo, config }) => (isUser(userInfo, config.controllerUsername) ? allow() : undefined),
  },
  {
    name: 'CleanupIdentitiesMayDelete',
    check: ({ operation, userInfo, oldObject, kind, config }) => {
      if (operation !== 'DELETE') return undefined;
      if (mayCleanUp(userInfo, config)) return allow();
      return deny(
        `${describe(oldObject, kind)} was made by netwatch (${[...markersOf(oldObject), ...(reservedName(oldObject) ? ['a reserved name'] : [])].join(', ')}): user "${userInfo.username ?? ''}" may not delete it; ${HOW_TO_END}`,
      );
    },
  },
  {
    name: 'OnlyTheControllerCreates',
    check: ({ operation, userInfo, object, kind }) => {
      if (operation !== 'CREATE') return undefined;
      const markers = markersOf(object);
      const name = reservedName(object);
      const fields = [...markers, ...(name ? ['metadata.name'] : [])];
      return deny(
        `${fields.join(', ')}: user "${userInfo.username ?? ''}" may not create ${describe(object, kind)}: ${ONLY_CONTROLLER}${name ? ` (${name} has the form of a netwatch name)` : ''}`,
      );
    },
  },
  {
    name: 'OthersChangeNothingOfNetwatch',
    check: ({ operation, userInfo, oldObject, object, kind, config }) => {
      if (operation !== 'UPDATE' || !oldObject || !object) return undefined;
      const changed = forbiddenChanges(oldObject, object, mayCleanUp(userInfo, config));
      if (changed.length === 0) return allow();
      return deny(`${changed.join(', ')}: user "${userInfo.username ?? ''}" may not change ${describe(oldObject, kind)}: ${ONLY_CONTROLLER}; ${HOW_TO_END}`);
    },
  },
];

/** Whether this admission concerns a netwatch-marked object at all (the webhook's matchConditions say the same). */
export function concernsMarkers(input: Pick<MarkersInput, 'oldObject' | 'object'>): boolean {
  return [input.oldObject, input.object].some((o) => markersOf(o).length > 0 || reservedName(o) !== undefined);
}

export function admitMarked(input: MarkersInput): MarkersResult {
  if (input.operation === 'CONNECT' || !concernsMarkers(input)) return allow();
  for (const { check } of checks) {
    const result = check(input);
    if (result) return result;
  }
  return allow();
}

/** The check names, in order (documentation and tests). */
export const MARKER_CHECKS = checks.map((c) => c.name);
