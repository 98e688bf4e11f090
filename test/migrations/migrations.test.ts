// Design-document migrations over a fleet: the command, the documents, failures, the plugin, resuming.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './cli.js';
import './design-docs.js';
import './failure.js';
import './plugin.js';
import './resume.js';
