// Who is calling, as the API server reports it in an admission request. The netwatch controller is recognized by
// its username and, for a ServiceAccount, by the group the API server gives every ServiceAccount of that
// namespace: a token-file or OIDC user who merely has the same name does not carry that group.

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** `system:serviceaccounts:NS` for a ServiceAccount username, undefined for any other user. */
export function serviceAccountGroupOf(username: string): string | undefined {
  const m = SERVICE_ACCOUNT.exec(username);
  return m ? `system:serviceaccounts:${m[1]}` : undefined;
}

export function isUser(user: UserInfo, username: string): boolean {
  if (!username || user.username !== username) return false;
  const group = serviceAccountGroupOf(username);
  return group === undefined || (user.groups ?? []).includes(group);
}
