/// <reference types="vitest/config" />
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The gateway that `npm run dev` and `npm run preview` forward /api to. The browser's Host is
// kept (changeOrigin: false): the gateway checks that a POST's Origin is its Host's, and serves
// loopback names (localhost:5173) by default, but not `gateway:8080`.
const gateway = process.env.RAGIS_GATEWAY_URL ?? 'http://127.0.0.1:8080';
const proxy = { '/api': { target: gateway, changeOrigin: false } };

export default defineConfig({
  plugins: [svelte()],
  server: { port: 5173, strictPort: true, proxy },
  preview: { port: 4173, proxy },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
