// GraphiQL keeps its state in localStorage. It leaves request headers out of the
// tab state unless "Persist headers" is on, but its history plugin stores every
// run's headers, so pasted tokens would outlive the page. This storage is handed
// to GraphiQL instead of localStorage and lets no headers through until the user
// turns persistence on in GraphiQL's settings dialog.

const PERSIST_KEY = 'graphiql:shouldPersistHeaders';
const HEADERS_KEY = 'graphiql:headers';
const TABS_KEY = 'graphiql:tabState';
const HISTORY_KEYS = ['graphiql:queries', 'graphiql:favorites'];
const NAMESPACE = 'graphiql:';

export function persistHeadersChosen(backing) {
  return backing.getItem(PERSIST_KEY) === 'true';
}

/**
 * `value` as it may be stored while headers are not persisted: null means
 * "store nothing under this key".
 */
export function withoutHeaders(key, value, defaultHeaders) {
  if (key === HEADERS_KEY) {
    return null;
  }
  if (key !== TABS_KEY && !HISTORY_KEYS.includes(key)) {
    return value;
  }
  let parsed;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (key === TABS_KEY) {
    for (const tab of parsed?.tabs ?? []) {
      tab.headers = null;
    }
  } else {
    // A history item brings its headers back into the editor when clicked: the
    // page's defaults (no secrets, they are in the page) are the safe stand-in.
    const name = key.slice(NAMESPACE.length);
    for (const item of parsed?.[name] ?? []) {
      item.headers = defaultHeaders;
    }
  }
  return JSON.stringify(parsed);
}

export function headerSafeStorage(backing, defaultHeaders) {
  // The latest value written under each key, as GraphiQL meant it, so that
  // turning persistence on stores what GraphiQL wrote just before it.
  const withheld = new Map();

  function put(key, value) {
    if (value === null) {
      backing.removeItem(key);
    } else {
      backing.setItem(key, value);
    }
  }

  function scrubStored() {
    for (const key of [HEADERS_KEY, TABS_KEY, ...HISTORY_KEYS]) {
      const value = backing.getItem(key);
      if (value !== null) {
        put(key, withoutHeaders(key, value, defaultHeaders));
      }
    }
  }

  function namespacedKeys() {
    const keys = [];
    for (let index = 0; index < backing.length; index++) {
      const key = backing.key(index);
      if (key !== null && key.startsWith(NAMESPACE)) {
        keys.push(key);
      }
    }
    return keys;
  }

  if (!persistHeadersChosen(backing)) {
    // Headers stored by an earlier GraphiQL on this origin, or before the user
    // turned persistence off in another window.
    scrubStored();
  }

  return {
    getItem(key) {
      return backing.getItem(key);
    },
    setItem(key, value) {
      if (key === PERSIST_KEY) {
        backing.setItem(key, value);
        if (value === 'true') {
          for (const [withheldKey, original] of withheld) {
            backing.setItem(withheldKey, original);
          }
        } else {
          scrubStored();
        }
        withheld.clear();
        return;
      }
      if (persistHeadersChosen(backing)) {
        backing.setItem(key, value);
        return;
      }
      const safe = withoutHeaders(key, value, defaultHeaders);
      if (safe !== value) {
        withheld.set(key, value);
      }
      put(key, safe);
    },
    removeItem(key) {
      withheld.delete(key);
      backing.removeItem(key);
    },
    clear() {
      withheld.clear();
      for (const key of namespacedKeys()) {
        backing.removeItem(key);
      }
    },
    get length() {
      return namespacedKeys().length;
    },
  };
}
