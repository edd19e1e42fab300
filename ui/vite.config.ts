// Builds the dashboard into ui/dist; the daemon serves it. `vite --config ui/vite.config.ts`
// runs a dev server that proxies the API to a daemon on 127.0.0.1:9090.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: { outDir: fileURLToPath(new URL('./dist', import.meta.url)), emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': 'http://127.0.0.1:9090',
      '/health': 'http://127.0.0.1:9090',
      '/login': 'http://127.0.0.1:9090',
    },
  },
});
