// The proving-key cache: IndexedDB, one entry per circuit digest, holding the key file the wasm
// prover writes (`Prover.keyFile()`: the digest, the payload's length and SHA-256, then the key).
// This module only stores and fetches bytes; the prover checks them before use.
//
// Storage may be missing (private windows of some browsers, a blocked origin) or full (a key is
// tens of megabytes): every function here resolves, to null or false, rather than throwing, and
// says why on the console. The page then generates keys as it would without a cache.

const DB = 'section9';
const STORE = 'proving-keys';

let opening;

/// The database, or null where IndexedDB cannot be used.
function open() {
  opening ??= new Promise((resolve) => {
    if (typeof indexedDB === 'undefined') {
      console.warn('proving-key cache: no IndexedDB here; keys are generated every session');
      resolve(null);
      return;
    }
    let request;
    try {
      request = indexedDB.open(DB, 1);
    } catch (e) {
      console.warn(`proving-key cache: IndexedDB refused (${e?.name ?? e}); keys are generated every session`);
      resolve(null);
      return;
    }
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => {
      console.warn(`proving-key cache: IndexedDB cannot be opened (${request.error?.name}); keys are generated every session`);
      resolve(null);
    };
    request.onblocked = () => resolve(null);
  });
  return opening;
}

/// Runs one request in a transaction of its own; resolves to its result once the transaction
/// has committed (null on any failure, reported with `what`).
async function run(mode, what, makeRequest) {
  const db = await open();
  if (!db) return null;
  return new Promise((resolve) => {
    let result = null;
    const fail = (error) => {
      console.warn(`proving-key cache: cannot ${what} (${error?.name ?? error}: ${error?.message ?? ''})`);
      resolve(null);
    };
    try {
      const tx = db.transaction(STORE, mode);
      const request = makeRequest(tx.objectStore(STORE));
      request.onsuccess = () => { result = request.result; };
      tx.oncomplete = () => resolve(result ?? null);
      tx.onabort = () => fail(tx.error ?? request.error);
    } catch (e) {
      fail(e);
    }
  });
}

/// Whether this browser lets the page keep a key at all (a full quota shows only on writing).
export async function available() {
  return (await open()) !== null;
}

/// The key file cached for `digest`, or null.
export async function get(digest) {
  const entry = await run('readonly', 'read the cached proving key', (store) => store.get(digest));
  if (entry === null || entry?.bytes instanceof Uint8Array) return entry?.bytes ?? null;
  console.warn('proving-key cache: the entry holds no key file; discarding it');
  return null;
}

/// Caches a key file under `digest`; true once it is stored. A refused write (quota) removes any
/// older entry for `digest`, which the prover has just refused anyway.
export async function put(digest, bytes) {
  const stored = await run('readwrite', `store the proving key (${bytes.length} bytes)`, (store) =>
    store.put({ digest, bytes, savedAt: new Date().toISOString() }, digest),
  );
  if (stored === null) await remove(digest);
  return stored !== null;
}

/// Drops the entry for `digest`.
export async function remove(digest) {
  await run('readwrite', 'drop the cached proving key', (store) => store.delete(digest));
}
