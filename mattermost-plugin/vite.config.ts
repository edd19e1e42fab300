/**
 * Builds the webapp bundle Mattermost loads: one IIFE file that registers the plugin. React and
 * ReactDOM are NOT bundled: the webapp provides them as `window.React` / `window.ReactDOM`, and a
 * second copy of React would break hooks. JSX uses the classic `React.createElement` transform so
 * nothing needs `react/jsx-runtime` (which the host does not expose).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  logLevel: 'warn',
  publicDir: false,
  esbuild: { jsx: 'transform', jsxFactory: 'React.createElement', jsxFragment: 'React.Fragment' },
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: path.join(here, 'dist/webapp'),
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: false,
    lib: {
      entry: path.join(here, 'src/index.tsx'),
      formats: ['iife'],
      name: 'ClawpulseLivestatusPlugin',
      fileName: () => 'main.js',
    },
    rollupOptions: {
      external: ['react', 'react-dom'],
      output: { globals: { react: 'React', 'react-dom': 'ReactDOM' } },
    },
  },
});
