// Label selectors as the API server reads them (metav1.LabelSelector), answered in three values: an object whose
// labels are only partly known (a namespace the reader may not see, or "the pods of a Service", known only by the
// labels its selector pins) is selected, not selected, or we cannot tell. A guess is never made for the reader.
import type { LabelSelector, LabelSelectorRequirement } from '../../kube/types.ts';

export type Truth = 'yes' | 'no' | 'unknown';

/** Kleene's and: one no decides, else one unknown leaves it open. */
export function allOf(values: readonly Truth[]): Truth {
  if (values.includes('no')) return 'no';
  return values.includes('unknown') ? 'unknown' : 'yes';
}

const truth = (b: boolean): Truth => (b ? 'yes' : 'no');

function requirement(r: LabelSelectorRequirement, labels: Readonly<Record<string, string>>, complete: boolean): Truth {
  const has = Object.hasOwn(labels, r.key);
  if (!has && !complete) return 'unknown';
  const value = labels[r.key];
  const listed = has && value !== undefined && (r.values ?? []).includes(value);
  switch (r.operator) {
    case 'In':
      return truth(listed);
    case 'NotIn':
      // An object without the key is not in any list of values: NotIn selects it.
      return truth(!listed);
    case 'Exists':
      return truth(has);
    case 'DoesNotExist':
      return truth(!has);
    default:
      // The API server refuses other operators; a selector that does not parse selects nothing.
      return 'no';
  }
}

/**
 * Whether `selector` selects an object carrying `labels`; an absent or empty selector selects everything. With
 * `complete` false the object may carry more labels than those given, and a requirement on any other key is unknown
 * (In on a missing key could be met, DoesNotExist could fail).
 */
export function selects(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>, complete = true): Truth {
  // Asked for every peer of every rule of every pair: short-circuits on the first no, allocates nothing.
  let unknown = false;
  const matchLabels = selector?.matchLabels;
  if (matchLabels) {
    for (const key in matchLabels) {
      if (!Object.hasOwn(labels, key)) {
        if (complete) return 'no';
        unknown = true;
      } else if (labels[key] !== matchLabels[key]) return 'no';
    }
  }
  for (const r of selector?.matchExpressions ?? []) {
    const t = requirement(r, labels, complete);
    if (t === 'no') return 'no';
    if (t === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : 'yes';
}
