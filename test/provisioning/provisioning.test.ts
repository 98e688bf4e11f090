// Provisioning: its pieces, the service's provisioning, and `npm run provision`.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './units.js';
import './provision.js';
import './script.js';
