// GraphiQL for the gateway's own endpoint. The page that loads this bundle says
// where the endpoint and the Monaco workers are and what to show first, in a
// JSON script element, so this file holds no URLs and needs no rebuild when
// the gateway's defaults change.
import { explorerPlugin } from '@graphiql/plugin-explorer';
import '@graphiql/plugin-explorer/style.css';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import 'graphiql/style.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { headerSafeStorage, persistHeadersChosen } from './storage.js';

const config = JSON.parse(document.getElementById('graphiql-config').textContent);

// Monaco asks for a worker per language; every one is a file the gateway
// serves, so nothing is fetched from elsewhere or built from a blob.
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const url = config.workers[label] ?? config.workers.editor;
    return new Worker(url, { name: label });
  },
};

async function fetcher(params, options) {
  const response = await fetch(config.endpoint, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      Accept: 'application/graphql-response+json, application/json;q=0.9',
      'Content-Type': 'application/json',
      ...options?.headers,
    },
    body: JSON.stringify(params),
  });
  const type = response.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) {
    // A body limit or a proxy answers in plain text: show it as an error.
    const text = await response.text();
    return { errors: [{ message: `${response.status} ${response.statusText}: ${text}` }] };
  }
  return response.json();
}

const storage = headerSafeStorage(window.localStorage, config.headers);

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    plugins: [HISTORY_PLUGIN, explorerPlugin()],
    defaultQuery: config.query,
    defaultHeaders: config.headers,
    storage,
    // GraphiQL reads the user's stored choice only when this prop is true, and
    // treats true as the default when nothing is stored: pass the choice itself.
    shouldPersistHeaders: persistHeadersChosen(window.localStorage),
    showPersistHeadersSettings: true,
  }),
);
