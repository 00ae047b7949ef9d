// Server-side HTML with escaping by construction: every interpolation in an `html` template is escaped unless it
// is itself a `SafeHtml` produced by `html` (or by `trustedHtml`, kept for literals this file's callers own). The web
// UI builds its pages with it and the notifier its mail.
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

export class SafeHtml {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  toString(): string {
    return this.#value;
  }
}

/** Values an `html` template accepts: text (escaped), numbers, SafeHtml, nothing (renders empty), or lists of those. */
export type HtmlValue = string | number | SafeHtml | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join('');
  if (typeof value === 'number') return String(value);
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Marks a literal owned by this codebase as HTML. Never pass data that came from a user or the API server. */
export function trustedHtml(literal: string): SafeHtml {
  return new SafeHtml(literal);
}
