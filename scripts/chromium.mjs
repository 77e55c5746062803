// A Chromium already installed, driven by playwright-core (no browser download): the browser tests' and the
// benchmark's. CHROMIUM_PATH chooses it; otherwise the usual places, Debian's first (CI installs that one).
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const USUAL = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || USUAL.find((p) => existsSync(p)) || USUAL[0];

/** Why the browser tests cannot run here, or undefined when they can. */
export const NO_CHROMIUM = existsSync(CHROMIUM_PATH)
  ? undefined
  : `no Chromium at ${CHROMIUM_PATH}: install one (Debian: apt-get install chromium) or set CHROMIUM_PATH`;

/** The flags every launch gets, and CHROMIUM_FLAGS (space-separated) after them: e.g. `--js-flags=--no-liftoff`. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  ...(process.env.CHROMIUM_FLAGS?.split(' ').filter(Boolean) ?? []),
];

export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
