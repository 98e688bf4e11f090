// Writing documents over HTTP: one at a time, in bulk, with attachments.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './documents.js';
import './bulk.js';
import './attachments.js';
