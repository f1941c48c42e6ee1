// Debian's chromium, driven headless by playwright-core, for the dashboard and extension tests.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

/** Launches Debian's chromium headless; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: scripts/setup installs Debian's chromium`);
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/**
 * page.goto, again when chromium dropped the navigation because a network
 * interface came or went (net::ERR_NETWORK_CHANGED): suites running beside
 * this one make and remove veths and bridges all the time. Playwright reports
 * that either as the error itself or as the navigation being interrupted by
 * another: chromium's error page (chrome-error://chromewebdata/), or its own
 * reload of the page once the network settled.
 */
export async function gotoPage(page: Page, url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      return;
    } catch (err) {
      const message = String((err as Error).message);
      // Three were not always enough while the other suites' containers came and went (a CI run on 2026-11-30).
      if (attempt >= 8 || !(message.includes("ERR_NETWORK_CHANGED") || message.includes("is interrupted by another navigation"))) throw err;
      // Chromium reloads a page that failed when the network changed: let that navigation end first.
      await page.waitForLoadState("load").catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}
