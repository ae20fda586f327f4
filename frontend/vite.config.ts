/// <reference types="vitest/config" />
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

// One entry per page island: every file in src/entries/ becomes a bundle that a
// Django template loads with {% vite_asset 'src/entries/<name>.tsx' %}.
const entriesDir = resolve(import.meta.dirname, "src/entries");
const input = Object.fromEntries(
  readdirSync(entriesDir)
    .filter((name) => /\.(ts|tsx)$/.test(name))
    .map((name) => [name.replace(/\.(ts|tsx)$/, ""), resolve(entriesDir, name)]),
);

export default defineConfig({
  plugins: [react(), tailwindcss()],
  base: "/static/dist/",
  build: {
    outDir: resolve(import.meta.dirname, "../static/dist"),
    emptyOutDir: false,
    manifest: "manifest.json",
    rollupOptions: { input },
  },
  worker: { format: "es" },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
