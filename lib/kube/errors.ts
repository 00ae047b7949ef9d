// The one error every netwatch component gets from the Kubernetes API (lib/kube/transport.ts throws it): what the
// API server answered (its HTTP status and the Status object's reason, message and details), or, with status 0,
// why no answer came.

/** Status.details of an API error (which object, which fields). */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

/** Reasons of the errors without an answer (status 0). */
export const NO_ANSWER = {
  /** The kubeconfig's credentials could not be loaded (a credential plugin failed, a file is missing). */
  credentials: 'CredentialsUnavailable',
  /** No connection, or it broke before the answer was complete. */
  unreachable: 'Unreachable',
  /** No complete answer within the transport's timeout. */
  timeout: 'Timeout',
} as const;

/** An API error: `status` is the HTTP status (0: no answer), `reason` the Status reason (AlreadyExists and Conflict are both 409). */
export class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'KubeError';
  }
}

// The API server's reasons for statuses it answers without a Status object of its own (or through a proxy that
// does not speak Status): the same as client-go gives such answers.
const REASON_OF_STATUS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The error for a non-2xx answer: the Status object in `text` when there is one, else what the text says. */
export function kubeErrorOf(status: number, text: string): KubeError {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    return errorOfStatus(status, undefined, text.trim().slice(0, 500));
  }
  return errorOfStatus(status, parsed, '');
}

/** The error a watch ends with when the API server sends an ERROR event (its object is a Status). */
export function kubeErrorOfEvent(object: unknown): KubeError {
  const code = (object as { code?: unknown } | null)?.code;
  return errorOfStatus(typeof code === 'number' ? code : 500, object, '');
}

function errorOfStatus(status: number, object: unknown, text: string): KubeError {
  const s = (object && typeof object === 'object' ? object : {}) as { reason?: unknown; message?: unknown; details?: unknown };
  const reason = typeof s.reason === 'string' && s.reason ? s.reason : (REASON_OF_STATUS[status] ?? String(status));
  const message = typeof s.message === 'string' && s.message ? s.message : text || `the API server answered ${status}`;
  const details = s.details && typeof s.details === 'object' ? (s.details as StatusDetails) : undefined;
  return new KubeError(status, reason, message, details);
}

const status = (e: unknown): number | undefined => (e instanceof KubeError ? e.status : undefined);

export const isNotFound = (e: unknown): boolean => status(e) === 404;
export const isAlreadyExists = (e: unknown): boolean => status(e) === 409 && (e as KubeError).reason === 'AlreadyExists';
export const isConflict = (e: unknown): boolean => status(e) === 409 && (e as KubeError).reason !== 'AlreadyExists';
/** Races that mean "look again": a quiet requeue, not an error. */
export const isRace = (e: unknown): boolean => isNotFound(e) || isAlreadyExists(e) || isConflict(e);
/** The caller may not do this (403), or its credentials were refused (401). */
export const isForbidden = (e: unknown): boolean => status(e) === 403 || status(e) === 401;
/** The resourceVersion a list continues from, or a watch starts at, is too old (410 Gone, reason Expired). */
export const isExpired = (e: unknown): boolean => status(e) === 410;
