// The sync rules of each document type, on both enforcers (fixtures/engines.ts).
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './common.js';
import './farmer.js';
import './visit.js';
import './payment-request.js';
import './sms-request.js';
import './status.js';
