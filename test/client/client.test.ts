// The client library against the real service: its contract, its feed, its resilience.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './contract.js';
import './feed.js';
import './resilience.js';
