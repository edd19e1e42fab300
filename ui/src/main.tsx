import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { createLiveStore } from './live.js';
import './styles.css';

const live = createLiveStore();
live.start();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App live={live} />
    </StrictMode>,
  );
}
