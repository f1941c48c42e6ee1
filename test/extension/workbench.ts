/**
 * Driving VS Code's workbench (code-server in chromium) the way a user
 * does: the command palette, quick inputs, the Explorer, the terminal
 * (DOM renderer: terminal.integrated.gpuAcceleration "off") and editors.
 */
import type { Page } from 'playwright-core';

/**
 * F1, the command's title, a click on its row: as a user runs a command. Extensions'
 * commands appear once the extension host has scanned them: until then the
 * palette is closed and opened again.
 */
export async function runCommand(page: Page, title: string, timeout = 60_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    const found = await row.waitFor({ state: 'visible', timeout: 3000 }).then(
      () => true,
      () => false,
    );
    if (found) {
      // The row itself: Enter would run the palette's first pick, which may be another command (a recently used one).
      await row.click();
      return;
    }
    if (Date.now() > deadline) throw new Error(`the command palette never offered "${title}"`);
  }
}

/** Waits until the window shows a folder whose (decoded) URI matches. */
export async function waitForFolder(page: Page, pattern: RegExp, timeout: number): Promise<string> {
  await page.waitForURL((url) => pattern.test(url.searchParams.get('folder') ?? ''), { timeout });
  return new URL(page.url()).searchParams.get('folder') ?? '';
}

/**
 * Types into the quick input that a command opened (an input box), then Enter, and waits until
 * that box is gone (closed, or replaced by the next one): a next answer must not land in it.
 */
export async function answerInput(page: Page, text: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(text);
  await page.keyboard.press('Enter');
  const widget = page.locator('.quick-input-widget');
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if (!(await widget.isVisible()) || (await input.inputValue().catch(() => '')) !== text) return;
    await page.waitForTimeout(50);
  }
}

/** Waits until the Explorer lists an entry with this name. */
export async function explorerItem(page: Page, name: string, timeout = 60_000): Promise<void> {
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout });
}

/** The text of the visible terminal's rows. */
export async function terminalText(page: Page): Promise<string> {
  const rows = page.locator('.xterm-rows >> visible=true').last();
  return (await rows.innerText().catch(() => '')).replace(/\u00a0/g, ' ');
}

export async function waitForTerminalText(page: Page, pattern: RegExp, timeout = 60_000): Promise<string> {
  const deadline = Date.now() + timeout;
  let text = '';
  while (Date.now() < deadline) {
    text = await terminalText(page);
    if (pattern.test(text)) return text;
    await page.waitForTimeout(250);
  }
  throw new Error(`the terminal never showed ${String(pattern)}; it shows:\n${text}`);
}

/** The text of the notification toasts (empty when none). */
export async function notificationsText(page: Page): Promise<string> {
  return page
    .locator('.notifications-toasts')
    .innerText()
    .catch(() => '');
}

/**
 * Opens a file by clicking it in the Explorer (Quick Open searches files
 * with a search provider, which a berth-container folder has not).
 */
export async function openFromExplorer(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().click();
  await page.locator(`.tabs-container .tab[aria-label*="${name}"]`).first().waitFor({ state: 'visible' });
}

/** Waits for an item of the open quick pick with this text (its items may load late), then picks it. */
export async function pickQuickItem(page: Page, text: string, timeout = 60_000): Promise<void> {
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout });
  await row.click();
}
