// A problem with one field of an object, in the path syntax users see in `kubectl explain` (`spec.cidrs[0]`), and
// how a list of them reads on one line (an admission response, a CLI error).

export interface FieldError {
  /** Path of the offending field, e.g. `spec.cidrs[0]`. */
  field: string;
  /** What is wrong and what is allowed, e.g. `must be a CIDR with a prefix, e.g. 203.0.113.7/32`. */
  message: string;
}

/** `spec.cidrs[0]: must be ...; spec.duration: ...` */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}
