import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Two pages from one build: the console (index.html) and GraphiQL
// (playground.html). Both load only files from this server.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // Keep the HTML free of inline scripts so the CSP can say script-src 'self'.
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: { index: 'index.html', playground: 'playground.html' },
    },
  },
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:8080', ws: true } } },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
});
