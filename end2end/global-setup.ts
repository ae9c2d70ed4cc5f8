// The server starts at the same moment as the tests (scripts/browser-tests.sh, `cargo leptos end-to-end`):
// wait until it answers.
export default async function globalSetup() {
  const base = process.env.BASE_URL ?? "http://localhost:3000";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/login`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server at ${base} did not answer within 60 s`);
}
