// A real Chromium for end-to-end suites of the web UI, and the sign-in through the test identity provider
// (scripts/idp.ts) as a user does it.
import { chromium, type Browser, type Page } from 'playwright-core';

/** Chromium trusting exactly the test serving certificate (`spki`, for the IdP and the web UI), nothing else. */
export function launchChromium(spki: string): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
  });
}

/**
 * Waits for a URL; on timeout the error carries the page's alert text, and `onFail` (a screenshot) runs first.
 */
export async function expectUrl(page: Page, url: string | RegExp, what: string, onFail?: () => Promise<void>): Promise<void> {
  try {
    await page.waitForURL(url, { timeout: 20_000 });
  } catch (err) {
    await onFail?.();
    const alert = await page.locator('[role=alert]').allTextContents().catch(() => []);
    throw new Error(`${what}: still at ${page.url()} (${alert.join(' | ')}): ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/** Signs `account` (password `demo`) in to the web UI at `base` through the test IdP, consenting the first time. */
export async function signIn(page: Page, base: string, account: string, onFail?: () => Promise<void>): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.locator('input[name=login]').fill(account);
  await page.locator('input[name=password]').fill('demo');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  // The provider asks for consent the first time.
  await page.waitForURL((u) => u.href.startsWith(base) || u.pathname.includes('/interaction/'));
  if (!page.url().startsWith(base)) {
    const consent = page.getByRole('button', { name: 'Continue' });
    if (await consent.isVisible().catch(() => false)) await consent.click();
  }
  await expectUrl(page, `${base}/`, `sign-in-${account}`, onFail);
}
