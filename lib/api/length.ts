// How the API server measures a string against a CRD's minLength/maxLength.

/**
 * The length of `text` in Unicode code points, as the API server counts it for an OpenAPI minLength/maxLength
 * (Go's utf8.RuneCountInString). JavaScript's `length` counts UTF-16 units, so a character outside the Basic
 * Multilingual Plane (most emoji) would count twice and a text the CRD accepts would be refused.
 */
export function schemaLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
