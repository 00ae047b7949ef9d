// A Slack-compatible incoming webhook (Slack; Mattermost reads the same JSON): a Block Kit message. Every string
// that comes from a user (the reason, the requester's name, a decision's reason) goes into plain_text objects,
// which Slack shows as they are: no formatting, no links, no mentions. The only mrkdwn is the fallback text, the
// link and the commands, escaped. The URL is the secret: read from its file at each delivery, never logged.
import type { Message } from '../messages.ts';
import { factsOf } from '../messages.ts';
import { inert } from '../../lib/text/inert.ts';
import { clip, escapeMrkdwn } from './text.ts';

type TextObject = { type: 'plain_text'; text: string; emoji: false } | { type: 'mrkdwn'; text: string; verbatim: true };
type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text: TextObject }
  | { type: 'section'; fields: TextObject[] }
  | { type: 'context'; elements: TextObject[] };

export interface SlackPayload {
  text: string;
  blocks: Block[];
  unfurl_links: false;
  unfurl_media: false;
}

// Block Kit's limits: a header's text 150 characters, a section's 3000, a field's 2000, ten fields.
const plain = (text: string, max = 3000): TextObject => ({ type: 'plain_text', text: clip(inert(text), max), emoji: false });
// verbatim: Slack does not turn bare URLs or channel names into links on its own.
const mrkdwn = (text: string): TextObject => ({ type: 'mrkdwn', text: clip(text, 3000), verbatim: true });

/** A link in Slack's `<url|label>` form: `|` and `>` would end it early, so they are percent-encoded. */
function slackLink(url: string, label: string): string {
  const href = url.replace(/&/g, '&amp;').replace(/[|<>\s]/g, (c) => encodeURIComponent(c));
  return `<${href}|${escapeMrkdwn(label)}>`;
}

export function slackPayload(m: Message): SlackPayload {
  const blocks: Block[] = [
    { type: 'header', text: plain(`netwatch: ${m.subject}`, 150) },
    { type: 'section', text: plain(m.headline) },
    { type: 'section', fields: factsOf(m).slice(0, 10).map(([label, value]) => plain(`${label}: ${value}`, 2000)) },
    { type: 'section', text: plain(`Reason given by ${m.request.requester}: ${m.request.reason}`) },
    ...m.details.map((d): Block => ({ type: 'section', text: plain(d) })),
    { type: 'section', text: mrkdwn(`*Act on it* (there is no button: approvals are yours to make)\n\`\`\`${escapeMrkdwn(m.commands.join('\n'))}\`\`\``) },
  ];
  if (m.link) blocks.push({ type: 'section', text: mrkdwn(slackLink(m.link, `Open ${m.request.name} in netwatch`)) });
  blocks.push({ type: 'context', elements: [plain(m.audience)] });
  // The fallback is what notifications and clients without Block Kit (Mattermost) show.
  const fallback = [escapeMrkdwn(m.headline), m.link ? slackLink(m.link, 'Open in netwatch') : '', `\`${escapeMrkdwn(m.commands[1] ?? m.commands[0] ?? '')}\``].filter(Boolean).join('\n');
  return { text: clip(fallback, 3000), blocks, unfurl_links: false, unfurl_media: false };
}
