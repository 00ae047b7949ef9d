// The labels, annotations and finalizers by which netwatch finds and owns the objects it materializes (clones,
// maxtac objects), in one place. The admission webhook lets only the controller write them (markers admission),
// so on a Service or maxtac object a marker is proof that netwatch made it.
import { GROUP } from './accessrequest.ts';

/** Every label and annotation key under this prefix is netwatch's. */
export const MARKER_PREFIX = `${GROUP}/`;

export const LABEL_REQUEST_ID = `${GROUP}/request-id`;
export const LABEL_ROLE = `${GROUP}/role`;
/** On the clones and maxtac objects of an extended grant: the number of extensions granted (absent: 0). */
export const LABEL_GENERATION = `${GROUP}/generation`;
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'netwatch';
export const ANNOTATION_REQUEST_NAME = `${GROUP}/request-name`;
export const ANNOTATION_ORIGIN = `${GROUP}/origin`;

/** On every AccessRequest, added before any side effect, removed once everything it materialized is gone. */
export const REQUEST_FINALIZER = `${GROUP}/cleanup`;
/** On netwatch-managed maxtac objects only: their clones are deleted before the object goes. */
export const MAXTAC_FINALIZER = `${GROUP}/clones`;
/** Every finalizer name an earlier netwatch shipped. They are still removed wherever they are found. */
export const LEGACY_FINALIZERS: readonly string[] = [
  `${GROUP}/cleanup-finalizer`,
  `${GROUP}/access-cleanup-finalizer`,
  `${GROUP}/request-cleanup-finalizer`,
];

/** maxtac's labels on the NetworkPolicies it writes, naming the Access/ExternalAccess that owns them. */
export const MAXTAC_OWNER_LABELS = {
  Access: 'maxtac.vtk.io.access/owner',
  ExternalAccess: 'maxtac.vtk.io.externalaccess/owner',
} as const;

/**
 * maxtac reads targets and direction from these annotation prefixes on every Service its objects select, before
 * their spec: on a netwatch clone they would redirect or widen the grant, so nobody may write them there.
 */
export const MAXTAC_ANNOTATION_PREFIXES: readonly string[] = ['maxtac.vtk.io.access/', 'maxtac.vtk.io.externalaccess/'];
