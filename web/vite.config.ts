import { defineConfig } from "vitest/config";

// Relative asset paths: the service mounts the built folder at `/`, and the same files
// work from any prefix because routing is hash-based (#/, #/miner/0x…).
export default defineConfig({
  base: "./",
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // scripts/size.mjs reads the manifest to tell the initial chunks from the lazy ones.
    manifest: true,
  },
  server: {
    proxy: { "/v1": "http://127.0.0.1:8000" },
  },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
  },
});
