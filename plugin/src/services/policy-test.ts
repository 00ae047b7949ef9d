// `kubectl netwatch policy test POLICIES.yaml REQUESTS.yaml`: AccessPolicies evaluated against AccessRequests
// offline, by the same code the webhook enforces with (lib/domain/access-policy.ts), so namespace owners can review
// a rule change in CI before it is applied. Services in either file supply the labels rules may select by.
import { POLICY_KIND, type AccessPolicy } from '../../../lib/api/accesspolicy.ts';
import { KIND, type AccessRequest, type PartName } from '../../../lib/api/accessrequest.ts';
import { describeApproval, evaluateParts, policyErrors, ruleId } from '../../../lib/domain/access-policy.ts';
import { formatFieldErrors } from '../../../lib/domain/field-error.ts';
import { inert } from '../../../lib/text/inert.ts';
import { table } from './format.ts';
import { UserError } from '../errors.ts';

export interface PolicyTestRow {
  request: string;
  part: PartName;
  namespace: string;
  /** refused (a refusing rule, a limit, the reason pattern), auto, approvers (N), or default (no rule sets approvals). */
  decision: 'refused' | 'auto' | 'approvers' | 'default';
  approvals?: number;
  detail: string;
  rules: string[];
}

interface Doc {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  items?: Doc[];
}

/** The objects of parsed YAML documents, lists (`kind: List`, `…List`) flattened. */
export function objectsOf(docs: readonly unknown[]): Doc[] {
  const out: Doc[] = [];
  const add = (d: unknown) => {
    if (!d || typeof d !== 'object') return;
    const doc = d as Doc;
    if (Array.isArray(doc.items)) doc.items.forEach(add);
    else out.push(doc);
  };
  docs.forEach(add);
  return out;
}

export function policyTest(policyDocs: readonly unknown[], requestDocs: readonly unknown[]): PolicyTestRow[] {
  const all = [...objectsOf(policyDocs), ...objectsOf(requestDocs)];
  const policies = objectsOf(policyDocs).filter((d) => d.kind === POLICY_KIND) as unknown as AccessPolicy[];
  for (const [i, p] of policies.entries()) {
    if (!p.metadata.namespace) throw new UserError(`AccessPolicy ${inert(p.metadata.name ?? `#${i + 1}`)} has no metadata.namespace: a policy governs the namespace it lives in`, 'add metadata.namespace to it');
    if (!Array.isArray(p.spec?.rules)) throw new UserError(`AccessPolicy ${inert(p.metadata.namespace)}/${inert(p.metadata.name ?? '')}: spec.rules must be a list`);
  }
  if (policies.length === 0) throw new UserError('the policy file holds no AccessPolicy', 'give a file of kind: AccessPolicy objects (several YAML documents, or a List)');
  const requests = objectsOf(requestDocs).filter((d) => d.kind === KIND) as unknown as AccessRequest[];
  if (requests.length === 0) throw new UserError('the requests file holds no AccessRequest', 'give a file of kind: AccessRequest objects, e.g. from kubectl netwatch request … --dry-run');
  const labels = new Map(all.filter((d) => d.kind === 'Service').map((d) => [`${d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''}`, d.metadata?.labels ?? {}]));
  const rows: PolicyTestRow[] = [];
  for (const [i, r] of requests.entries()) {
    const name = r.metadata?.name ?? r.metadata?.generateName ?? `#${i + 1}`;
    if (!r.spec || typeof r.spec !== 'object') throw new UserError(`AccessRequest ${inert(name)}: spec is required`);
    const outcomes = evaluateParts(r.spec, policies, (ns, svc) => labels.get(`${ns}/${svc}`));
    for (const o of outcomes) {
      const errors = policyErrors(r.spec, [o]);
      const a = o.approval;
      rows.push({
        request: name,
        part: o.part,
        namespace: o.namespace,
        decision: errors.length > 0 ? 'refused' : a.kind === 'count' ? 'approvers' : a.kind,
        ...(a.kind === 'count' ? { approvals: a.count } : {}),
        detail: errors.length > 0 ? formatFieldErrors(errors) : describeApproval(a) + (o.maxDuration ? `; max duration ${o.maxDuration.text}` : ''),
        rules: o.matched.map(ruleId),
      });
    }
  }
  return rows;
}

export function renderPolicyTest(rows: readonly PolicyTestRow[]): string {
  return table(
    ['REQUEST', 'PART', 'NAMESPACE', 'DECISION', 'RULES', 'DETAIL'],
    rows.map((r) => [inert(r.request), r.part, inert(r.namespace), r.decision === 'approvers' ? `approvers(${r.approvals})` : r.decision, r.rules.map((x) => inert(x)).join(',') || '-', inert(r.detail)]),
  );
}
