// Strings written by other users (reasons, names, decision reasons) reach terminals, tables, chat messages and mail.
// Printed raw, an ANSI escape in a reason could rewrite an approver's terminal, hide text or fake a green check, and
// a bidi override could reorder what a message says. Every such string goes through `inert` first, in the plugin,
// the notifier and the sandbox alike; each output format then escapes for itself (lib/text/html.ts for HTML).

// C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text (bidi overrides and
// isolates, zero-width characters, line/paragraph separators, BOM).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/** The string with every control or invisible formatting character replaced by a visible escape like `\x1b`. */
export function inert(text: unknown): string {
  const s = typeof text === 'string' ? text : typeof text === 'number' || typeof text === 'boolean' ? String(text) : text === undefined || text === null ? '' : JSON.stringify(text);
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
