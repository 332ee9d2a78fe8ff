// Bytes a visitor downloads before clicking Connect: the entry chunk and everything it
// imports statically (per Vite's manifest), gzipped. Lazily imported chunks (the wallet:
// viem, mipd) are listed separately. Fails (exit 1) above the 60 KB budget.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const dist = new URL("../dist/", import.meta.url).pathname;
const manifestPath = join(dist, ".vite", "manifest.json");
if (!existsSync(manifestPath)) {
  console.error("dist/.vite/manifest.json missing: run `npm run build` first");
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const BUDGET = 60 * 1024;
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

const initial = new Set();
const css = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  (chunk.css ?? []).forEach((c) => css.add(c));
  (chunk.imports ?? []).forEach(visit);
};
Object.entries(manifest).filter(([, c]) => c.isEntry).forEach(([k]) => visit(k));

const lazy = new Set(
  Object.values(manifest)
    .map((c) => c.file)
    .filter((f) => f.endsWith(".js") && !initial.has(f)),
);

let total = 0;
console.log("Initial JavaScript (before Connect):");
// The inline script in index.html (starts the route's API requests early).
const html = readFileSync(join(dist, "index.html"), "utf8");
const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join("\n");
if (inline.trim()) {
  const n = gzipSync(Buffer.from(inline), { level: 9 }).length;
  total += n;
  console.log(`  ${"index.html inline script".padEnd(40)} ${kb(n).padStart(9)} gz`);
}
for (const f of initial) {
  const n = gz(f);
  total += n;
  console.log(`  ${f.padEnd(40)} ${kb(n).padStart(9)} gz`);
}
console.log(`  ${"total".padEnd(40)} ${kb(total).padStart(9)} gz  (budget ${kb(BUDGET)})`);
let cssTotal = 0;
for (const f of css) cssTotal += gz(f);
console.log(`Initial CSS: ${kb(cssTotal)} gz`);
let lazyTotal = 0;
console.log("Lazy chunks (loaded on Connect / Claim / Save):");
for (const f of lazy) {
  const n = gz(f);
  lazyTotal += n;
  console.log(`  ${f.padEnd(40)} ${kb(n).padStart(9)} gz`);
}
console.log(`  ${"total".padEnd(40)} ${kb(lazyTotal).padStart(9)} gz`);
if (total > BUDGET) {
  console.error(`Over budget: ${kb(total)} > ${kb(BUDGET)}`);
  process.exit(1);
}
