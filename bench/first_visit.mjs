// What a first visit to a page really downloads: opens it in Chromium (Debian's, through Playwright),
// waits until it has hydrated, and prints every /pkg/ file the browser fetched, one per line. With the
// WASM split into lazily loaded pieces, only a browser knows which pieces a page pulls in.
//   node bench/first_visit.mjs http://127.0.0.1:3910/login
import { chromium } from '../end2end/node_modules/playwright/index.mjs';

const url = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const page = await browser.newPage();
const fetched = new Set();
page.on('request', (request) => {
  const path = new URL(request.url()).pathname;
  if (path.startsWith('/pkg/')) fetched.add(path);
});
await page.goto(url);
await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
await page.waitForLoadState('networkidle');
console.log([...fetched].sort().join('\n'));
await browser.close();
