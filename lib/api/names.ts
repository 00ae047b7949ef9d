// Kubernetes name grammars, once: as pattern strings for OpenAPI schemas (the CRD, route schemas) and as RegExps
// for code. Lengths are separate: a label is at most 63 characters, a subdomain at most 253.

/** RFC 1123 label: namespaces, most object names. */
export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** RFC 1035 label: Service names (a letter first). */
export const DNS1035_LABEL_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
/** RFC 1123 subdomain: names of cluster-scoped objects such as AccessRequests, Leases. */
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const DNS1123_LABEL = new RegExp(DNS1123_LABEL_PATTERN);
export const DNS1035_LABEL = new RegExp(DNS1035_LABEL_PATTERN);
export const DNS1123_SUBDOMAIN = new RegExp(DNS1123_SUBDOMAIN_PATTERN);

export const MAX_LABEL_LENGTH = 63;
export const MAX_SUBDOMAIN_LENGTH = 253;

export function isDns1123Label(s: string): boolean {
  return s.length <= MAX_LABEL_LENGTH && DNS1123_LABEL.test(s);
}

export function isDns1035Label(s: string): boolean {
  return s.length <= MAX_LABEL_LENGTH && DNS1035_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= MAX_SUBDOMAIN_LENGTH && DNS1123_SUBDOMAIN.test(s);
}
