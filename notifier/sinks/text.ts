// Escaping for the sinks' formats, on top of the one neutralizer of other users' strings (`inert` of
// lib/text/inert.ts: control and invisible formatting characters become visible escapes, so a reason cannot hide or
// reorder text anywhere).
import { inert } from '../../lib/text/inert.ts';

/** Slack mrkdwn: `&`, `<` and `>` are the characters Slack parses links, mentions (`<!channel>`) and entities from. */
export function escapeMrkdwn(text: string): string {
  return inert(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** At most `max` characters (code points), an ellipsis marking a cut: Block Kit refuses longer texts. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** A header value: names only by construction, but a line break must never reach a header whatever happens. */
export function headerText(text: string): string {
  return inert(text).replace(/\s+/g, ' ').trim();
}
