// The service behind browsers and proxies: CORS and trusted proxy headers.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './cors.js';
import './trust-proxy.js';
