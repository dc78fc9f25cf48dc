import type { Browser } from 'playwright-core';

/** Chromium for browser tests and screenshots (Debian's by default). */
export const CHROMIUM = process.env.PLEXUS_CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium (playwright-core is loaded only when a browser is wanted). WebGL runs
 * on SwiftShader, Chromium's CPU renderer, so the 3D world renders without a GPU.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--ignore-gpu-blocklist',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
