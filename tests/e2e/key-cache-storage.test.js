// The proving-key cache (web/src/key-cache.js) where the browser test cannot take it: no
// IndexedDB at all, IndexedDB refusing to open (some private windows), a write refused for
// quota. Each must leave the page generating keys — resolve to null or false with a console
// warning — and never throw. Runs in Node against a small in-memory IndexedDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';

let fresh = 0;
/// A separate instance of the module (it keeps its open database), with `indexedDB` as given.
async function keyCache(indexedDB) {
  if (indexedDB === undefined) delete globalThis.indexedDB;
  else globalThis.indexedDB = indexedDB;
  return import(`../../web/src/key-cache.js?instance=${fresh++}`);
}

/// Records console warnings while `body` runs.
async function warnings(body) {
  const seen = [];
  const warn = console.warn;
  console.warn = (m) => seen.push(String(m));
  try {
    return { result: await body(), seen };
  } finally {
    console.warn = warn;
  }
}

/// An in-memory IndexedDB with one object store, asynchronous like the real one. Setting
/// `refusePut` to an error name makes every later put abort its transaction with that error (as
/// a full quota does).
function memoryIndexedDB() {
  const stores = new Map();
  const settings = { refusePut: null };
  const later = (f) => setTimeout(f, 0);
  const db = {
    createObjectStore: (name) => stores.set(name, new Map()),
    transaction(name, mode) {
      const data = stores.get(name);
      const tx = { error: null };
      const store = {
        get: (key) => op(() => data.get(key)),
        put(value, key) {
          if (mode !== 'readwrite') throw new Error('ReadOnlyError');
          if (settings.refusePut) return op(() => { throw Object.assign(new Error('refused'), { name: settings.refusePut }); });
          return op(() => { data.set(key, structuredClone(value)); return key; });
        },
        delete: (key) => op(() => { data.delete(key); }),
      };
      function op(f) {
        const request = {};
        later(() => {
          try {
            request.result = f();
            request.onsuccess?.();
            tx.oncomplete?.();
          } catch (e) {
            request.error = tx.error = e;
            tx.onabort?.();
          }
        });
        return request;
      }
      tx.objectStore = () => store;
      return tx;
    },
    stores,
  };
  return {
    settings,
    open() {
      const request = {};
      later(() => {
        request.result = db;
        if (!stores.size) request.onupgradeneeded?.();
        request.onsuccess?.();
      });
      return request;
    },
    db,
  };
}

const DIGEST = 'ab'.repeat(32);
const KEY = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);

test('stores and returns a key file by digest', async () => {
  const cache = await keyCache(memoryIndexedDB());
  assert.equal(await cache.available(), true);
  assert.equal(await cache.get(DIGEST), null);
  assert.equal(await cache.put(DIGEST, KEY), true);
  assert.deepEqual(await cache.get(DIGEST), KEY);
  assert.equal(await cache.get('cd'.repeat(32)), null);
});

test('an entry without key bytes is a miss, with a warning', async () => {
  const idb = memoryIndexedDB();
  const cache = await keyCache(idb);
  await cache.put(DIGEST, KEY);
  idb.db.stores.get('proving-keys').set(DIGEST, { digest: DIGEST, bytes: 'not bytes' });
  const { result, seen } = await warnings(() => cache.get(DIGEST));
  assert.equal(result, null);
  assert.match(seen.join('\n'), /holds no key file/);
});

test('without IndexedDB: misses and refused writes, no exception', async () => {
  const cache = await keyCache(undefined);
  const { result, seen } = await warnings(async () => [await cache.available(), await cache.get(DIGEST), await cache.put(DIGEST, KEY)]);
  assert.deepEqual(result, [false, null, false]);
  assert.match(seen.join('\n'), /no IndexedDB here/);
});

test('IndexedDB that refuses to open (a private window): misses, no exception', async () => {
  const cache = await keyCache({ open() { throw Object.assign(new Error('denied'), { name: 'SecurityError' }); } });
  const { result, seen } = await warnings(async () => [await cache.available(), await cache.get(DIGEST), await cache.put(DIGEST, KEY)]);
  assert.deepEqual(result, [false, null, false]);
  assert.match(seen.join('\n'), /IndexedDB refused \(SecurityError\)/);
});

test('a write refused for quota is false, and drops the older entry for that digest', async () => {
  const idb = memoryIndexedDB();
  const cache = await keyCache(idb);
  await cache.put(DIGEST, KEY);
  idb.settings.refusePut = 'QuotaExceededError'; // the origin ran out of quota since
  const { result, seen } = await warnings(() => cache.put(DIGEST, KEY));
  assert.equal(result, false);
  assert.match(seen.join('\n'), /cannot store the proving key \(1000 bytes\) \(QuotaExceededError/);
  assert.equal(idb.db.stores.get('proving-keys').has(DIGEST), false, 'the older entry is dropped');
  assert.equal(await cache.get(DIGEST), null);
});
