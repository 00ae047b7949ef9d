// The parts (halves) of a request: one per namespace that must consent, and what a user needs to approve each.
import type { AccessRequestSpec, PartName } from '../api/accessrequest.ts';
import { GROUP, PLURAL } from '../api/accessrequest.ts';

export type MaxtacKind = 'Access' | 'ExternalAccess';

export interface Part {
  name: PartName;
  namespace: string;
  /** The maxtac kind materialized in this namespace. */
  maxtacKind: MaxtacKind;
  /** The maxtac resource (plural) a user must be able to create to approve by "could have created it". */
  maxtacResource: 'accesses' | 'externalaccesses';
}

/** A resource attribute check, as sent in a (Self)SubjectAccessReview. */
export interface ResourceCheck {
  verb: string;
  group: string;
  resource: string;
  namespace: string;
}

/**
 * A user may approve a part when `approve` passes, or when every check of `create` passes
 * ("you may approve what you could have created yourself").
 */
export interface PartPermission {
  part: PartName;
  namespace: string;
  approve: ResourceCheck;
  create: ResourceCheck[];
}

/**
 * Service type: a `source` part and a `target` part when the namespaces differ, a single `target` part when
 * they are equal (one namespace consents once for both ends). External type: one `target` part, the Service's
 * namespace. Any other type: none.
 */
export function partsOf(spec: Pick<AccessRequestSpec, 'type' | 'source' | 'target' | 'service'>): Part[] {
  switch (spec.type) {
    case 'Service': {
      const source = spec.source?.namespace;
      const target = spec.target?.namespace;
      if (!source || !target) return [];
      const target_: Part = { name: 'target', namespace: target, maxtacKind: 'Access', maxtacResource: 'accesses' };
      if (source === target) return [target_];
      return [{ name: 'source', namespace: source, maxtacKind: 'Access', maxtacResource: 'accesses' }, target_];
    }
    case 'External': {
      const ns = spec.service?.namespace;
      if (!ns) return [];
      return [{ name: 'target', namespace: ns, maxtacKind: 'ExternalAccess', maxtacResource: 'externalaccesses' }];
    }
    default:
      // An unknown type has no parts. The CRD admits only the two above, but the mutating webhook runs before the
      // API server checks the schema, and clients may hold objects of a newer version: none of them may crash.
      return [];
  }
}

export const MAXTAC_GROUP = 'maxtac.vtk.io';

export function permissionFor(part: Part): PartPermission {
  return {
    part: part.name,
    namespace: part.namespace,
    approve: { verb: 'approve', group: GROUP, resource: PLURAL, namespace: part.namespace },
    create: [
      { verb: 'create', group: '', resource: 'services', namespace: part.namespace },
      { verb: 'create', group: MAXTAC_GROUP, resource: part.maxtacResource, namespace: part.namespace },
    ],
  };
}

/** The answers of the checks of one part's permission, in the shape `mayApprove` decides from. */
export interface PartPermissionAnswers {
  approve: boolean;
  create: boolean[];
}

export function mayApprove(answers: PartPermissionAnswers): boolean {
  return answers.approve || (answers.create.length > 0 && answers.create.every(Boolean));
}

/** Human text for the permission a part needs, as the UIs show it. */
export function describePermission(p: PartPermission): string {
  return `approve accessrequests.${GROUP} in ${p.namespace}, or create services and ${p.create[1]?.resource ?? ''}.${MAXTAC_GROUP} in ${p.namespace}`;
}
