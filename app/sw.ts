/**
 * The service worker: the app's files are kept in a cache named for the build, so after one
 * visit with a network the app opens, reloads and works with none. Everything else (sign-in,
 * /sync) goes to the network untouched: the Sawa client handles being offline itself.
 */

declare const __VERSION__: string;
declare const __ASSETS__: string[];

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(r: Promise<Response> | Response): void;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  location: Location;
}

const scope = self as unknown as WorkerScope;
const CACHE = `sawa-app-${__VERSION__}`;
const SHELL = '/app/';

scope.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(__ASSETS__))
      .then(() => scope.skipWaiting()),
  );
});

scope.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => scope.clients.claim()),
  );
});

scope.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== scope.location.origin) return;
  if (!url.pathname.startsWith('/app/') || url.pathname === '/app/sw.js') return;
  // Any page of the app (`/app/?lang=en`, `/app/#/farmer/…`) is the one shell.
  const key = event.request.mode === 'navigate' ? SHELL : url.pathname;
  event.respondWith(
    caches.match(key, { cacheName: CACHE }).then((hit) => hit ?? fetch(event.request)),
  );
});
